/**
 * Which outside dependency an error says is down, and the error a user sees when it is. threadql depends on four
 * things it does not control: its state store (MongoDB), Redis, the target databases and Claude. An error that
 * means "that dependency is unreachable" (as opposed to "it answered no") opens that dependency's breaker and
 * gets a reply naming it; any other error is the request's own problem.
 */
import { DatabaseError, LlmError, RedisError, StoreError, ThreadqlError } from '../errors.ts';

export type DependencyKind = 'store' | 'redis' | 'database' | 'llm';

/** A breaker key: the kind, plus the connection name for target databases (`database:shop`). */
export type DependencyKey = 'store' | 'redis' | 'llm' | `database:${string}`;

/** The kind of a breaker key. */
export function kindOf(key: DependencyKey): DependencyKind {
  return key.startsWith('database:') ? 'database' : (key as DependencyKind);
}

/** How a user is told which dependency is down, in their words. */
export function describeDependency(key: DependencyKey): string {
  switch (kindOf(key)) {
    case 'store':
      return 'my state store';
    case 'redis':
      return 'my cache and lock service (Redis)';
    case 'llm':
      return 'Claude (the language model)';
    case 'database':
      return `the database "${key.slice('database:'.length)}"`;
  }
}

// The MongoDB driver's and Mongoose's names for "no server to talk to" (not "the server said no").
const MONGO_DOWN =
  /^Mongo(ServerSelection|Network|NetworkTimeout|NotConnected|TopologyClosed|PoolCleared|ServerClosed)Error$/;

const SOCKET_DOWN = /^(EPIPE|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND)$/;

/**
 * True for Node's own socket errors (a server that closed the connection under a command in flight: EPIPE, "This
 * socket has been ended by the other party"). They name no dependency, so they count only for the call they came
 * out of (isDownError), not in dependencyOf.
 */
function isSocketDownError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code } = error as Partial<NodeJS.ErrnoException>;
  return typeof code === 'string' && SOCKET_DOWN.test(code);
}

/** True when a MongoDB/Mongoose error means the store itself is unreachable. */
export function isStoreDownError(error: unknown): boolean {
  if (error instanceof StoreError) return true;
  // By shape, not instanceof: Node's own socket errors may come from another realm (a vm context).
  if (typeof error !== 'object' || error === null) return false;
  const { name, message } = error as Partial<Error>;
  if (typeof name !== 'string' || typeof message !== 'string') return false;
  if (MONGO_DOWN.test(name)) return true;
  // Mongoose buffers commands while disconnected and then gives up with this message.
  if (/buffering timed out after/i.test(message)) return true;
  const labels = (error as { errorLabels?: unknown }).errorLabels;
  if (labels instanceof Set) return labels.has('ResetPool');
  return Array.isArray(labels) && labels.includes('ResetPool');
}

/** True when an ioredis error means Redis is unreachable (a ReplyError is Redis answering, so it is not). */
export function isRedisDownError(error: unknown): boolean {
  if (error instanceof RedisError) return true;
  if (!(error instanceof Error)) return false;
  if (error.name === 'ReplyError') return false;
  return (
    error.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Stream isn't writeable|Command timed out|max retries per request|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE/i.test(
      error.message,
    )
  );
}

/** True when a target database error means the database is unreachable (not a bad query). */
export function isDatabaseDownError(error: unknown): boolean {
  return error instanceof DatabaseError && error.code === 'database_unavailable';
}

/** True when an LLM error means Claude is unreachable or overloaded (not a refusal, a bad key or a rate limit). */
export function isLlmDownError(error: unknown): boolean {
  if (!(error instanceof LlmError)) return false;
  if (error.code === 'llm_overloaded' || error.code === 'llm_timeout') return true;
  if (error.code !== 'llm_failed') return false;
  if (error.detail.aborted) return false;
  const status = error.detail.status;
  // No status: the connection itself failed. 5xx: Anthropic's side.
  return status === undefined || (typeof status === 'number' && status >= 500);
}

/** Whether `error` says the dependency behind `key` is down. */
export function isDownError(key: DependencyKey, error: unknown): boolean {
  switch (kindOf(key)) {
    case 'store':
      return isStoreDownError(error) || isSocketDownError(error);
    case 'redis':
      return isRedisDownError(error);
    case 'database':
      return isDatabaseDownError(error);
    case 'llm':
      return isLlmDownError(error);
  }
}

/** Which dependency an error (from anywhere in a turn) says is down, if any. */
export function dependencyOf(error: unknown): DependencyKind | undefined {
  if (error instanceof DependencyDownError) return kindOf(error.dependency);
  if (isStoreDownError(error)) return 'store';
  if (isDatabaseDownError(error)) return 'database';
  if (isLlmDownError(error)) return 'llm';
  if (error instanceof ThreadqlError) return undefined;
  if (isRedisDownError(error)) return 'redis';
  return undefined;
}

/**
 * "X is unreachable": what a call gets when its dependency is down, either because this call failed that way or
 * because the breaker is open and the call was not even tried. The code is the dependency's own
 * (store_unavailable, redis_unavailable, database_unavailable, llm_failed), so existing handling still applies.
 */
export class DependencyDownError extends ThreadqlError {
  readonly dependency: DependencyKey;
  /** True when the call was refused by an open breaker without being tried. */
  readonly failedFast: boolean;

  constructor(dependency: DependencyKey, options: { cause?: unknown; failedFast?: boolean } = {}) {
    const kind = kindOf(dependency);
    const code =
      kind === 'store'
        ? 'store_unavailable'
        : kind === 'redis'
          ? 'redis_unavailable'
          : kind === 'database'
            ? 'database_unavailable'
            : 'llm_failed';
    const what = describeDependency(dependency);
    super(code, `${what.charAt(0).toUpperCase()}${what.slice(1)} is unreachable right now.`, {
      cause: options.cause,
      hint:
        kind === 'database'
          ? 'Check that the database is running; ask again once it is back.'
          : 'Please try again in a minute.',
      detail: { dependency, failedFast: options.failedFast === true },
    });
    this.dependency = dependency;
    this.failedFast = options.failedFast === true;
  }
}

/** The error to throw for a failed call: a DependencyDownError when it says the dependency is down, else as is. */
export function asDependencyError(key: DependencyKey, error: unknown): unknown {
  if (error instanceof DependencyDownError) return error;
  // A database or LLM error already names the engine and carries a useful hint: keep it as the user's message.
  if (kindOf(key) === 'database' || kindOf(key) === 'llm') return error;
  return isDownError(key, error) ? new DependencyDownError(key, { cause: error }) : error;
}
