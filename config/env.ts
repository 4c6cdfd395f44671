import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { formatIssues } from './format-issues.ts';

/** The Claude model used when THREADQL_MODEL is not set. */
export const DEFAULT_MODEL = 'claude-sonnet-5-5';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const optionalUrl = optionalString.pipe(z.url({ error: 'expected a URL' }).optional());

const envSchema = z.object({
  MONGODB_URI: optionalString.pipe(
    z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, { error: 'expected a mongodb:// or mongodb+srv:// URI' })
      .optional(),
  ),
  REDIS_URL: optionalString.pipe(
    z
      .string()
      .regex(/^rediss?:\/\//, { error: 'expected a redis:// or rediss:// URL' })
      .optional(),
  ),
  /**
   * Prefix of threadql's Redis keys for templates and the report queue (default `threadql:`). Replicas of one
   * deployment share it; two deployments on one Redis need different ones, since each drops report schedules
   * its own store does not know.
   */
  THREADQL_REDIS_PREFIX: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_.:-]+:$/, {
        error: 'expected letters, digits, _ . - and colons, ending in a colon, like acme:',
      })
      .optional(),
  ),
  ANTHROPIC_API_KEY: optionalString,
  ANTHROPIC_BASE_URL: optionalUrl,
  THREADQL_MODEL: optionalString.transform((v) => v ?? DEFAULT_MODEL),
  SLACK_BOT_TOKEN: optionalString.pipe(
    z
      .string()
      .regex(/^xoxb-/, { error: 'expected a bot token starting with xoxb-' })
      .optional(),
  ),
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: optionalString.pipe(
    z
      .string()
      .regex(/^xapp-/, { error: 'expected an app-level token starting with xapp-' })
      .optional(),
  ),
  SLACK_API_URL: optionalUrl,
  PORT: optionalString
    .transform((v) => (v === undefined ? 3000 : Number(v)))
    .pipe(z.number({ error: 'expected a port number' }).int().min(1).max(65535)),
  /** Operator endpoints (/healthz, /readyz, /metrics) when Slack is not in HTTP mode; unset: not served. */
  HEALTH_PORT: optionalString
    .transform((v) => (v === undefined ? undefined : Number(v)))
    .pipe(z.number({ error: 'expected a port number' }).int().min(1).max(65535).optional()),
  DISCORD_TOKEN: optionalString,
  DISCORD_APPLICATION_ID: optionalString.pipe(
    z
      .string()
      .regex(/^\d{5,25}$/, { error: 'expected a numeric application id (snowflake)' })
      .optional(),
  ),
  DISCORD_API_URL: optionalUrl,
  THREADQL_MASTER_KEY: optionalString,
  THREADQL_CONFIG: optionalString.transform((v) => v ?? './threadql.yml'),
  THREADQL_DATA_DIR: optionalString.transform((v) => v ?? './.data'),
  /** Chromium for ER-diagram PNGs; defaults to PUPPETEER_EXECUTABLE_PATH, then `chromium` on PATH. */
  THREADQL_CHROMIUM: optionalString,
  PUPPETEER_EXECUTABLE_PATH: optionalString,
  /** https://no-color.org: any value turns off ANSI styling in the terminal shell. */
  NO_COLOR: optionalString,
  THREADQL_LOG_LEVEL: optionalString
    .pipe(z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional())
    .transform((v) => v ?? 'info'),
});

export type Env = z.infer<typeof envSchema>;

/** Validates an environment (process.env by default) into typed settings; throws ConfigError naming each bad key. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error.issues));
  return parsed.data;
}

/** Reads the whole environment for `${VAR}` expansion in threadql.yml. */
export function rawEnvironment(): Readonly<Record<string, string | undefined>> {
  return process.env;
}
