import { z } from 'zod';
import { approvalsConfigSchema, DEFAULT_APPROVALS } from './approvals-config.ts';

export const DATABASE_TYPES = ['postgres', 'mysql', 'sqlite', 'mongodb'] as const;
export type DatabaseType = (typeof DATABASE_TYPES)[number];

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/i, { error: 'expected letters, digits, "_" or "-" (at most 63)' });

/** How a masked column is shown: dropped, replaced by `•••`, or replaced by a short keyed hash (joins and counts still read). */
export const MASK_MODES = ['hide', 'redact', 'hash'] as const;
export type MaskMode = (typeof MASK_MODES)[number];

/** Who sees a connection's results: the channel, only the asker, or the asker when the channel is public or shared. */
export const VISIBILITIES = ['channel', 'requester', 'auto'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

const MASK_PATTERN = /^[^.\s]+(\.[^.\s]+)+$/;
const maskPattern = z.string().regex(MASK_PATTERN, {
  error: 'expected "table.column" (or "schema.table.column"; "*" matches any part of a name)',
});

/** `customers.email` or `{column: customers.email, mode: hide}`; both become `{column, mode}` (mode default redact). */
const maskedColumnSchema = z.union(
  [
    maskPattern.transform((column) => ({ column, mode: 'redact' as MaskMode })),
    z
      .object({
        column: maskPattern,
        mode: z
          .enum(MASK_MODES, {
            error: (issue) => `expected ${MASK_MODES.join(' | ')}, got ${JSON.stringify(issue.input)}`,
          })
          .default('redact'),
      })
      .strict(),
  ],
  { error: 'expected "table.column" or {column: "table.column", mode: hide | redact | hash}' },
);

/** Ids per platform (user ids, Slack user-group ids, Discord role ids), as `approvers:` lists them. */
const accessSchema = z
  .object({
    slack: z.array(z.string().min(1)).default([]),
    discord: z.array(z.string().min(1)).default([]),
    shell: z.array(z.string().min(1)).default([]),
  })
  .strict();

const connectionSchema = z
  .object({
    name,
    type: z.enum(DATABASE_TYPES, {
      error: (issue) => `expected ${DATABASE_TYPES.join(' | ')}, got ${JSON.stringify(issue.input)}`,
    }),
    // The URL carries credentials: error messages describe it, never echo it.
    url: z
      .string({ error: 'expected a connection URL (or a path for sqlite)' })
      .min(1, { error: 'must not be empty' }),
    // A scratch database migrations are verified on (threadql wipes and rebuilds it), like Atlas's dev database.
    shadow: z
      .string({ error: 'expected a connection URL (or a path for sqlite) of an empty scratch database' })
      .min(1, { error: 'must not be empty' })
      .optional(),
    channels: z.array(z.string().min(1)).default(['*']),
    default: z.boolean().default(false),
    description: z.string().optional(),
    maskedColumns: z.array(maskedColumnSchema).default([]),
    /** Who may ask (reads), on top of the channel binding; absent = everyone in the bound channels. */
    access: accessSchema.optional(),
    /** Where results go; absent = `channel`. */
    visibility: z
      .enum(VISIBILITIES, {
        error: (issue) => `expected ${VISIBILITIES.join(' | ')}, got ${JSON.stringify(issue.input)}`,
      })
      .optional(),
    /** Holds data that must not reach public or shared channels (with `visibility: auto`, and for schedules). */
    sensitive: z.boolean().optional(),
  })
  .strict();

const limitsSchema = z
  .object({
    maxRows: z.number().int().min(1).max(1_000_000).default(5000),
    previewRows: z.number().int().min(1).max(100).default(20),
    statementTimeoutMs: z.number().int().min(100).max(600_000).default(15_000),
    csvMaxBytes: z
      .number()
      .int()
      .min(1024)
      .default(50 * 1024 * 1024),
    confirmTtlSeconds: z
      .number()
      .int()
      .min(30)
      .default(15 * 60),
    schemaCacheTtlSeconds: z.number().int().min(0).default(3600),
    // History keeps at most 20,000 characters of user input: longer input could not be recorded.
    /** Longest question (characters) sent to Claude; longer ones are refused before any call. */
    questionChars: z.number().int().min(100).max(20_000).default(4000),
    /** Longest pasted SQL (characters); longer statements are refused before they are classified. */
    sqlChars: z.number().int().min(100).max(20_000).default(20_000),
  })
  .strict();

const llmSchema = z
  .object({
    /** One overall time budget per question for Claude, across retries and repair rounds. */
    turnBudgetMs: z.number().int().min(1000).max(600_000).default(90_000),
  })
  .strict();

const shutdownSchema = z
  .object({
    /** How long a shutdown waits for turns in flight (after cancelling their Claude calls and queries). */
    graceMs: z.number().int().min(0).max(300_000).default(10_000),
  })
  .strict();

/** User (or user-group / role) ids per platform, as `approvers:` and `admins:` list them. */
const platformIds = z
  .object({
    slack: z.array(z.string().min(1)).default([]),
    discord: z.array(z.string().min(1)).default([]),
    shell: z.array(z.string().min(1)).default([]),
  })
  .strict()
  .default({ slack: [], discord: [], shell: [] });

const migrationsSchema = z
  .object({
    /** How long a migration statement may wait for a lock before it fails (never queueing in front of traffic). */
    lockTimeoutMs: z.number().int().min(100).max(600_000).default(5000),
    /** Time limit of each statement when a migration is applied or rolled back. */
    statementTimeoutMs: z.number().int().min(100).max(86_400_000).default(300_000),
    /** Time limit of each statement while verifying on the target inside a rolled-back transaction. */
    verifyTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
  })
  .strict();

const schedulesSchema = z
  .object({
    // Validated against the runtime's IANA zone list, so a typo fails at start-up rather than at the first tick.
    timezone: z
      .string()
      .refine(isTimeZone, { error: (issue) => `unknown IANA time zone ${JSON.stringify(issue.input)}` })
      .default('UTC'),
    maxFailures: z.number().int().min(1).max(100).default(3),
  })
  .strict();

/** True for an IANA time-zone name this runtime knows (e.g. `Europe/Berlin`, `UTC`). */
export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

export const configFileSchema = z
  .object({
    connections: z.array(connectionSchema).default([]),
    approvers: platformIds,
    admins: platformIds,
    approvals: approvalsConfigSchema.default(DEFAULT_APPROVALS),
    limits: limitsSchema.default(limitsSchema.parse({})),
    llm: llmSchema.default(llmSchema.parse({})),
    shutdown: shutdownSchema.default(shutdownSchema.parse({})),
    migrations: migrationsSchema.default(migrationsSchema.parse({})),
    discord: z
      .object({
        commands: z.enum(['global', 'guild', 'none']).default('global'),
        guildIds: z.array(z.string().regex(/^\d+$/)).default([]),
      })
      .strict()
      .default({ commands: 'global', guildIds: [] }),
    schedules: schedulesSchema.default(schedulesSchema.parse({})),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Map<string, number>();
    config.connections.forEach((c, i) => {
      const first = seen.get(c.name.toLowerCase());
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['connections', i, 'name'],
          message: `duplicate connection name "${c.name}" (also connections[${first}])`,
        });
      } else seen.set(c.name.toLowerCase(), i);
    });
    if (config.connections.length > 0) {
      for (const name of Object.keys(config.approvals.connections)) {
        if (!seen.has(name.toLowerCase()))
          ctx.addIssue({
            code: 'custom',
            path: ['approvals', 'connections', name],
            message: `no connection named "${name}" (connections: ${config.connections.map((c) => c.name).join(', ')})`,
          });
      }
    }
    config.connections.forEach((c, i) => {
      if (c.shadow === undefined) return;
      if (c.type === 'mongodb') {
        ctx.addIssue({
          code: 'custom',
          path: ['connections', i, 'shadow'],
          message: 'migrations (and their shadow database) are for SQL connections only',
        });
      } else if (c.shadow.trim() === c.url.trim()) {
        ctx.addIssue({
          code: 'custom',
          path: ['connections', i, 'shadow'],
          message: 'the shadow database must not be the connection itself (threadql wipes the shadow)',
        });
      }
    });
    const defaults = config.connections.filter((c) => c.default);
    if (defaults.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['connections'],
        message: 'at most one connection may be default: true',
      });
    }
  });

export type ConfigFile = z.infer<typeof configFileSchema>;
export type ConnectionConfig = ConfigFile['connections'][number];
export type MaskedColumnConfig = ConnectionConfig['maskedColumns'][number];
export type AccessConfig = NonNullable<ConnectionConfig['access']>;
export type Limits = ConfigFile['limits'];
export type MigrationSettings = ConfigFile['migrations'];
export type SchedulesConfig = ConfigFile['schedules'];
