/**
 * The shell reads like a terminal program: mrkdwn becomes ANSI styles on a terminal and plain text elsewhere, and a
 * `you>` prompt waits for each line (the shell adapter on in-memory streams; the whole pipeline with the real
 * engine is in test/e2e/shell-pipeline.test.ts).
 */
import { PassThrough } from 'node:stream';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShellPlatform } from '../../bot/shell/shell-platform.ts';
import { mrkdwnToTerminal } from '../../bot/shell/terminal-text.ts';
import type { PlatformHandlers } from '../../core/conversation/chat-platform.ts';

const BOLD = '\u001b[1m';
const NORMAL = '\u001b[22m';
const CYAN = '\u001b[36m';
const DEFAULT = '\u001b[39m';

describe('mrkdwn for a terminal', () => {
  test('plain: the markers go, a link keeps its URL, entities are decoded', () => {
    expect(
      mrkdwnToTerminal(
        'connection *sample* · read · `SELECT 1` · <https://x.test/a?b=1&amp;c=2|the docs> · _soon_ · ~old~',
        { ansi: false },
      ),
    ).toBe('connection sample · read · SELECT 1 · the docs (https://x.test/a?b=1&c=2) · soon · old');
    expect(mrkdwnToTerminal('<https://x.test> and <@U0ALICE> &lt;tag&gt;', { ansi: false })).toBe(
      'https://x.test and @U0ALICE <tag>',
    );
  });

  test('ANSI: bold and code are styled, and nothing inside code is', () => {
    expect(mrkdwnToTerminal('*Run* `a*b*c`', { ansi: true })).toBe(
      `${BOLD}Run${NORMAL} ${CYAN}a*b*c${DEFAULT}`,
    );
  });

  test('not emphasis: arithmetic, snake_case, and fenced blocks stay as they are', () => {
    expect(mrkdwnToTerminal('2 * 3 * 4 and created_at_date', { ansi: false })).toBe(
      '2 * 3 * 4 and created_at_date',
    );
    expect(mrkdwnToTerminal('send ```sql\nSELECT *a* FROM t\n``` *now*', { ansi: false })).toBe(
      'send ```sql\nSELECT *a* FROM t\n``` now',
    );
  });
});

describe('the shell prompt', () => {
  test('"you> " is shown at start and again once each line has been answered', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (c: Buffer) => (text += c.toString()));
    const shell = new ShellPlatform({
      input,
      output,
      outputDir: mkdtempSync(join(tmpdir(), 'threadql-shell-')),
      formatTable: () => '',
      prompt: 'you> ',
      ansi: true,
    });
    const handlers: PlatformHandlers = {
      onMessage: async (message) => {
        await shell.post(message.thread, {
          parts: [{ type: 'text', text: `You asked *${message.text}*` }],
          fallback: 'x',
        });
      },
      onButton: async () => {},
      onModalSubmit: async () => {},
    };
    await shell.start(handlers);
    input.write('hello\n');
    input.end();
    await shell.finished();
    expect(text).toBe(`you> threadql (m2)> You asked ${BOLD}hello${NORMAL}\nyou> \n`);
  });
});
