/**
 * Maps Slack Web API failures to PlatformError, with a message a user can read and a hint that says how to fix it
 * (the bolt-js habit: an error should name its remedy). Never includes tokens: only the method and Slack's code.
 */
import { webApi } from '@slack/bolt';
import { PlatformError } from '../../core/errors.ts';

const SlackErrorCode = webApi.ErrorCode;

/** What to do about the Slack error codes a bot meets in practice. */
const HINTS: Record<string, string> = {
  channel_not_found: 'Check the channel id, and invite the bot to the channel (/invite @threadql).',
  not_in_channel: 'Invite the bot to the channel first (/invite @threadql).',
  is_archived: 'The channel is archived; unarchive it or ask in another channel.',
  thread_not_found: 'The thread no longer exists; start a new one.',
  message_not_found: 'The message was deleted; ask again in the thread.',
  cant_update_message: 'Only messages the bot posted can be updated.',
  msg_too_long: 'The reply was too long for Slack; narrow the question.',
  invalid_blocks: 'The reply had blocks Slack refused; please report this.',
  invalid_auth: 'The bot token is invalid; check SLACK_BOT_TOKEN (it starts with xoxb-).',
  not_authed: 'No bot token was sent; set SLACK_BOT_TOKEN.',
  token_revoked: 'The bot token was revoked; reinstall the app and update SLACK_BOT_TOKEN.',
  account_inactive: 'The bot token belongs to a deactivated app or user; reinstall the app.',
  missing_scope: 'The app lacks an OAuth scope; update it from manifest.yml and reinstall.',
  expired_trigger_id: 'The button click is too old to open a dialog (3 s limit); click again.',
  invalid_trigger_id: 'The button click is too old to open a dialog; click again.',
  ratelimited: 'Slack is rate-limiting the bot; wait a moment and try again.',
  user_not_in_channel: 'That user is not in the channel.',
};

interface SlackishError {
  code?: unknown;
  data?: { error?: unknown; needed?: unknown };
  retryAfter?: unknown;
  statusCode?: unknown;
  message?: unknown;
  original?: { message?: unknown };
}

const RATE_LIMIT_TEXT = /A rate limit was exceeded \(url: [^,]*, retry-after: (\d+)\)/;

/** With retries exhausted the client rethrows its own "rate limit" Error, wrapped as a request error. */
function rateLimitRetryAfter(e: SlackishError): number | undefined {
  for (const text of [e.message, e.original?.message]) {
    const match = typeof text === 'string' ? RATE_LIMIT_TEXT.exec(text) : null;
    if (match) return Number(match[1]);
  }
  return undefined;
}

/** The Slack error code (`channel_not_found`, `ratelimited`, …) carried by a WebClient error, if any. */
export function slackErrorCode(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as SlackishError;
  if (e.code === SlackErrorCode.PlatformError && typeof e.data?.error === 'string') return e.data.error;
  if (e.code === SlackErrorCode.RateLimitedError) return 'ratelimited';
  if (rateLimitRetryAfter(e) !== undefined) return 'ratelimited';
  return undefined;
}

/** Wraps any failure of one Web API method in a PlatformError (code `platform_failed`), keeping the cause. */
export function toPlatformError(method: string, error: unknown): PlatformError {
  if (error instanceof PlatformError) return error;
  const slackCode = slackErrorCode(error);
  const e = (error ?? {}) as SlackishError;
  const detail: Record<string, unknown> = { method };
  if (slackCode) detail.slackError = slackCode;
  const retryAfter = typeof e.retryAfter === 'number' ? e.retryAfter : rateLimitRetryAfter(e);
  if (retryAfter !== undefined) detail.retryAfter = retryAfter;
  if (typeof e.data?.needed === 'string') detail.neededScope = e.data.needed;
  if (slackCode) {
    const needed = typeof e.data?.needed === 'string' ? ` (needs ${e.data.needed})` : '';
    return new PlatformError('platform_failed', `Slack refused ${method}: ${slackCode}${needed}`, {
      cause: error,
      hint: HINTS[slackCode],
      detail,
    });
  }
  if (e.code === SlackErrorCode.HTTPError) {
    detail.status = e.statusCode;
    return new PlatformError(
      'platform_failed',
      `Slack answered ${method} with HTTP ${String(e.statusCode)}`,
      {
        cause: error,
        hint: 'Slack may be having trouble; try again shortly.',
        detail,
      },
    );
  }
  if (e.code === SlackErrorCode.RequestError) {
    return new PlatformError('platform_failed', `Could not reach Slack for ${method}`, {
      cause: error,
      hint: 'Check the network (and SLACK_API_URL if set).',
      detail,
    });
  }
  return new PlatformError('platform_failed', `Slack call ${method} failed`, { cause: error, detail });
}

/** Runs one Web API call, turning its failure into the PlatformError of toPlatformError. */
export async function callSlack<T>(method: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toPlatformError(method, error);
  }
}
