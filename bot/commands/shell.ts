import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.ts';
import { pathList } from '../../config/process-info.ts';
import { createLogger, textLogStream } from '../../core/logger.ts';
import { toUserMessage } from '../../core/errors.ts';
import { createThreadql } from '../create-threadql.ts';
import { runShell } from '../shell/start-shell.ts';

/** Runs threadql in this terminal: questions on stdin, replies on stdout (logs on stderr). */
export async function startShellSession(options: { user?: string; thread?: string }): Promise<void> {
  const config = await loadConfig();
  // One format for every start-up line: the log's lines are printed as plain text like the rest.
  const logger = createLogger(
    config.env.THREADQL_LOG_LEVEL === 'info' ? 'warn' : config.env.THREADQL_LOG_LEVEL,
    textLogStream(process.stderr),
  );
  const threadql = await createThreadql({
    config,
    logger,
    pathList: pathList(),
    onProgress: (m) => process.stderr.write(`threadql: ${m}\n`),
  });
  const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
  try {
    for (const line of threadql.describe()) process.stderr.write(`threadql: ${line}\n`);
    process.stdout.write('threadql shell: ask a question, paste SQL, or type "help". Ctrl-D quits.\n');
    const shell = await runShell({
      ansi: terminal && !config.env.NO_COLOR,
      ...(terminal ? { prompt: 'you> ' } : {}),
      threadql,
      input: process.stdin,
      output: process.stdout,
      dataDir: config.env.THREADQL_DATA_DIR,
      ...(options.user ? { userName: options.user } : {}),
      ...(options.thread ? { threadId: options.thread } : {}),
      width: process.stdout.columns ? Math.max(60, process.stdout.columns - 2) : 100,
    });
    await shell.finished();
    await threadql.engine.idle();
  } finally {
    await threadql.close();
  }
}

export function registerShellCommand(program: Command): void {
  program
    .command('shell')
    .description('chat with threadql in this terminal (buttons become numbered choices)')
    .option('--user <name>', 'your user name in this session', 'you')
    .option('--thread <id>', 'continue an earlier shell thread')
    .action(async (opts: { user?: string; thread?: string }) => {
      try {
        await startShellSession(opts);
      } catch (error) {
        process.stderr.write(`threadql: ${toUserMessage(error)}\n`);
        process.exitCode = 1;
      }
    });
}
