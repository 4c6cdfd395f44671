/**
 * The one coded error hierarchy of threadql. Every failure a user can meet is a ThreadqlError with a
 * stable `code`; `toUserMessage` is the one place that turns any error into the text a thread shows.
 * Messages never carry secrets: callers pass redacted detail only.
 */

export type ErrorCode =
  | 'config_invalid'
  | 'credential_key_missing'
  | 'credential_key_invalid'
  | 'credential_decrypt_failed'
  | 'store_unavailable'
  | 'redis_unavailable'
  | 'input_too_long'
  | 'interrupted'
  | 'validation_failed'
  | 'illegal_transition'
  | 'not_found'
  | 'conflict'
  | 'permission_denied'
  | 'connection_not_allowed'
  | 'database_unavailable'
  | 'query_failed'
  | 'query_timeout'
  | 'read_only_violation'
  | 'needs_approval'
  | 'write_drift'
  | 'sql_unparseable'
  | 'confirmation_invalid'
  | 'llm_not_configured'
  | 'llm_auth_failed'
  | 'llm_rate_limited'
  | 'llm_overloaded'
  | 'llm_timeout'
  | 'llm_failed'
  | 'llm_no_answer'
  | 'render_failed'
  | 'browser_unavailable'
  | 'platform_failed'
  | 'internal';

export interface ThreadqlErrorOptions {
  cause?: unknown;
  /** What the user can do about it; appended to the message a thread shows. */
  hint?: string;
  /** Structured, non-secret detail for logs and audit events. */
  detail?: Record<string, unknown>;
}

/** Base class: a coded error whose message is safe to show to a user. */
export class ThreadqlError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly detail: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: ThreadqlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.detail = options.detail ?? {};
  }
}

/** Configuration (env or threadql.yml) is missing or invalid. */
export class ConfigError extends ThreadqlError {
  readonly issues: string[];
  constructor(issues: string[], options: ThreadqlErrorOptions = {}) {
    super('config_invalid', `Invalid configuration:\n  - ${issues.join('\n  - ')}`, options);
    this.issues = issues;
  }
}

/** The credential vault cannot encrypt or decrypt (missing/wrong key, tampered data). */
export class CredentialError extends ThreadqlError {}

/** The bot's own MongoDB store cannot be reached. */
export class StoreError extends ThreadqlError {
  constructor(message: string, options: ThreadqlErrorOptions = {}) {
    super('store_unavailable', message, options);
  }
}

/** Redis (caches, locks, de-duplication, confirm tokens, the schedule queue) cannot be reached. */
export class RedisError extends ThreadqlError {
  constructor(message: string, options: ThreadqlErrorOptions = {}) {
    super('redis_unavailable', message, options);
  }
}

/** A question or pasted SQL is longer than the configured limit; refused before anything is sent anywhere. */
export class InputTooLongError extends ThreadqlError {
  constructor(message: string, options: ThreadqlErrorOptions = {}) {
    super('input_too_long', message, options);
  }
}

/** Work stopped because threadql is shutting down (a restart or a deploy), not because it failed. */
export class InterruptedError extends ThreadqlError {
  constructor(message: string, options: ThreadqlErrorOptions = {}) {
    super('interrupted', message, options);
  }
}

/** A document failed validation (bad field, duplicate unique key). */
export class ValidationError extends ThreadqlError {
  constructor(message: string, options: ThreadqlErrorOptions = {}) {
    super('validation_failed', message, options);
  }
}

/** A state machine refused a transition, e.g. a Migration from `applied` to `pending`. */
export class StateTransitionError extends ThreadqlError {
  readonly from: string;
  readonly to: string;
  constructor(entity: string, from: string, to: string, allowed: readonly string[]) {
    const next = allowed.length ? allowed.join(' | ') : 'nothing (final state)';
    super(
      'illegal_transition',
      `${entity} cannot go from "${from}" to "${to}"; from "${from}" it may go to ${next}`,
      {
        detail: { entity, from, to },
      },
    );
    this.from = from;
    this.to = to;
  }
}

/** Something named by the user does not exist. */
export class NotFoundError extends ThreadqlError {
  constructor(message: string, options: ThreadqlErrorOptions = {}) {
    super('not_found', message, options);
  }
}

/** The user may not do this (click, approve, use a connection). */
export class PermissionError extends ThreadqlError {
  constructor(message: string, options: ThreadqlErrorOptions = {}) {
    super('permission_denied', message, options);
  }
}

/** A target database failed: unreachable, query error, timeout, read-only violation. */
export class DatabaseError extends ThreadqlError {}

/** A statement is not a read, so it needs an approval before it runs. */
export class NeedsApprovalError extends ThreadqlError {
  readonly verdict: string;
  constructor(verdict: string, reasons: string[], options: ThreadqlErrorOptions = {}) {
    super('needs_approval', `This statement is classified as ${verdict}: ${reasons.join('; ')}`, {
      hint: 'Only reads run from a confirm card; writes, DDL and other statements need an approver.',
      ...options,
    });
    this.verdict = verdict;
  }
}

/**
 * An approved write would change more rows than its dry run measured (beyond the tolerance), so it was rolled
 * back (or, where the engine has no transactions, not run) instead of silently over-reaching.
 */
export class DriftError extends ThreadqlError {
  constructor(message: string, options: ThreadqlErrorOptions = {}) {
    super('write_drift', message, {
      hint: 'The data changed since the dry run; nothing was changed. Ask for a new approval to run it on the current data.',
      ...options,
    });
  }
}

/** A confirm token is expired, used, or does not match the SQL. */
export class ConfirmationError extends ThreadqlError {
  constructor(message: string, options: ThreadqlErrorOptions = {}) {
    super('confirmation_invalid', message, options);
  }
}

/** The LLM could not be reached or answered badly. */
export class LlmError extends ThreadqlError {}

/** A renderer failed (chart, ERD, table PNG). */
export class RenderError extends ThreadqlError {}

/** A chat platform API call failed. */
export class PlatformError extends ThreadqlError {}

const FALLBACK = 'Something went wrong on my side. The error was logged; please try again.';

/** Turns any error into the text a user sees in the thread: never a stack, never a secret. */
export function toUserMessage(error: unknown): string {
  if (error instanceof ThreadqlError) {
    const text = error.hint ? `${error.message}\n${error.hint}` : error.message;
    return text;
  }
  return FALLBACK;
}

/** True when `error` is a ThreadqlError with one of the given codes. */
export function hasCode(error: unknown, ...codes: ErrorCode[]): error is ThreadqlError {
  return error instanceof ThreadqlError && codes.includes(error.code);
}
