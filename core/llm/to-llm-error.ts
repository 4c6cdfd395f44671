import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk';
import { LlmError } from '../errors.ts';

/** Why Claude cannot be used at all: no API key configured. */
export function llmNotConfigured(): LlmError {
  return new LlmError('llm_not_configured', 'Claude is not configured, so I cannot write queries yet.', {
    hint: 'Set ANTHROPIC_API_KEY in the bot environment (optionally THREADQL_MODEL to pick the model) and restart threadql.',
  });
}

/** Seconds the API asked us to wait, from `retry-after-ms` or `retry-after` (seconds or an HTTP date). */
export function retryAfterSeconds(
  headers: Headers | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms > 0) return Math.ceil(ms / 1000);
  const raw = headers.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number.parseFloat(raw);
  if (Number.isFinite(seconds)) return seconds > 0 ? Math.ceil(seconds) : undefined;
  const at = Date.parse(raw);
  return Number.isNaN(at) || at <= now ? undefined : Math.ceil((at - now) / 1000);
}

// API messages are the service's own text (never our key), but are cut so a long one cannot flood a thread.
function short(text: string | null | undefined): string {
  if (!text) return '';
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/** Turns anything the Anthropic SDK throws into an LlmError with a stable llm_* code and a message safe to show. */
export function toLlmError(
  error: unknown,
  context: { model: string; timeoutMs: number; attempts: number },
): LlmError {
  if (error instanceof LlmError) return error;
  const tries = context.attempts > 1 ? ` (tried ${context.attempts} times)` : '';

  if (error instanceof APIConnectionTimeoutError) {
    const limit =
      context.timeoutMs >= 1000 ? `${Math.round(context.timeoutMs / 1000)} s` : `${context.timeoutMs} ms`;
    return new LlmError('llm_timeout', `Claude did not answer within ${limit}${tries}.`, {
      cause: error,
      hint: 'Please try again; a shorter or more specific question also helps.',
      detail: { timeoutMs: context.timeoutMs, attempts: context.attempts },
    });
  }
  if (error instanceof APIUserAbortError) {
    return new LlmError('llm_failed', 'The request to Claude was cancelled.', {
      cause: error,
      detail: { aborted: true },
    });
  }
  if (error instanceof APIConnectionError) {
    return new LlmError('llm_failed', `I could not reach the Claude API${tries}.`, {
      cause: error,
      hint: 'Check the network (and ANTHROPIC_BASE_URL if it is set), then try again.',
      detail: { attempts: context.attempts },
    });
  }
  if (error instanceof APIError) {
    const detail = {
      status: error.status,
      type: error.type,
      requestId: error.requestID ?? undefined,
      attempts: context.attempts,
    };
    if (error.status === 401) {
      return new LlmError('llm_auth_failed', 'Claude rejected the API key (401 authentication_error).', {
        cause: error,
        hint: 'Check ANTHROPIC_API_KEY: it may be mistyped, revoked, or belong to another workspace.',
        detail,
      });
    }
    if (error.status === 429) {
      const wait = retryAfterSeconds(error.headers ?? undefined);
      return new LlmError('llm_rate_limited', `Claude is rate-limiting this bot right now${tries}.`, {
        cause: error,
        hint: wait ? `Please try again in about ${wait} s.` : 'Please try again in a minute.',
        detail: { ...detail, retryAfterSeconds: wait },
      });
    }
    if (error.status === 529 || error.type === 'overloaded_error') {
      return new LlmError('llm_overloaded', `Claude is overloaded right now${tries}.`, {
        cause: error,
        hint: 'This is on Anthropic’s side and usually passes quickly; please try again in a minute.',
        detail,
      });
    }
    if (error.status === 404 && error.type === 'not_found_error') {
      return new LlmError(
        'llm_failed',
        `Claude could not serve model "${context.model}": ${short(error.apiMessage)}`,
        {
          cause: error,
          hint: 'Check THREADQL_MODEL; it must name a current Claude model id.',
          detail,
        },
      );
    }
    const status =
      error.status === undefined ? '' : ` (${error.status}${error.type ? ` ${error.type}` : ''})`;
    const api = short(error.apiMessage);
    return new LlmError(
      'llm_failed',
      `The Claude API request failed${status}${api ? `: ${api}` : ''}${tries}.`,
      {
        cause: error,
        detail,
      },
    );
  }
  return new LlmError('llm_failed', 'The Claude API request failed unexpectedly.', { cause: error });
}
