import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { csvStream, csvValue, renderCsv } from '../../renderers/csv/csv-export.ts';
import type { ReadStream } from '../../core/db/database-dialect.ts';
import { resultOf } from './support/results.ts';

const tricky = resultOf(
  [
    ['text', 'string'],
    ['n', 'number'],
    ['day', 'date'],
    ['at', 'datetime'],
    ['doc', 'json'],
    ['ok', 'boolean'],
  ],
  [
    [
      'comma, inside',
      -5,
      new Date('2024-01-02T00:00:00Z'),
      new Date('2024-01-02T03:04:05.678Z'),
      { a: 1 },
      true,
    ],
    ['quote " inside', '-3.50', null, null, null, false],
    ['line\r\nbreak', 12345678901234567890n, null, null, [1, 'two'], null],
    ['=SUM(A1:A9)', 0.1 + 0.2, null, null, null, null],
    ['  padded  ', null, null, null, null, null],
    ['ünïcödé 東京 😀', 7, null, null, null, null],
  ],
);

describe('renderCsv', () => {
  it('writes RFC 4180 CSV: CRLF records, quotes doubled, fields with , " or line breaks quoted', async () => {
    const out = await renderCsv(tricky);
    const text = out.data.toString('utf8');
    expect(text.split('\r\n')[0]).toBe('text,n,day,at,doc,ok');
    expect(text).toContain('"comma, inside",-5,2024-01-02,2024-01-02 03:04:05.678,"{""a"":1}",true\r\n');
    expect(text).toContain('"quote "" inside",-3.50,,,,false\r\n');
    expect(text).toContain('"line\r\nbreak",12345678901234567890,,,"[1,""two""]",\r\n');
    expect(text).toContain('"  padded  ",,,,,\r\n');
    expect(text.endsWith('\r\n')).toBe(true);
    expect(out).toMatchObject({ rows: 6, capped: false, sourceTruncated: false, bytes: out.data.length });
    // A real CSV parser reads back exactly the values that went in.
    const records = parse(out.data, { bom: true }) as string[][];
    expect(records).toHaveLength(7);
    expect(records[3]![0]).toBe('line\r\nbreak');
    expect(records[4]).toEqual(["'=SUM(A1:A9)", '0.3', '', '', '', '']);
    expect(records[5]![0]).toBe('  padded  ');
    expect(records[6]![0]).toBe('ünïcödé 東京 😀');
  });

  it('writes every record exactly as csv-stringify does, quoted or not', async () => {
    const fields = [
      '',
      ' ',
      '\t',
      'a\tb',
      '\u00a0nbsp',
      'trail\u00a0',
      "it's",
      'semi;colon',
      'back\\slash',
      'a""b',
      '"',
      'cr\ronly',
      'lf\nonly',
      '東京',
      '😀',
      'x',
    ];
    const rows = fields.flatMap((a) => fields.map((b) => [a, b, `${a}${b}`]));
    const input = resultOf(
      [
        ['a', 'string'],
        ['b', 'string'],
        ['ab', 'string'],
      ],
      rows,
    );
    const out = await renderCsv(input, { escapeFormulas: false });
    const expected = stringify([['a', 'b', 'ab'], ...rows], {
      record_delimiter: '\r\n',
      quoted_match: /^\s|\s$/,
    });
    expect(out.data.toString('utf8')).toBe(expected);
  });

  it('is UTF-8, with an optional byte-order mark for Excel', async () => {
    const plain = await renderCsv(tricky);
    expect(plain.data.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
    expect(plain.data.toString('utf8')).toContain('ünïcödé 東京 😀');
    const bom = await renderCsv(tricky, { bom: true });
    expect(bom.data.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(true);
  });

  it('escapes formula-like text cells but never numbers', () => {
    expect(csvValue('=1+1', 'string')).toBe("'=1+1");
    expect(csvValue('+49 30 1234', 'string')).toBe("'+49 30 1234");
    expect(csvValue('@handle', 'string')).toBe("'@handle");
    expect(csvValue('-3.5', 'number')).toBe('-3.5');
    expect(csvValue(-3.5, 'unknown')).toBe('-3.5');
    expect(csvValue('=1+1', 'string', false)).toBe('=1+1');
    expect(csvValue(Buffer.from('hi'), 'binary')).toBe('aGk=');
    expect(csvValue(null, 'string')).toBe('');
  });

  it('stops at the byte cap on a record boundary and says the cap cut it', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => [`row ${i}`, i]);
    const r = resultOf(
      [
        ['label', 'string'],
        ['n', 'number'],
      ],
      rows,
    );
    const out = await renderCsv(r, { maxBytes: 1000 });
    expect(out.capped).toBe(true);
    expect(out.data.length).toBeLessThanOrEqual(1000);
    expect(out.bytes).toBe(out.data.length);
    const text = out.data.toString('utf8');
    expect(text.endsWith('\r\n')).toBe(true);
    const records = parse(out.data) as string[][];
    expect(records).toHaveLength(out.rows + 1);
    expect(records.at(-1)).toEqual([`row ${out.rows - 1}`, String(out.rows - 1)]);
    // One more record would not have fitted.
    expect(out.data.length + `row ${out.rows},${out.rows}\r\n`.length).toBeGreaterThan(1000);
  });

  it('reports a result that the query row cap already cut', async () => {
    const out = await renderCsv(resultOf([['n', 'number']], [[1]], true));
    expect(out.sourceTruncated).toBe(true);
    expect(out.capped).toBe(false);
  });
});

