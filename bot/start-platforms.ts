/**
 * Starts the chat adapters whose tokens are configured (Slack, Discord), each driving the one conversation engine.
 * Tests and benches pass overrides (port 0, processBeforeResponse, no retries) that the environment cannot express.
 */
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { ThreadqlConfig } from '../config/load-config.ts';
import type { ChatPlatform } from '../core/conversation/chat-platform.ts';
import type { Logger } from '../core/logger.ts';
import { suggestPrompts, type SuggestedPrompt } from '../core/conversation/suggest-prompts.ts';
import type { Threadql } from './create-threadql.ts';
import { DiscordPlatform, type DiscordPlatformOptions } from './discord/discord-platform.ts';
import { operatorRoutes } from './operator/operator-endpoints.ts';
import { platformReadiness } from './operator/platform-readiness.ts';
import { degradingOnce, memoryOnce, redisOnce } from './slack/event-dedupe.ts';
import { slackEnvOptions } from './slack/slack-env-options.ts';
import { SlackPlatform } from './slack/slack-platform.ts';
import type { SlackPlatformOptions } from './slack/slack-platform-options.ts';

/** Options layered over what the environment says, per platform (tests: port 0, processBeforeResponse…). */
export interface PlatformOverrides {
  slack?: Partial<SlackPlatformOptions>;
  discord?: Partial<DiscordPlatformOptions>;
  /** Told as each platform starts serving (a shutdown during start-up stops the ones already serving). */
  onStarted?: (platform: ChatPlatform) => void;
}

const BOLT_LEVELS: Record<string, LogLevel> = {
  trace: LogLevel.DEBUG,
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
  fatal: LogLevel.ERROR,
  silent: LogLevel.ERROR,
};

/** Bolt's logger interface over the app's pino logger, so Slack's own lines land in the same JSON log. */
function boltLogger(logger: Logger): BoltLogger {
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    debug: (...msg) => logger.debug(text(msg)),
    info: (...msg) => logger.info(text(msg)),
    warn: (...msg) => logger.warn(text(msg)),
    error: (...msg) => logger.error(text(msg)),
    // The level is pino's (THREADQL_LOG_LEVEL); Bolt asking to change it is ignored.
    setLevel: () => {},
    getLevel: () => BOLT_LEVELS[logger.level] ?? LogLevel.INFO,
    setName: () => {},
  };
}

/** Suggested prompts for Slack's assistant panel, from the default connection's schema (generic ones if it is down). */
async function schemaPrompts(threadql: Threadql, logger: Logger): Promise<SuggestedPrompt[]> {
  const connections = threadql.connections.list();
  const chosen = connections.find((c) => c.default) ?? connections[0];
  try {
    return suggestPrompts(
      chosen ? await threadql.connections.schema(chosen.name) : { tables: [], relationships: [] },
    );
  } catch (err) {
    logger.warn({ err }, 'could not read the schema for suggested prompts; using generic ones');
    return suggestPrompts({ tables: [], relationships: [] });
  }
}

/** Starts every configured platform; if one fails, those already started are stopped and the error is thrown. */
export async function startPlatforms(
  threadql: Threadql,
  config: ThreadqlConfig,
  logger: Logger,
  overrides: PlatformOverrides = {},
): Promise<ChatPlatform[]> {
  const started: ChatPlatform[] = [];
  const isActiveThread = (thread: Parameters<typeof threadql.engine.isActiveThread>[0]) =>
    threadql.engine.isActiveThread(thread);
  try {
    // ---- Slack ----
    const slackEnv = slackEnvOptions(config.env);
    if (slackEnv) {
      const log = logger.child({ platform: 'slack' });
      const slack = new SlackPlatform({
        ...slackEnv,
        isActiveThread,
        helpText: () => threadql.engine.helpText('slack'),
        // User-group ids (S…) in approvers.slack, admins.slack and connections' access.slack become UserRef.roles,
        // which the approver, admin and access checks read.
        userGroups: [
          ...new Set([
            ...config.file.approvers.slack,
            ...config.file.admins.slack,
            ...config.file.connections.flatMap((c) => c.access?.slack ?? []),
          ]),
        ],
        assistant: { suggestedPrompts: await schemaPrompts(threadql, log), promptsTitle: 'Ask your data' },
        // Shared by every replica: a retried event is answered once whichever replica receives it (while Redis is
        // down, once per replica rather than not at all).
        once: degradingOnce(redisOnce(threadql.redis), memoryOnce(), (err) =>
          log.warn({ err }, 'event de-duplication fell back to this process (Redis unreachable)'),
        ),
        // /healthz, /readyz and /metrics next to the events endpoint (HTTP mode; ignored in Socket Mode).
        routes: operatorRoutes({
          metrics: threadql.metrics,
          checks: () => [...threadql.readinessChecks(), ...platformReadiness(started)],
        }),
        logger: boltLogger(log),
        logLevel: BOLT_LEVELS[log.level] ?? LogLevel.INFO,
        ...overrides.slack,
      });
      await slack.start(threadql.engine.handlersFor(slack));
      started.push(slack);
      overrides.onStarted?.(slack);
      const address = slack.httpAddress;
      if (slack.mode === 'socket') log.info('Slack started in Socket Mode');
      else
        log.info(
          { port: address?.port },
          `Slack started over HTTP (Events API) at ${address?.url ?? 'an unknown address'}`,
        );
    }

    // ---- Discord ----
    if (config.env.DISCORD_TOKEN) {
      const log = logger.child({ platform: 'discord' });
      const discord = new DiscordPlatform({
        token: config.env.DISCORD_TOKEN,
        ...(config.env.DISCORD_APPLICATION_ID ? { applicationId: config.env.DISCORD_APPLICATION_ID } : {}),
        ...(config.env.DISCORD_API_URL ? { apiUrl: config.env.DISCORD_API_URL } : {}),
        commands: { mode: config.file.discord.commands, guildIds: config.file.discord.guildIds },
        isActiveThread,
        logger: log,
        ...overrides.discord,
      });
      await discord.start(threadql.engine.handlersFor(discord));
      started.push(discord);
      overrides.onStarted?.(discord);
      log.info(`Discord started (gateway, slash commands: ${config.file.discord.commands})`);
    }
    // Scheduled reports go out once the platforms that deliver them run.
    await threadql.startScheduler(started);
  } catch (error) {
    for (const platform of started.reverse()) {
      await platform
        .stop()
        .catch((err: unknown) => logger.warn({ err, platform: platform.name }, 'stopping a platform failed'));
    }
    throw error;
  }
  return started;
}
