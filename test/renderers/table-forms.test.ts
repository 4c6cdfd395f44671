import { renderSlackTableBlock } from '../../renderers/table/slack-table-block.ts';
import { renderTablePng } from '../../renderers/table/table-png.ts';
import { chooseTableForm } from '../../renderers/table/choose-table-form.ts';
import { pngSize, pngStats } from './support/png-pixels.ts';
import { resultOf } from './support/results.ts';

const orders = resultOf(
  [
    ['order_id', 'number'],
    ['customer', 'string'],
    ['total', 'number'],
    ['ordered_at', 'datetime'],
  ],
  [
    [1, 'Anna <script>', '19.90', new Date('2024-05-01T10:00:00Z')],
    [2, '', 5, null],
    [3, null, 1234567.5, new Date('2024-05-02T00:00:00Z')],
  ],
);

describe('renderSlackTableBlock', () => {
  it('builds a table block: header row, raw_text cells, numbers right-aligned, NULL and empty visible', () => {
    const out = renderSlackTableBlock(orders);
    if (!out.ok) throw new Error(out.reason);
    expect(out.block.type).toBe('table');
    expect(out.block.rows[0]).toEqual([
      { type: 'raw_text', text: 'order_id' },
      { type: 'raw_text', text: 'customer' },
      { type: 'raw_text', text: 'total' },
      { type: 'raw_text', text: 'ordered_at' },
    ]);
    expect(out.block.rows[1]!.map((c) => c.text)).toEqual([
      '1',
      'Anna <script>',
      '19.90',
      '2024-05-01 10:00:00',
    ]);
    expect(out.block.rows[2]!.map((c) => c.text)).toEqual(['2', '(empty)', '5', 'NULL']);
    expect(out.block.rows[3]!.map((c) => c.text)).toEqual(['3', 'NULL', '1234567.5', '2024-05-02 00:00:00']);
    expect(out.block.column_settings).toEqual([
      { align: 'right' },
      { align: 'left' },
      { align: 'right' },
      { align: 'left' },
    ]);
    for (const row of out.block.rows) for (const cell of row) expect(cell.text.length).toBeGreaterThan(0);
    expect(out.caption).toBe('3 rows');
  });

  it('keeps within Slack limits: at most 100 rows with the header, cells cut, a character budget', () => {
    const many = resultOf(
      [
        ['n', 'number'],
        ['text', 'string'],
      ],
      Array.from({ length: 500 }, (_, i) => [i, 'x'.repeat(20)]),
      true,
    );
    const out = renderSlackTableBlock(many);
    if (!out.ok) throw new Error(out.reason);
    expect(out.block.rows).toHaveLength(100);
    expect(out.caption).toBe('showing 99 of 500+ rows');

    const long = resultOf([['text', 'string']], [['y'.repeat(5000)]]);
    const cut = renderSlackTableBlock(long, { maxCellChars: 200 });
    if (!cut.ok) throw new Error(cut.reason);
    expect([...cut.block.rows[1]![0]!.text]).toHaveLength(200);
    expect(cut.block.rows[1]![0]!.text.endsWith('…')).toBe(true);

    const budget = renderSlackTableBlock(many, { maxTotalChars: 1000 });
    if (!budget.ok) throw new Error(budget.reason);
    const chars = budget.block.rows.flat().reduce((n, c) => n + c.text.length, 0);
    expect(chars).toBeLessThanOrEqual(1000);
    expect(budget.shownRows).toBeGreaterThan(10);
  });

  it('refuses results wider than 20 columns (the caller then uses text or a PNG)', () => {
    const wide = resultOf(
      Array.from({ length: 21 }, (_, i) => [`c${i}`, 'number'] as [string, 'number']),
      [Array.from({ length: 21 }, (_, i) => i)],
    );
    const out = renderSlackTableBlock(wide);
    expect(out).toEqual({ ok: false, reason: "21 columns exceed the table block's 20" });
  });
});

describe('chooseTableForm', () => {
  const slack = { tableBlocks: true, codeBlockWidth: 80 };
  const discord = { tableBlocks: false, codeBlockWidth: 60 };

  it('uses the Slack table block where it fits, text where every column fits, a PNG otherwise', () => {
    expect(chooseTableForm(orders, slack)).toBe('table_block');
    expect(chooseTableForm(orders, discord)).toBe('text');
    const wide = resultOf(
      Array.from({ length: 12 }, (_, i) => [`measure_${i}`, 'number'] as [string, 'number']),
      [Array.from({ length: 12 }, (_, i) => 1_000_000 + i)],
    );
    expect(chooseTableForm(wide, discord)).toBe('png');
    const tooWideForBlock = resultOf(
      Array.from({ length: 25 }, (_, i) => [`c${i}`, 'number'] as [string, 'number']),
      [Array.from({ length: 25 }, (_, i) => i)],
    );
    expect(chooseTableForm(tooWideForBlock, slack)).toBe('png');
  });

  it('prefers the PNG when most text cells would be cut', () => {
    const prose = resultOf(
      [
        ['title', 'string'],
        ['body', 'string'],
      ],
      Array.from({ length: 5 }, (_, i) => [
        `A long title number ${i} for a post`,
        `A long body of text, item ${i}, ${'x'.repeat(60)}`,
      ]),
    );
    expect(chooseTableForm(prose, discord)).toBe('png');
  });
});

describe('renderTablePng', () => {
  it('draws a readable table: 2× pixels, dark text on white, header and zebra colours, NULL in grey', async () => {
    const out = await renderTablePng(orders, { title: 'Latest orders' });
    const size = pngSize(out.png);
    expect(size).toEqual({ width: out.width, height: out.height });
    const stats = pngStats(out.png);
    expect(stats.width).toBeGreaterThan(600);
    expect(stats.height).toBeGreaterThan(200);
    expect(stats.darkShare).toBeGreaterThan(0.01);
    expect(stats.inkShare).toBeLessThan(0.6);
    expect(stats.colours).toBeGreaterThan(8);
    // The SVG it was drawn from holds every header, value and the caption, escaped for XML.
    for (const text of [
      'order_id',
      'customer',
      'ordered_at',
      '1234567.5',
      'Latest orders',
      '3 rows',
      'NULL',
    ]) {
      expect(out.svg).toContain(text);
    }
    expect(out.svg).toContain('Anna &lt;script&gt;');
    expect(out.svg).toMatch(/text-anchor="end"[^>]*>1234567\.5</);
  });

  it('leaves out columns past the width cap and says so', async () => {
    const wide = resultOf(
      Array.from({ length: 40 }, (_, i) => [`column_number_${i}`, 'string'] as [string, 'string']),
      [Array.from({ length: 40 }, (_, i) => `value ${i}`)],
    );
    const out = await renderTablePng(wide, { maxWidthPx: 1200 });
    expect(out.shownColumns).toBeLessThan(40);
    expect(out.hiddenColumns[0]).toBe(`column_number_${out.shownColumns}`);
    expect(out.width).toBeLessThanOrEqual(2400);
    expect(out.caption).toMatch(/more columns not shown/);
  });
});
