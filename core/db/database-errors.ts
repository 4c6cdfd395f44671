import { DatabaseError, type ErrorCode } from '../errors.ts';

export type DatabaseErrorCode = Extract<
  ErrorCode,
  'database_unavailable' | 'query_failed' | 'query_timeout' | 'read_only_violation'
>;

/** Secrets found in a connection URL (password, whole URL, user:password pair) that a message must never show. */
export function secretsOf(url: string): string[] {
  const secrets = [url];
  try {
    const parsed = new URL(url);
    if (parsed.password) {
      secrets.push(parsed.password, decodeURIComponent(parsed.password));
      secrets.push(`${parsed.username}:${parsed.password}`);
    }
  } catch {
    // Not a URL (e.g. a SQLite path): the whole string is the only thing to hide.
  }
  // Longest first, so the URL is replaced before its password.
  return [...new Set(secrets.filter((s) => s.length >= 3))].sort((a, b) => b.length - a.length);
}

/** Replaces every secret of the connection in `text` with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('***');
  return out;
}

/** Builds a DatabaseError whose message names the engine and carries the redacted engine text. */
/**
 * An error met while connecting, as database_unavailable: `mapped` (the engine's reading of `cause`) as it is when it
 * already says so, else its message under that code (a connection that cannot be had is an outage, whatever broke).
 */
export function unavailableError(
  mapped: DatabaseError,
  engine: string,
  secrets: readonly string[],
  cause: unknown,
): DatabaseError {
  return mapped.code === 'database_unavailable'
    ? mapped
    : databaseError(
        'database_unavailable',
        engine,
        mapped.message.replace(`${engine}: `, ''),
        secrets,
        cause,
      );
}

export function databaseError(
  code: DatabaseErrorCode,
  engine: string,
  message: string,
  secrets: readonly string[],
  cause?: unknown,
  detail: Record<string, unknown> = {},
): DatabaseError {
  const hint =
    code === 'query_timeout'
      ? 'Try a narrower query (filters, LIMIT) or ask an admin to raise the statement timeout.'
      : code === 'database_unavailable'
        ? 'Check that the database is running and the connection settings are right.'
        : undefined;
  return new DatabaseError(code, `${engine}: ${redact(message, secrets)}`, {
    cause: cause === undefined ? undefined : scrubbedCause(cause, secrets),
    hint,
    detail,
  });
}

/** The cause keeps the stack and engine code for logs but not a secret-bearing message. */
function scrubbedCause(cause: unknown, secrets: readonly string[]): unknown {
  if (!(cause instanceof Error)) return cause;
  const clean = new Error(redact(cause.message, secrets));
  clean.name = cause.name;
  clean.stack = cause.stack === undefined ? undefined : redact(cause.stack, secrets);
  const code = (cause as { code?: unknown }).code;
  if (code !== undefined) Object.assign(clean, { code });
  return clean;
}

/** Network-level failures every driver reports the same way (Node's socket errors). */
export function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    [
      'ECONNREFUSED',
      'ENOTFOUND',
      'ETIMEDOUT',
      'ECONNRESET',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'EAI_AGAIN',
      'EPIPE',
    ].includes(code)
  );
}

/** The message of any thrown value. */
export function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return messageOf(error.errors[0]);
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** Rejects with `onTimeout()` when `promise` takes longer than `ms`; clears its timer either way. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
