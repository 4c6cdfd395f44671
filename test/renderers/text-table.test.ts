import { displayWidth } from '../../renderers/format/display-width.ts';
import { escapeForCodeBlock, renderTextTable } from '../../renderers/table/text-table.ts';
import { rowCountCaption } from '../../renderers/table/row-count-caption.ts';
import { resultOf } from './support/results.ts';

const lines = (table: string) => table.split('\n');

describe('renderTextTable', () => {
  const people = resultOf(
    [
      ['id', 'number'],
      ['name', 'string'],
      ['revenue', 'number'],
      ['signed_up', 'date'],
    ],
    [
      [1, 'Anna', '12345.50', new Date('2024-03-01T00:00:00Z')],
      [22, 'Ben', 7.25, new Date('2024-05-12T00:00:00Z')],
      [333, 'Chen', null, null],
    ],
  );

  it('lays out a header, a rule and one line per row, numbers right-aligned', () => {
    const t = renderTextTable(people, { maxWidth: 80 });
    expect(lines(t.table)).toEqual([
      ' id │ name │  revenue │ signed_up',
      '────┼──────┼──────────┼───────────',
      '  1 │ Anna │ 12345.50 │ 2024-03-01',
      ' 22 │ Ben  │     7.25 │ 2024-05-12',
      '333 │ Chen │     NULL │ NULL',
    ]);
    expect(t.caption).toBe('3 rows');
    expect(t.message).toBe(`\`\`\`\n${t.table}\n\`\`\`\n3 rows`);
    expect(t.hiddenColumns).toEqual([]);
    expect(t.cutCells).toBe(false);
  });

  it('shows NULL distinctly from an empty string and from the text "NULL" when asked to', () => {
    const r = resultOf([['note', 'string']], [[null], [''], ['x']]);
    const t = renderTextTable(r, { maxWidth: 40, nullText: '∅' });
    expect(lines(t.table).slice(2)).toEqual(['∅', '', 'x']);
  });

  it('says "showing X of Y rows" with the row cap and the known total', () => {
    const rows = Array.from({ length: 50 }, (_, i) => [i]);
    const capped = resultOf([['n', 'number']], rows, true);
    expect(renderTextTable(capped, { maxWidth: 40, maxRows: 20 }).caption).toBe('showing 20 of 50+ rows');
    expect(renderTextTable(capped, { maxWidth: 40, maxRows: 20, totalRows: 1284 }).caption).toBe(
      'showing 20 of 1,284 rows',
    );
    expect(renderTextTable(resultOf([['n', 'number']], [[1]]), { maxWidth: 40 }).caption).toBe('1 row');
  });

  it('fits the code-block width: no line is wider, long text is cut with …, numbers and dates never', () => {
    const wide = resultOf(
      [
        ['customer_name', 'string'],
        ['description', 'string'],
        ['total', 'number'],
        ['ordered', 'datetime'],
      ],
      [
        [
          'A very long customer name that goes on',
          'Lorem ipsum dolor sit amet, consectetur adipiscing elit',
          '1234567.89',
          new Date('2024-01-02T03:04:05Z'),
        ],
      ],
    );
    for (const width of [60, 72, 100]) {
      const t = renderTextTable(wide, { maxWidth: width });
      for (const line of lines(t.table)) expect(displayWidth(line)).toBeLessThanOrEqual(width);
      expect(t.table).toContain('1234567.89');
      expect(t.table).toContain('2024-01-02 03:04:05');
      expect(t.hiddenColumns).toEqual([]);
    }
    const narrow = renderTextTable(wide, { maxWidth: 60 });
    expect(narrow.cutCells).toBe(true);
    expect(narrow.table).toMatch(/A very[^│]*…/);
  });

  it('leaves out trailing columns it cannot fit and names them in the caption', () => {
    const r = resultOf(
      ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'].map(
        (n) => [n, 'number'] as [string, 'number'],
      ),
      [[1000000, 2000000, 3000000, 4000000, 5000000, 6000000]],
    );
    const t = renderTextTable(r, { maxWidth: 30 });
    for (const line of lines(t.table)) expect(displayWidth(line)).toBeLessThanOrEqual(30);
    expect(t.shownColumns).toBe(3);
    expect(t.hiddenColumns).toEqual(['delta', 'echo', 'foxtrot']);
    expect(t.caption).toBe('1 row · 3 more columns not shown (delta, echo, foxtrot)');
  });

  it('measures CJK and emoji as two columns, so the separators line up', () => {
    const r = resultOf(
      [
        ['city', 'string'],
        ['n', 'number'],
      ],
      [
        ['東京', 1],
        ['Zürich', 22],
        ['😀 party', 333],
        ['e\u0301te\u0301', 4],
      ],
    );
    const t = renderTextTable(r, { maxWidth: 40 });
    const separatorColumns = lines(t.table)
      .filter((line) => line.includes('│'))
      .map((line) => displayWidth(line.slice(0, line.indexOf('│'))));
    expect(new Set(separatorColumns).size).toBe(1);
    expect(lines(t.table)[2]).toBe('東京     │   1');
    expect(lines(t.table)[5]).toBe('e\u0301te\u0301      │   4');
  });

  it('cuts wide characters without splitting them or overflowing', () => {
    const r = resultOf(
      [['text', 'string']],
      [['漢字漢字漢字漢字漢字漢字漢字漢字'], ['👩‍👩‍👧‍👦 family emoji sequence']],
    );
    const t = renderTextTable(r, { maxWidth: 9 });
    for (const line of lines(t.table)) expect(displayWidth(line)).toBeLessThanOrEqual(9);
    expect(lines(t.table)[2]).toBe('漢字漢字…');
    expect(lines(t.table)[3]).toBe('👩‍👩‍👧‍👦 famil…');
  });

  it('puts each value on one line: line breaks and tabs are made visible', () => {
    const t = renderTextTable(resultOf([['v', 'string']], [['one\ntwo\tthree\r\nfour']]), { maxWidth: 60 });
    expect(lines(t.table)).toHaveLength(3);
    expect(lines(t.table)[2]).toBe('one↵two three↵four');
  });

  it('escapes for Slack (&, <, >) and breaks up ``` on every platform', () => {
    const r = resultOf([['v', 'string']], [['<@U123> & <!channel> ```x```']]);
    const slack = renderTextTable(r, { maxWidth: 80, escape: 'slack' });
    expect(slack.table).toContain('&lt;@U123&gt; &amp; &lt;!channel&gt;');
    expect(slack.table).not.toContain('```');
    const discord = renderTextTable(r, { maxWidth: 80, escape: 'discord' });
    expect(discord.table).toContain('<@U123> & <!channel>');
    expect(discord.table).not.toContain('```');
    expect(discord.message.match(/```/g)).toHaveLength(2);
    expect(escapeForCodeBlock('a````b', 'none')).not.toContain('```');
  });

  it('drops rows until the whole message fits the character budget', () => {
    const rows = Array.from({ length: 200 }, (_, i) => [i, `row number ${i} with some text`]);
    const r = resultOf(
      [
        ['n', 'number'],
        ['text', 'string'],
      ],
      rows,
    );
    const t = renderTextTable(r, { maxWidth: 80, maxRows: 200, maxChars: 2000 });
    expect(t.message.length).toBeLessThanOrEqual(2000);
    expect(t.shownRows).toBeGreaterThan(30);
    expect(t.caption).toBe(`showing ${t.shownRows} of 200 rows`);
  });

  it('formats values by kind: booleans, JSON, binary, bigint and float noise', () => {
    const r = resultOf(
      [
        ['b', 'boolean'],
        ['j', 'json'],
        ['bin', 'binary'],
        ['big', 'number'],
        ['f', 'number'],
      ],
      [[true, { a: [1, 2] }, Buffer.from([0xde, 0xad]), 12345678901234567890n, 0.1 + 0.2]],
    );
    const t = renderTextTable(r, { maxWidth: 120 });
    expect(lines(t.table)[2]).toBe('true │ {"a":[1,2]} │ 0xdead │ 12345678901234567890 │ 0.3');
  });
});

describe('rowCountCaption', () => {
  it('uses thousands separators and marks a capped total with +', () => {
    expect(rowCountCaption({ shownRows: 20, resultRows: 10000, truncated: true })).toBe(
      'showing 20 of 10,000+ rows',
    );
    expect(rowCountCaption({ shownRows: 0, resultRows: 0, truncated: false })).toBe('0 rows');
  });
});
