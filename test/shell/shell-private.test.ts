import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ShellPlatform } from '../../bot/shell/shell-platform.ts';
import { renderTextTable } from '../../renderers/table/text-table.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tq-shell-private-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a private reply is printed marked as only for the local user, its files saved', async () => {
  const output = new PassThrough();
  let text = '';
  output.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const shell = new ShellPlatform({
    input: new PassThrough(),
    output,
    outputDir: dir,
    formatTable: (result, rows, width) =>
      renderTextTable(result, { maxWidth: width, maxRows: rows, escape: 'none' }).message,
    userName: 'ana',
  });
  await shell.postPrivate(shell.thread, shell.user, {
    parts: [
      {
        type: 'table',
        result: {
          columns: [{ name: 'n', type: 'int', kind: 'number' }],
          rows: [[42]],
          rowCount: 1,
          truncated: false,
          durationMs: 1,
        },
        previewRows: 5,
      },
      {
        type: 'file',
        file: { filename: 'result.csv', mimeType: 'text/csv', data: Buffer.from('n\r\n42\r\n') },
      },
    ],
    fallback: '1 row',
  });
  expect(text).toMatch(/^threadql \(only you\)> /);
  expect(text).toContain('42');
  const saved = /📎 (\S+result\.csv)/.exec(text)?.[1];
  expect(saved && existsSync(saved) && readFileSync(saved, 'utf8')).toBe('n\r\n42\r\n');
});
