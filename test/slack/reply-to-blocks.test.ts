import type { Reply } from '../../core/conversation/chat-platform.ts';
import type { QueryResult } from '../../core/db/database-dialect.ts';
import {
  actionFromId,
  decodeFeedbackValue,
  encodeFeedbackValue,
  replyToBlocks,
} from '../../bot/slack/reply-to-blocks.ts';
import { slackTableRenderers } from '../../bot/slack/slack-tables.ts';
import { splitText } from '../../bot/slack/slack-text.ts';

const tables = slackTableRenderers(80);

interface AnyBlockJson {
  type: string;
  text?: { text: string };
  elements?: {
    type: string;
    action_id?: string;
    value?: string;
    style?: string;
    text: string | { text: string };
  }[];
  rows?: unknown[][];
}

function blocksOf(reply: Reply, tableBlocks = true) {
  const message = replyToBlocks(reply, { tables, tableBlocks });
  return { ...message, blocks: message.blocks as unknown as AnyBlockJson[] };
}

function result(rows: number, cols: number): QueryResult {
  return {
    columns: Array.from({ length: cols }, (_, c) => ({
      name: `col${c}`,
      type: 'int',
      kind: 'number' as const,
    })),
    rows: Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => r * cols + c)),
    rowCount: rows,
    truncated: false,
    durationMs: 3,
  };
}

