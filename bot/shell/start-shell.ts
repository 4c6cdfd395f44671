import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { renderTextTable } from '../../renderers/table/text-table.ts';
import type { Threadql } from '../create-threadql.ts';
import { ShellPlatform } from './shell-platform.ts';

export interface StartShellOptions {
  threadql: Threadql;
  input: Readable;
  output: Writable;
  dataDir: string;
  userName?: string;
  threadId?: string;
  width?: number;
}

/** Starts the terminal adapter on the given streams; resolves when the input ends and every turn is done. */
export async function runShell(options: StartShellOptions): Promise<ShellPlatform> {
  const shell = new ShellPlatform({
    input: options.input,
    output: options.output,
    outputDir: join(resolve(options.dataDir), 'out'),
    formatTable: (result, previewRows, width) =>
      renderTextTable(result, { maxWidth: width, maxRows: previewRows, escape: 'none' }).message,
    ...(options.userName ? { userName: options.userName } : {}),
    ...(options.threadId ? { threadId: options.threadId } : {}),
    ...(options.width ? { width: options.width } : {}),
  });
  await shell.start(options.threadql.engine.handlersFor(shell));
  return shell;
}
