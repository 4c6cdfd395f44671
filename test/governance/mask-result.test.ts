import type { QueryResult, ReadStream } from '../../core/db/database-dialect.ts';
import { maskingNote, maskReadStream, maskResult } from '../../core/governance/mask-result.ts';
import type { ColumnMask, MaskPlan } from '../../core/governance/plan-masking.ts';
import { NO_MASKING } from '../../core/governance/plan-masking.ts';
import { ValueRedactor } from '../../core/governance/value-redactor.ts';
import { renderCsv } from '../../renderers/csv/csv-export.ts';

const redactor = new ValueRedactor('a key of sixteen bytes or more');

/** A plan that decides by column name, as a traced statement would. */
function planOf(byName: Record<string, ColumnMask>): MaskPlan {
  return { active: true, readsMasked: true, decide: (columns) => columns.map((c) => byName[c.name]) };
}

const result: QueryResult = {
  columns: [
    { name: 'email', type: 'text', kind: 'string' },
    { name: 'phone', type: 'text', kind: 'string' },
    { name: 'signed_up', type: 'date', kind: 'date' },
    { name: 'orders', type: 'int', kind: 'number' },
    { name: 'salary', type: 'numeric', kind: 'number' },
  ],
  rows: [
    ['a@x.example', '+1 1', new Date('2024-01-02T00:00:00Z'), 3, '100.00'],
    ['b@x.example', null, new Date('2024-02-03T00:00:00Z'), 5, '200.00'],
    [null, '+1 3', new Date('2024-02-03T00:00:00Z'), 1, '300.00'],
    ['a@x.example', '+1 4', new Date('2024-03-04T00:00:00Z'), 2, '400.00'],
  ],
  rowCount: 4,
  truncated: false,
  durationMs: 3,
};

const rules: Record<string, ColumnMask> = {
  email: { mode: 'hash', sources: ['customers.email'], reason: 'masked_source' },
  phone: { mode: 'hide', sources: ['customers.phone'], reason: 'masked_source' },
  signed_up: { mode: 'redact', sources: ['customers.signed_up'], reason: 'masked_source' },
  salary: { mode: 'redact', sources: [], reason: 'untraced' },
};

describe('maskResult', () => {
  it('hides, redacts and hashes; nulls stay null; the original is untouched', () => {
    const masked = maskResult(result, planOf(rules), redactor);
    expect(masked.result.columns.map((c) => [c.name, c.kind])).toEqual([
      ['email', 'string'],
      ['signed_up', 'string'],
      ['orders', 'number'],
      ['salary', 'string'],
    ]);
    const [h1, h2, h3, h4] = masked.result.rows.map((r) => r[0]);
    expect(h1).toMatch(/^•[0-9a-f]{8}$/);
    expect(h4).toBe(h1);
    expect(h2).not.toBe(h1);
    expect(h3).toBeNull();
    expect(masked.result.rows.map((r) => r[1])).toEqual(['•••', '•••', '•••', '•••']);
    expect(masked.result.rows.map((r) => r[2])).toEqual([3, 5, 1, 2]);
    expect(result.rows[0]![0]).toBe('a@x.example');
    expect(masked.masked).toEqual([
      { column: 'email', mode: 'hash', sources: ['customers.email'] },
      { column: 'phone', mode: 'hide', sources: ['customers.phone'] },
      { column: 'signed_up', mode: 'redact', sources: ['customers.signed_up'] },
      { column: 'salary', mode: 'redact', sources: [] },
    ]);
  });

  it('keys the hash: another key gives other hashes for the same values', () => {
    const one = maskResult(result, planOf(rules), redactor).result.rows[0]![0];
    const other = maskResult(result, planOf(rules), new ValueRedactor('another sixteen-byte key')).result
      .rows[0]![0];
    expect(other).not.toBe(one);
  });

  it('gives the chart placeholders for masked dimensions and leaves masked measures out', () => {
    const { chart } = maskResult(result, planOf(rules), redactor);
    expect(chart.columns.map((c) => c.name)).toEqual(['email', 'signed_up', 'orders']);
    // Redacted dates become numbered placeholders in order of appearance: equal values share one.
    expect(chart.rows.map((r) => r[1])).toEqual(['••• 1', '••• 2', '••• 2', '••• 3']);
    expect(chart.rows.map((r) => r[2])).toEqual([3, 5, 1, 2]);
  });

  it('passes a result through untouched when nothing is masked', () => {
    expect(maskResult(result, NO_MASKING, redactor).result).toBe(result);
    expect(maskResult(result, planOf({}), redactor)).toEqual({ result, chart: result, masked: [] });
  });
});

describe('maskReadStream', () => {
  it('masks a streamed read batch by batch, so a CSV of any size never holds a raw value', async () => {
    let closed = false;
    const stream: ReadStream = {
      columns: result.columns,
      batches: (async function* () {
        yield result.rows.slice(0, 2);
        yield result.rows.slice(2);
      })(),
      summary: () => ({ rowCount: 4, truncated: false }),
      close: async () => {
        closed = true;
      },
    };
    const masked = maskReadStream(stream, planOf(rules), redactor);
    const csv = (await renderCsv(masked.stream)).data.toString('utf8');
    expect(csv.split('\r\n')[0]).toBe('email,signed_up,orders,salary');
    expect(csv).not.toMatch(/@x\.example|\+1 |100\.00|2024-/);
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(5);
    await masked.stream.close();
    expect(closed).toBe(true);
  });
});

describe('maskingNote', () => {
  it('says what was masked and how, naming sources that differ from the column', () => {
    expect(
      maskingNote([
        { column: 'e', mode: 'redact', sources: ['customers.email'] },
        { column: 'phone', mode: 'hide', sources: ['customers.phone'] },
        { column: 'x', mode: 'hash', sources: [] },
      ]),
    ).toBe('🔒 By policy: e masked (from customers.email), phone hidden, x hashed');
    expect(maskingNote([])).toBeUndefined();
  });
});
