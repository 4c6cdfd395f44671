/**
 * The SlackPlatform settings that come from the environment (validated by config/env.ts; this file never reads
 * process.env). The caller adds the injected parts: isActiveThread, once, tables, logger.
 */
import type { Env } from '../../config/env.ts';
import { ConfigError } from '../../core/errors.ts';
import type { SlackPlatformOptions } from './slack-platform-options.ts';

export type SlackEnvOptions = Pick<
  SlackPlatformOptions,
  'botToken' | 'signingSecret' | 'appToken' | 'apiUrl' | 'port' | 'mode'
>;

/** Slack's connection settings from Env, or undefined when SLACK_BOT_TOKEN is unset (Slack not configured). */
export function slackEnvOptions(env: Env): SlackEnvOptions | undefined {
  if (!env.SLACK_BOT_TOKEN) return undefined;
  const mode = env.SLACK_APP_TOKEN ? 'socket' : 'http';
  if (mode === 'http' && !env.SLACK_SIGNING_SECRET) {
    throw new ConfigError([
      'SLACK_SIGNING_SECRET is required with SLACK_BOT_TOKEN for HTTP mode; or set SLACK_APP_TOKEN (xapp-…) for Socket Mode',
    ]);
  }
  const options: SlackEnvOptions = { botToken: env.SLACK_BOT_TOKEN, mode, port: env.PORT };
  if (env.SLACK_SIGNING_SECRET) options.signingSecret = env.SLACK_SIGNING_SECRET;
  if (env.SLACK_APP_TOKEN) options.appToken = env.SLACK_APP_TOKEN;
  // The WebClient appends the method name to the base, so the base must end with a slash.
  if (env.SLACK_API_URL)
    options.apiUrl = env.SLACK_API_URL.endsWith('/') ? env.SLACK_API_URL : `${env.SLACK_API_URL}/`;
  return options;
}