describe('csvStream', () => {
  function streamed(batches: number, size: number, onClose: () => void): ReadStream {
    let yielded = 0;
    async function* gen() {
      try {
        for (let b = 0; b < batches; b++) {
          yield Array.from({ length: size }, (_, i) => [`item ${b * size + i}`, b * size + i]);
          yielded += size;
        }
      } finally {
        onClose();
      }
    }
    return {
      columns: [
        { name: 'label', type: 'text', kind: 'string' },
        { name: 'n', type: 'int', kind: 'number' },
      ],
      batches: gen(),
      summary: () => ({ rowCount: yielded, truncated: false }),
      close: async () => undefined,
    };
  }

  it('streams any number of batches with backpressure and sums up at the end', async () => {
    let closed = 0;
    const { stream, summary } = csvStream(streamed(200, 1000, () => closed++));
    let bytes = 0;
    let newlines = 0;
    await pipeline(
      stream,
      new Writable({
        highWaterMark: 1024,
        write(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          for (const b of chunk) if (b === 0x0a) newlines++;
          setImmediate(done);
        },
      }),
    );
    const s = await summary;
    expect(s).toEqual({ rows: 200_000, bytes, capped: false, sourceTruncated: false });
    expect(newlines).toBe(200_001);
    expect(closed).toBe(1);
  });

  it('stops reading the source once the cap is reached', async () => {
    let closed = 0;
    const source = streamed(1000, 1000, () => closed++);
    const { stream, summary } = csvStream(source, { maxBytes: 50_000 });
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const s = await summary;
    expect(s.capped).toBe(true);
    expect(Buffer.concat(chunks).length).toBe(s.bytes);
    expect(s.bytes).toBeLessThanOrEqual(50_000);
    expect(closed).toBe(1);
    expect(source.summary().rowCount).toBeLessThan(10_000);
  });

  it('releases the source when the consumer stops early', async () => {
    let closed = 0;
    const { stream, summary } = csvStream(streamed(1000, 1000, () => closed++));
    for await (const chunk of stream) {
      expect((chunk as Buffer).length).toBeGreaterThan(0);
      break;
    }
    await expect(summary).rejects.toMatchObject({ code: 'render_failed' });
    expect(closed).toBe(1);
  });
});
