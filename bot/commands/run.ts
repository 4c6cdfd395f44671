import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.ts';
import { pathList } from '../../config/process-info.ts';
import { toUserMessage } from '../../core/errors.ts';
import { createLogger } from '../../core/logger.ts';
import { createThreadql } from '../create-threadql.ts';
import { startPlatforms } from '../start-platforms.ts';
import { startShellSession } from './shell.ts';

/** `threadql run`: serves Slack and/or Discord when their tokens are set; otherwise the terminal shell. */
export function registerRunCommand(program: Command): void {
  program
    .command('run', { isDefault: true })
    .description('start threadql: Slack and/or Discord when configured, else the terminal shell')
    .action(async () => {
      try {
        const config = await loadConfig();
        if (!config.env.SLACK_BOT_TOKEN && !config.env.DISCORD_TOKEN) {
          process.stderr.write(
            'threadql: no SLACK_BOT_TOKEN or DISCORD_TOKEN set, starting the terminal shell\n',
          );
          await startShellSession({});
          return;
        }
        const logger = createLogger(config.env.THREADQL_LOG_LEVEL);
        const threadql = await createThreadql({
          config,
          logger,
          pathList: pathList(),
          onProgress: (m) => logger.info(m),
        });
        for (const line of threadql.describe()) logger.info(line);
        const platforms = await startPlatforms(threadql, config, logger).catch(async (error: unknown) => {
          await threadql.close();
          throw error;
        });
        const stop = async () => {
          logger.info('shutting down');
          for (const p of platforms) await p.stop().catch(() => {});
          await threadql.close();
          process.exit(0);
        };
        process.once('SIGINT', () => void stop());
        process.once('SIGTERM', () => void stop());
      } catch (error) {
        process.stderr.write(`threadql: ${toUserMessage(error)}\n`);
        process.exitCode = 1;
      }
    });
}
