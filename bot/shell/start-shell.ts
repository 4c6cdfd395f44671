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
  /** ANSI styling (a terminal). */
  ansi?: boolean;
  /** Input prompt, e.g. `you> ` (a terminal). */
  prompt?: string;
}

/** Starts the terminal adapter on the given streams; resolves when the input ends and every turn is done. */
export async function runShell(options: StartShellOptions): Promise<ShellPlatform> {
  const shell = new ShellPlatform({
    input: options.input,
    output: options.output,
    outputDir: join(resolve(options.dataDir), 'out'),
    // A terminal needs no code fence around the table: indent it like the shell's code parts instead.
    formatTable: (result, previewRows, width) => {
      const text = renderTextTable(result, { maxWidth: width - 4, maxRows: previewRows, escape: 'none' });
      const indented = text.table
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n');
      return `\n${indented}\n  ${text.caption}`;
    },
    ...(options.userName ? { userName: options.userName } : {}),
    ...(options.threadId ? { threadId: options.threadId } : {}),
    ...(options.width ? { width: options.width } : {}),
    ...(options.ansi ? { ansi: true } : {}),
    ...(options.prompt ? { prompt: options.prompt } : {}),
  });
  await shell.start(options.threadql.engine.handlersFor(shell));
  // Scheduled reports of the shell print here as they fire.
  await options.threadql.startScheduler([shell]);
  return shell;
}
