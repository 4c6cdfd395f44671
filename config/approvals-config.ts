import { z } from 'zod';

/** What a required-count rule may be keyed on: a statement class, or a migration. */
export const APPROVAL_CLASSES = ['write', 'ddl', 'other', 'migration'] as const;
export type ApprovalClass = (typeof APPROVAL_CLASSES)[number];

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

const required = z
  .number({ error: 'expected a whole number of approvers, 1 to 10' })
  .int({ error: 'expected a whole number of approvers, 1 to 10' })
  .min(1, { error: 'at least 1 approval is required' })
  .max(10, { error: 'at most 10 approvals can be required' });

/** `0.1` or `"10%"` → 0.1; 0 means not one row more than the dry run measured. */
const tolerance = z
  .union([
    z.number().min(0).max(10),
    z
      .string()
      .regex(/^\d+(\.\d+)?\s*%$/, { error: 'expected a fraction like 0.1 or a percentage like "10%"' }),
  ])
  .transform((v) => (typeof v === 'number' ? v : Number.parseFloat(v) / 100));

/** Seconds, or `"30m"`, `"24h"`, `"7d"` → seconds. */
const duration = z
  .union([
    z.number().int().min(60, { error: 'at least 60 seconds' }),
    z.string().regex(/^\d+\s*[smhd]$/, { error: 'expected seconds or a duration like "30m", "24h", "7d"' }),
  ])
  .transform((v) => (typeof v === 'number' ? v : Number.parseInt(v, 10) * UNIT_SECONDS[v.trim().slice(-1)]!))
  .refine((seconds) => seconds >= 60, { error: 'at least 60 seconds' });

const classRules = z
  .object(
    Object.fromEntries(APPROVAL_CLASSES.map((c) => [c, required.optional()])) as Record<
      ApprovalClass,
      z.ZodOptional<typeof required>
    >,
  )
  .strict();

const connectionRules = z
  .object({
    required: required.optional(),
    driftTolerance: tolerance.optional(),
    classes: classRules.optional(),
  })
  .strict();

/**
 * `approvals:` in threadql.yml. How many distinct approvers a change needs, resolved most specific first:
 * `connections.<name>.classes.<class>`, then `classes.<class>`, then `connections.<name>.required`, then
 * `required` (a class rule beats a count rule; a connection's rule beats the global one of the same kind).
 * `driftTolerance` is how many more rows than the dry run an approved write may change; `ttl` is how long a
 * request stays pending (seconds after parsing).
 */
export const approvalsConfigSchema = z
  .object({
    required: required.default(1),
    driftTolerance: tolerance.default(0.1),
    ttl: duration.default(86_400),
    classes: classRules.default({}),
    connections: z.record(z.string(), connectionRules).default({}),
  })
  .strict();

export type ApprovalsConfig = z.output<typeof approvalsConfigSchema>;

/** The defaults, as parsed: 1 approval, 10% drift tolerance, 24 h. */
export const DEFAULT_APPROVALS: ApprovalsConfig = approvalsConfigSchema.parse({});