describe('replyToBlocks', () => {
  it('escapes &, < and > in text and turns **bold** into mrkdwn bold', () => {
    const { blocks, text } = blocksOf({
      parts: [{ type: 'text', text: 'a < b && **c** > d' }],
      fallback: 'fallback text',
    });
    expect(blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: 'a &lt; b &amp;&amp; *c* &gt; d' } },
    ]);
    expect(text).toBe('fallback text');
  });

  it('splits long SQL over several fenced sections, each under 3,000 characters', () => {
    const sql = Array.from(
      { length: 400 },
      (_, i) => `SELECT ${i} AS n FROM orders o WHERE o.total > ${i} -- line ${i}`,
    ).join('\n');
    expect(sql.length).toBeGreaterThan(9000);
    const { blocks, truncated } = blocksOf({
      parts: [{ type: 'code', code: sql, language: 'sql' }],
      fallback: 'sql',
    });
    expect(truncated).toBe(false);
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    for (const b of blocks) {
      expect(b.type).toBe('section');
      expect(b.text!.text.length).toBeLessThanOrEqual(3000);
      expect(b.text!.text.startsWith('```\n')).toBe(true);
      expect(b.text!.text.endsWith('\n```')).toBe(true);
    }
    // Nothing lost: the chunks, unfenced and unescaped, rebuild the statement.
    const rebuilt = blocks
      .map((b) => b.text!.text.slice(4, -4))
      .join('\n')
      .replace(/&gt;/g, '>');
    expect(rebuilt).toBe(sql);
  });

  it('keeps the buttons and notes the cut when content exceeds 50 blocks', () => {
    const parts: Reply['parts'] = Array.from({ length: 80 }, (_, i) => ({
      type: 'text' as const,
      text: `paragraph ${i}`,
    }));
    parts.push({
      type: 'buttons',
      buttons: [{ action: 'run', label: 'Run', style: 'primary', value: 'tok1' }],
    });
    const { blocks, truncated } = blocksOf({ parts, fallback: 'long' });
    expect(truncated).toBe(true);
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(blocks.at(-1)!.type).toBe('actions');
    const note = blocks.find((b) => b.type === 'context');
    expect(JSON.stringify(note)).toContain("shortened to fit Slack's message limits");
  });

  it('stays under 40,000 characters in total', () => {
    const parts: Reply['parts'] = Array.from({ length: 20 }, () => ({
      type: 'text' as const,
      text: 'x'.repeat(2900),
    }));
    const { blocks, truncated } = blocksOf({ parts, fallback: 'big' });
    const chars = blocks.reduce((n, b) => n + (b.text?.text.length ?? JSON.stringify(b).length), 0);
    expect(truncated).toBe(true);
    expect(chars).toBeLessThanOrEqual(40_000);
  });

  it('makes buttons an actions block with threadql action ids and values', () => {
    const { blocks } = blocksOf({
      parts: [
        {
          type: 'buttons',
          buttons: [
            { action: 'run', label: 'Run', style: 'primary', value: 't1' },
            { action: 'edit', label: 'Edit SQL', value: 't1' },
            { action: 'cancel', label: 'Cancel', style: 'danger', value: 't1' },
          ],
        },
      ],
      fallback: 'card',
    });
    expect(blocks).toHaveLength(1);
    const els = blocks[0]!.elements!;
    expect(els.map((e) => [e.action_id, e.value, e.style])).toEqual([
      ['threadql:run', 't1', 'primary'],
      ['threadql:edit', 't1', undefined],
      ['threadql:cancel', 't1', 'danger'],
    ]);
    expect(actionFromId('threadql:run#2')).toBe('run');
    expect(actionFromId('other:run')).toBeUndefined();
  });

  describe("Slack's native feedback buttons", () => {
    const reply: Reply = {
      parts: [
        { type: 'context', text: 'sample · 3 rows' },
        {
          type: 'buttons',
          buttons: [
            { action: 'feedback_up', label: '👍', value: 'slack:T1:C1:1.2:3' },
            { action: 'feedback_down', label: '👎', value: 'slack:T1:C1:1.2:3' },
            { action: 'save', label: 'Save', value: 'q1' },
          ],
        },
      ],
      fallback: 'result',
    };

    it('turns the 👍/👎 pair into feedback_buttons in a context_actions block, other buttons staying buttons', () => {
      const { blocks } = replyToBlocks(reply, { tables, nativeFeedback: true });
      expect(blocks.map((b) => b.type)).toEqual(['context', 'actions', 'context_actions']);
      expect(blocks[1]).toMatchObject({ elements: [{ type: 'button', action_id: 'threadql:save' }] });
      expect(blocks[2]).toEqual({
        type: 'context_actions',
        elements: [
          {
            type: 'feedback_buttons',
            action_id: 'threadql:feedback',
            positive_button: {
              text: { type: 'plain_text', text: '👍', emoji: true },
              value: 'feedback_up:slack:T1:C1:1.2:3',
              accessibility_label: 'This answer was helpful',
            },
            negative_button: {
              text: { type: 'plain_text', text: '👎', emoji: true },
              value: 'feedback_down:slack:T1:C1:1.2:3',
              accessibility_label: 'This answer was not helpful',
            },
          },
        ],
      });
    });

    it('keeps plain buttons when native feedback is off or the pair is incomplete', () => {
      expect(replyToBlocks(reply, { tables }).blocks.map((b) => b.type)).toEqual(['context', 'actions']);
      const onlyUp: Reply = {
        parts: [{ type: 'buttons', buttons: [{ action: 'feedback_up', label: '👍', value: 'v' }] }],
        fallback: 'x',
      };
      expect(replyToBlocks(onlyUp, { tables, nativeFeedback: true }).blocks.map((b) => b.type)).toEqual([
        'actions',
      ]);
    });

    it('round-trips the side through the value and refuses values that are not feedback', () => {
      expect(decodeFeedbackValue(encodeFeedbackValue('feedback_down', 'a:b:7'))).toEqual({
        action: 'feedback_down',
        value: 'a:b:7',
      });
      expect(decodeFeedbackValue('run:tok')).toBeUndefined();
      expect(decodeFeedbackValue('positive_feedback')).toBeUndefined();
      expect(encodeFeedbackValue('feedback_up', 'x'.repeat(3000)).length).toBeLessThanOrEqual(2000);
    });
  });

  it('uses one Slack table block when a table fits, and text tables otherwise', () => {
    const small = result(5, 3);
    const { blocks } = blocksOf({
      parts: [
        { type: 'table', result: small, previewRows: 20, title: 'Signups' },
        { type: 'table', result: small, previewRows: 20 },
        { type: 'table', result: result(10, 25), previewRows: 10 },
      ],
      fallback: 'tables',
    });
    const types = blocks.map((b) => b.type);
    expect(types.filter((t) => t === 'table')).toHaveLength(1);
    expect(blocks[0]!.text!.text).toBe('*Signups*');
    expect(blocks[1]!.rows).toHaveLength(6);
    // The second small table and the 25-column one fall back to code blocks.
    const code = blocks.filter((b) => b.type === 'section' && b.text!.text.startsWith('```'));
    expect(code.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(blocks)).toContain('5 rows');
  });

  it('uses the text table when table blocks are off', () => {
    const { blocks } = blocksOf(
      { parts: [{ type: 'table', result: result(3, 2), previewRows: 20 }], fallback: 't' },
      false,
    );
    expect(blocks[0]!.text!.text).toMatch(/^```\ncol0/);
  });

  it('collects images and files for upload, and renders context as a context block', () => {
    const png = { filename: 'chart.png', mimeType: 'image/png', data: Buffer.from([1, 2, 3]) };
    const csv = { filename: 'result.csv', mimeType: 'text/csv', data: Buffer.from('a,b\n1,2\n') };
    const { blocks, files } = blocksOf({
      parts: [
        { type: 'context', text: 'shop · 12 rows · 40 ms' },
        { type: 'image', image: png, alt: 'weekly signups' },
        { type: 'file', file: csv },
      ],
      fallback: 'result',
    });
    expect(blocks).toEqual([
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'shop · 12 rows · 40 ms' }] },
    ]);
    expect(files.map((f) => [f.filename, f.altText])).toEqual([
      ['chart.png', 'weekly signups'],
      ['result.csv', undefined],
    ]);
  });
});

describe('splitText', () => {
  it('never cuts inside an escaped entity', () => {
    const text = `${'a'.repeat(9)}&amp;b`;
    const chunks = splitText(text, 12);
    expect(chunks.join('')).toBe(text);
    expect(chunks.every((c) => !/&[a-z]*$/.test(c) || c.endsWith(';'))).toBe(true);
  });
});

describe('mentions', () => {
  const mention = (id: string) => (id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`);

  it('renders a reply’s mentions natively, first and in the notification text; text parts cannot forge one', () => {
    const message = replyToBlocks(
      {
        parts: [{ type: 'text', text: 'ping <@U0EVIL> and <!channel>' }],
        fallback: 'Approval needed',
        mentions: ['U0ANN', 'S0DBAS'],
      },
      { tables, mention },
    );
    const blocks = message.blocks as unknown as AnyBlockJson[];
    expect(blocks[0]?.text?.text).toBe('<@U0ANN> <!subteam^S0DBAS>');
    expect(blocks[1]?.text?.text).toBe('ping &lt;@U0EVIL&gt; and &lt;!channel&gt;');
    expect(message.text).toBe('<@U0ANN> <!subteam^S0DBAS> Approval needed');
  });

  it('leaves mentions out without a mention function (and with none to make)', () => {
    const reply: Reply = { parts: [{ type: 'text', text: 'hi' }], fallback: 'hi', mentions: ['U1'] };
    expect(replyToBlocks(reply, { tables }).text).toBe('hi');
    expect(replyToBlocks({ ...reply, mentions: [] }, { tables, mention }).blocks).toHaveLength(1);
  });
});
