import { DiscordAPIError, HTTPError, RateLimitError } from './discord-js.ts';
import { PlatformError } from '../../core/errors.ts';

/** Interaction and webhook URLs carry a secret token in the path; logs and details get it redacted. */
export function redactDiscordUrl(url: string): string {
  return url.replace(/\/(webhooks|interactions)\/(\d+)\/[^/?]+/g, '/$1/$2/[token]');
}

const HINTS: Record<number, string> = {
  50001: 'Invite the bot to this channel or give it the View Channel permission.',
  50013:
    'Give the bot Send Messages, Send Messages in Threads, Create Public Threads, Embed Links and Attach Files.',
  10003: 'The channel or thread no longer exists.',
  10008: 'The message was deleted.',
  10062: 'Discord allows 3 seconds to answer a click; the answer came too late. Please click again.',
  40060: 'This interaction was already answered.',
  50035: 'Discord rejected the message shape; this is a threadql bug, please report it.',
};

/** Turns any discord.js failure into a PlatformError whose message is safe to show (no tokens, no URLs). */
export function toPlatformError(error: unknown, action: string): PlatformError {
  if (error instanceof PlatformError) return error;
  if (error instanceof RateLimitError) {
    const seconds = Math.max(1, Math.round(error.retryAfter / 1000));
    return new PlatformError(
      'platform_failed',
      `Discord rate limit hit while trying to ${action}; retry in ${seconds}s.`,
      {
        hint: error.global ? 'The bot is over its global rate limit.' : undefined,
        detail: {
          kind: 'rate_limited',
          route: error.route,
          retryAfterMs: error.retryAfter,
          global: error.global,
        },
      },
    );
  }
  if (error instanceof DiscordAPIError) {
    const code = typeof error.code === 'number' ? error.code : undefined;
    const raw = error.rawError as { message?: string; error_description?: string; error?: string };
    const reason =
      error.status === 429
        ? 'rate limited'
        : (raw.message ?? raw.error_description ?? raw.error ?? 'unknown error');
    return new PlatformError(
      'platform_failed',
      `Discord refused to ${action}: ${reason} (HTTP ${error.status}${code ? `, code ${code}` : ''}).`,
      {
        hint: (code && HINTS[code]) || undefined,
        detail: {
          kind: 'api_error',
          status: error.status,
          code: error.code,
          method: error.method,
          url: redactDiscordUrl(error.url),
        },
      },
    );
  }
  if (error instanceof HTTPError) {
    return new PlatformError('platform_failed', `Discord failed to ${action}: HTTP ${error.status}.`, {
      detail: {
        kind: 'http_error',
        status: error.status,
        method: error.method,
        url: redactDiscordUrl(error.url),
      },
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new PlatformError(
    'platform_failed',
    `Could not ${action} on Discord: ${redactDiscordUrl(message)}`,
    {
      detail: { kind: 'client_error', name: error instanceof Error ? error.name : typeof error },
    },
  );
}
