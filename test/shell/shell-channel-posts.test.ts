/**
 * The terminal adapter prints scheduled reports as they fire, naming the channel, writes their files to disk, and
 * answers the channel check for any channel name.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ShellPlatform } from '../../bot/shell/shell-platform.ts';
import type { Reply } from '../../core/conversation/chat-platform.ts';
import { renderTextTable } from '../../renderers/table/text-table.ts';

const dir = mkdtempSync(join(tmpdir(), 'tq-shell-posts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function shell() {
  const output = new PassThrough();
  let text = '';
  output.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const platform = new ShellPlatform({
    input: new PassThrough(),
    output,
    outputDir: dir,
    formatTable: (result, rows, width) =>
      renderTextTable(result, { maxWidth: width, maxRows: rows, escape: 'none' }).message,
  });
  return { platform, text: () => text };
}

const report: Reply = {
  parts: [
    { type: 'text', text: '📊 *weekly-signups* · country=DE' },
    {
      type: 'table',
      result: {
        columns: [{ name: 'signups', type: 'integer', kind: 'number' }],
        rows: [[42]],
        rowCount: 1,
        truncated: false,
        durationMs: 2,
      },
      previewRows: 20,
    },
    {
      type: 'file',
      file: { filename: 'weekly.csv', mimeType: 'text/csv', data: Buffer.from('signups\n42\n') },
    },
    { type: 'context', text: 'sample · 1 row · tick Mon 9 Mar 2026, 09:00 UTC' },
  ],
  fallback: 'weekly-signups',
};

test('a scheduled report prints with its channel name, table, CSV path and footer', async () => {
  const { platform, text } = shell();
  const posted = await platform.postToChannel(
    { platform: 'shell', workspace: 'local', channel: 'reports' },
    report,
  );
  const out = text();
  expect(out).toContain(`threadql → #reports (${posted.messageId})> 📊 weekly-signups · country=DE`);
  expect(out).toContain('signups');
  expect(out).toContain('42');
  expect(out).toContain('tick Mon 9 Mar 2026, 09:00 UTC');
  const csvPath = /📎 (\S+weekly\.csv)/.exec(out)?.[1];
  expect(readFileSync(csvPath!, 'utf8')).toBe('signups\n42\n');
});

test('a direct message is marked as such; every channel can be posted to', async () => {
  const { platform, text } = shell();
  await platform.postDirect(platform.user, {
    parts: [{ type: 'text', text: 'your report failed' }],
    fallback: 'x',
  });
  expect(text()).toMatch(/threadql \(to you, m\d+\)> your report failed/);
  expect(
    await platform.describeChannel({ platform: 'shell', workspace: 'local', channel: 'reports' }),
  ).toEqual({
    canPost: true,
    audience: 'private',
    name: 'reports',
  });
});
