/**
 * What a SlackPlatform is built from: the connection settings (tokens, transport, Web API policy) and the injected
 * parts (active-thread check, event dedupe, table renderers, assistant surface, directory, logger, clock).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LogLevel, Logger, webApi } from '@slack/bolt';
import type { ThreadRef } from '../../core/conversation/chat-platform.ts';
import type { OnceFn } from './event-dedupe.ts';
import type { SlackTableRenderers } from './reply-to-blocks.ts';
import type { SlackAssistantOptions } from './slack-assistant.ts';
import type { SlackDirectoryOptions } from './slack-directory.ts';

export interface SlackPlatformOptions {
  /** SLACK_BOT_TOKEN (xoxb-…). */
  botToken: string;
  /** SLACK_SIGNING_SECRET; required in HTTP mode. */
  signingSecret?: string;
  /** SLACK_APP_TOKEN (xapp-…); required in Socket Mode. */
  appToken?: string;
  /** Default: `socket` when an app token is given, else `http`. */
  mode?: 'http' | 'socket';
  /** HTTP mode: port to listen on (0 = any free port); default 3000. */
  port?: number;
  /** HTTP mode: interface to listen on; default all. */
  host?: string;
  /** HTTP mode: path for events, interactivity and the slash command; default `/slack/events`. */
  path?: string;
  /** HTTP mode: answer Slack only after the listener returned (FaaS, deterministic tests); default false. */
  processBeforeResponse?: boolean;
  /** SLACK_API_URL: Web API base (must end with `/`); default Slack's. */
  apiUrl?: string;
  /** The WebClient's retry policy (p-retry options); Slack's default retries for ~30 minutes. */
  retryConfig?: webApi.RetryOptions;
  /** Fail at once on HTTP 429 instead of waiting Retry-After and retrying. */
  rejectRateLimitedCalls?: boolean;
  /** Whether threadql is already in a thread, so a reply there needs no mention. */
  isActiveThread(thread: ThreadRef): Promise<boolean>;
  /** Event dedupe (see redisOnce); default an in-process map, enough for one replica. */
  once?: OnceFn;
  /** How tables become text or table blocks; default the renderers module's tables. */
  tables?: SlackTableRenderers;
  /** Use Slack table blocks where a table fits; default true. */
  tableBlocks?: boolean;
  /** Slash command name; default `/threadql`. */
  commandName?: string;
  /** The help text for `/threadql help` (the engine's, generated from its grammar); default every command. */
  helpText?: () => string;
  /** Slack's AI-app surface (assistant threads); off unless given. */
  assistant?: SlackAssistantOptions;
  /**
   * Where the 👍/👎 on results use Slack's native feedback buttons (context_actions) instead of plain buttons:
   * `assistant-threads` (default: the AI-app surface they were made for), `everywhere`, or `never`.
   */
  nativeFeedback?: 'assistant-threads' | 'everywhere' | 'never';
  /**
   * Approver ids from threadql.yml (approvers.slack): the user-group ids (S…) among them are resolved with
   * usergroups.users.list, and a member gets the group id in UserRef.roles. User ids (U…) need no lookup.
   */
  userGroups?: string[];
  /** Fill UserRef.displayName from users.info (needs users:read); default true. */
  displayNames?: boolean;
  /** Cache and wait limits for the users.info / usergroups.users.list lookups. */
  directory?: Pick<SlackDirectoryOptions, 'ttlMs' | 'failureTtlMs' | 'timeoutMs' | 'maxEntries'>;
  /** HTTP mode: extra GET routes served next to the events endpoint (the operator's /healthz, /readyz, /metrics). */
  routes?: { path: string; handler: (req: IncomingMessage, res: ServerResponse) => void }[];
  logger?: Logger;
  logLevel?: LogLevel;
  now?: () => Date;
}
