/**
 * Builds the Bolt app behind a SlackPlatform: checks the settings the chosen transport needs, then makes the
 * receiver (HTTP Events API or Socket Mode, the one seam between transports) and the App on it, without any I/O.
 */
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type Logger, type webApi } from '@slack/bolt';
import { ConfigError } from '../../core/errors.ts';
import type { SlackPlatformOptions } from './slack-platform-options.ts';

/** Where the HTTP receiver takes events, interactivity and the slash command unless `path` says otherwise. */
export const DEFAULT_EVENTS_PATH = '/slack/events';

/** Requests stamped further ahead than this are refused (Bolt refuses only those too far in the past). */
const MAX_FUTURE_SKEW_SECONDS = 5 * 60;

/** The Bolt app, the receiver it runs on (kept so the platform can close it) and the transport chosen. */
export interface SlackApp {
  app: App;
  receiver: HTTPReceiver | SocketModeReceiver;
  mode: 'http' | 'socket';
}

/** The Bolt App and its receiver for `options`; throws a ConfigError naming every missing setting. */
export function createSlackApp(options: SlackPlatformOptions, now: () => Date): SlackApp {
  const mode = options.mode ?? (options.appToken ? 'socket' : 'http');
  const problems: string[] = [];
  if (!options.botToken) problems.push('SLACK_BOT_TOKEN is required for Slack (the bot token, xoxb-…)');
  if (mode === 'http' && !options.signingSecret) {
    problems.push(
      'SLACK_SIGNING_SECRET is required for Slack HTTP mode (or set SLACK_APP_TOKEN to use Socket Mode)',
    );
  }
  if (mode === 'socket' && !options.appToken) {
    problems.push('SLACK_APP_TOKEN (xapp-…, with connections:write) is required for Slack Socket Mode');
  }
  if (problems.length) throw new ConfigError(problems);

  const clientOptions: webApi.WebClientOptions = {};
  if (options.apiUrl) clientOptions.slackApiUrl = options.apiUrl;
  if (options.retryConfig) clientOptions.retryConfig = options.retryConfig;
  if (options.rejectRateLimitedCalls !== undefined)
    clientOptions.rejectRateLimitedCalls = options.rejectRateLimitedCalls;
  const logLevel = options.logLevel ?? LogLevel.INFO;
  const logging = { ...(options.logger ? { logger: options.logger } : {}), logLevel };
  // The receiver is the one seam between transports; holding it lets stop() wait for the socket to close.
  const receiver =
    mode === 'socket'
      ? new SocketModeReceiver({
          appToken: options.appToken as string,
          installerOptions: { clientOptions },
          ...logging,
        })
      : new HTTPReceiver({
          signingSecret: options.signingSecret as string,
          endpoints: options.path ?? DEFAULT_EVENTS_PATH,
          processBeforeResponse: options.processBeforeResponse ?? false,
          customRoutes: (options.routes ?? []).map((r) => ({ ...r, method: ['GET'] })),
          ...logging,
        });
  // The app's logger is read per request, so the refusal below logs through the same logger as the rest.
  const logger = (): Logger => app.logger;
  if (receiver instanceof HTTPReceiver) refuseFutureRequests(receiver, now, logger);
  const app = new App({
    token: options.botToken,
    receiver,
    // No I/O in the constructor: auth.test runs in start(), where its failure can be reported properly.
    deferInitialization: true,
    clientOptions,
    ...logging,
  });
  return { app, receiver, mode };
}

/**
 * Bolt checks the signed timestamp only against the past (replays of old requests); a request stamped more than
 * five minutes ahead is refused here too, so a captured signature cannot be held for later use.
 */
function refuseFutureRequests(receiver: HTTPReceiver, now: () => Date, logger: () => Logger): void {
  const next = receiver.requestListener;
  receiver.requestListener = (req, res) => {
    const stamp = Number(req.headers['x-slack-request-timestamp']);
    const nowSeconds = Math.floor(now().getTime() / 1000);
    if (Number.isFinite(stamp) && stamp - nowSeconds > MAX_FUTURE_SKEW_SECONDS) {
      logger().warn(
        `threadql: refused a Slack request stamped ${stamp - nowSeconds} s in the future (${req.url ?? ''})`,
      );
      res.writeHead(401).end();
      return;
    }
    next(req, res);
  };
}
