import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.ts';
import { pathList } from '../../config/process-info.ts';
import { toUserMessage } from '../../core/errors.ts';
import { createLogger } from '../../core/logger.ts';
import type { ChatPlatform } from '../../core/conversation/chat-platform.ts';
import { createThreadql, type Threadql } from '../create-threadql.ts';
import { GracefulShutdown } from '../graceful-shutdown.ts';
import { operatorRoutes, startOperatorServer } from '../operator/operator-endpoints.ts';
import { platformReadiness } from '../operator/platform-readiness.ts';
import { SlackPlatform } from '../slack/slack-platform.ts';
import { startPlatforms } from '../start-platforms.ts';
import { startShellSession } from './shell.ts';

/** Prints why threadql cannot start and exits non-zero at once (a Redis client retrying must not keep it alive). */
function startFailed(error: unknown): never {
  process.stderr.write(`threadql: cannot start: ${toUserMessage(error)}\n`);
  process.exit(1);
}

/** `threadql run`: serves Slack and/or Discord when their tokens are set; otherwise the terminal shell. */
export function registerRunCommand(program: Command): void {
  program
    .command('run', { isDefault: true })
    .description('start threadql: Slack and/or Discord when configured, else the terminal shell')
    .action(async () => {
      let config;
      try {
        config = await loadConfig();
      } catch (error) {
        startFailed(error);
      }
      if (!config.env.SLACK_BOT_TOKEN && !config.env.DISCORD_TOKEN) {
        process.stderr.write(
          'threadql: no SLACK_BOT_TOKEN or DISCORD_TOKEN set, starting the terminal shell\n',
        );
        try {
          await startShellSession({});
        } catch (error) {
          startFailed(error);
        }
        return;
      }
      const logger = createLogger(config.env.THREADQL_LOG_LEVEL);
      // Signals are handled from the start: one that arrives while threadql is still starting (the scheduler
      // connecting after Slack already serves) shuts down what has started instead of killing the process mid-turn.
      let threadql: Threadql | undefined;
      // Filled as each platform starts serving, so a shutdown during start-up stops the ones already serving.
      const platforms: ChatPlatform[] = [];
      let operator: { port: number; close(): Promise<void> } | undefined;
      new GracefulShutdown({
        graceMs: config.file.shutdown.graceMs,
        logger,
        steps: {
          cancel: () => threadql?.cancel(),
          drain: async () => {
            // Stop taking events first (a load balancer moves on), then let the cancelled turns write their replies.
            await Promise.all(
              platforms.map((p) => (p instanceof SlackPlatform ? p.stopAccepting() : undefined)),
            );
            await threadql?.engine.idle();
            for (const p of platforms)
              await p.stop().catch((err: unknown) => logger.warn({ err, platform: p.name }, 'stop failed'));
          },
          close: async () => {
            await operator?.close();
            await threadql?.close();
          },
        },
      }).install();
      try {
        threadql = await createThreadql({
          config,
          logger,
          pathList: pathList(),
          onProgress: (m) => logger.info(m),
        });
      } catch (error) {
        startFailed(error);
      }
      const started = threadql;
      for (const line of started.describe()) logger.info(line);
      await startPlatforms(started, config, logger, {
        onStarted: (platform) => platforms.push(platform),
      }).catch(async (error: unknown) => {
        await started.close();
        startFailed(error);
      });
      // In Slack HTTP mode the operator endpoints share Bolt's port; otherwise they get HEALTH_PORT, when set.
      const slackHttp = platforms.some((p) => p instanceof SlackPlatform && p.mode === 'http');
      if (!slackHttp && config.env.HEALTH_PORT) {
        operator = await startOperatorServer(
          operatorRoutes({
            metrics: started.metrics,
            checks: () => [...started.readinessChecks(), ...platformReadiness(platforms)],
          }),
          { port: config.env.HEALTH_PORT },
        ).catch(async (error: unknown) => {
          for (const p of platforms) await p.stop().catch(() => {});
          await started.close();
          startFailed(error);
        });
        logger.info({ port: operator.port }, 'operator endpoints: /healthz, /readyz, /metrics');
      }
    });
}
