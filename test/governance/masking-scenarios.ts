/**
 * The masking scenarios every dialect runs against its real engine: the same small shop (customers with a name,
 * email, phone and salary; their orders), the same masking rules, and the same questions written in the
 * dialect's SQL (or MongoDB JSON). Each result goes through the one choke point and out as a text table, a
 * streamed CSV and a chart spec; none of them may hold a raw value of a masked column.
 */
import type { DatabaseType, MaskedColumnConfig } from '../../config/config-file.ts';
import type { DatabaseDriver, QueryResult, SchemaSnapshot } from '../../core/db/database-dialect.ts';
import type { MaskedResult } from '../../core/governance/mask-result.ts';
import { ResultMasker } from '../../core/governance/result-masker.ts';
import { planChart } from '../../renderers/chart/render-chart.ts';
import { renderCsv } from '../../renderers/csv/csv-export.ts';
import { renderTextTable } from '../../renderers/table/text-table.ts';

export const CUSTOMERS = [
  {
    id: 1,
    name: 'Ann Smith',
    email: 'ann@corp.example',
    phone: '+49 30 1111',
    country: 'DE',
    salary: '5100.50',
  },
  {
    id: 2,
    name: 'Bob Jones',
    email: 'bob@corp.example',
    phone: '+1 212 2222',
    country: 'US',
    salary: '6200.00',
  },
  { id: 3, name: 'Cleo Park', email: 'cleo@corp.example', phone: null, country: 'US', salary: '7300.25' },
  { id: 4, name: 'Dan Wu', email: null, phone: '+44 20 3333', country: 'GB', salary: '4800.00' },
];
/** [customer_id, total] */
export const ORDERS: [number, string][] = [
  [1, '10.00'],
  [1, '12.50'],
  [2, '99.90'],
  [3, '5.00'],
  [3, '7.00'],
  [3, '8.00'],
];

export const MASKED: MaskedColumnConfig[] = [
  { column: 'customers.email', mode: 'redact' },
  { column: '*.phone', mode: 'hide' },
  { column: 'customers.name', mode: 'hash' },
  { column: 'customers.salary', mode: 'redact' },
];

/** Every raw value of a masked column, and the salary sums per country (a masked measure, aggregated). */
export const SECRETS = [
  ...CUSTOMERS.flatMap((c) => [c.email, c.phone, c.name]).filter((v): v is string => v !== null),
  ...['5100.5', '6200', '7300.25', '4800', '13500.25'],
];

export interface Shown {
  raw: QueryResult;
  masked: MaskedResult;
  /** The masked preview as the shell prints it. */
  table: string;
  /** The whole result streamed through the masker into a CSV. */
  csv: string;
  /** The chart's vega-lite spec (data included), or '' when no chart suits. */
  chart: string;
}

/** Runs `query` and shows it every way the flows will: table, streamed CSV, chart. */
export async function show(
  driver: DatabaseDriver,
  masker: ResultMasker,
  schema: SchemaSnapshot,
  query: string,
): Promise<Shown> {
  const options = { timeoutMs: 10_000, maxRows: 1000 };
  const raw = await driver.executeRead(query, options);
  const plan = await masker.plan('shop', query, schema);
  const masked = masker.mask(plan, raw);
  const table = renderTextTable(masked.result, { maxWidth: 200, escape: 'none' }).message;
  const stream = masker.maskStream(plan, await driver.streamRead(query, { ...options, batchSize: 2 }));
  const csv = (await renderCsv(stream.stream)).data.toString('utf8');
  const chart = planChart(masked.chart, { title: 'chart' });
  return { raw, masked, table, csv, chart: chart.type === 'none' ? '' : JSON.stringify(chart.spec) };
}

/** The secrets found in any form of a shown result (the test expects none). */
export function leaks(shown: Shown): string[] {
  const { columns, rows } = shown.masked.result;
  const forms = [JSON.stringify({ columns, rows }), shown.table, shown.csv, shown.chart];
  return SECRETS.filter((secret) => forms.some((form) => form.includes(secret)));
}

/** A masker for the `shop` connection of `type` with the shared rules. */
export function shopMasker(type: DatabaseType): ResultMasker {
  return new ResultMasker([{ name: 'shop', type, maskedColumns: MASKED }], {
    hashKey: 'test-key-of-at-least-16-bytes',
  });
}

/** The values of one column of a result, by name. */
export function columnValues(result: QueryResult, name: string): unknown[] {
  const index = result.columns.findIndex((c) => c.name.toLowerCase() === name.toLowerCase());
  if (index < 0) throw new Error(`no column ${name} in ${result.columns.map((c) => c.name).join(', ')}`);
  return result.rows.map((r) => r[index]);
}

/** The queries every SQL dialect answers; `concat` is the dialect's way to join name and email. */
export function sqlScenarios(concat: (a: string, b: string) => string) {
  return {
    direct: 'SELECT id, email FROM customers ORDER BY id',
    aliased: 'SELECT email AS e, country FROM customers ORDER BY id',
    expression: `SELECT lower(email) AS le, ${concat('name', 'email')} AS who FROM customers ORDER BY id`,
    star: 'SELECT * FROM customers ORDER BY id',
    join: 'SELECT c.*, o.total FROM customers c JOIN orders o ON o.customer_id = c.id ORDER BY o.id',
    counted:
      'SELECT country, count(DISTINCT email) AS people, count(*) AS n FROM customers GROUP BY country ORDER BY country',
    revealingAggregate: 'SELECT max(email) AS top, min(name) AS first FROM customers',
    cte: 'WITH x AS (SELECT email AS mail, country FROM customers) SELECT mail, country FROM x ORDER BY mail',
    subquery:
      'SELECT (SELECT c.email FROM customers c WHERE c.id = o.customer_id) AS who, o.total FROM orders o ORDER BY o.id',
    measureChart: 'SELECT country, sum(salary) AS pay FROM customers GROUP BY country ORDER BY country',
    dimensionChart:
      'SELECT c.email, count(*) AS orders FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.email ORDER BY orders',
    hashed: 'SELECT name, country FROM customers ORDER BY id',
    hiddenOnly: 'SELECT phone, country FROM customers ORDER BY id',
  };
}

export type SqlScenarios = ReturnType<typeof sqlScenarios>;

/** The shared expectations, one `it` each, for a SQL dialect. */
export function describeSqlMasking(
  label: string,
  setup: () => { driver: () => DatabaseDriver; schema: () => SchemaSnapshot },
  type: DatabaseType,
  queries: SqlScenarios & { untraced: string },
): void {
  describe(`masking on ${label}`, () => {
    const masker = shopMasker(type);
    const { driver, schema } = setup();
    const run = (query: string) => show(driver(), masker, schema(), query);

    it('masks a masked column selected directly, in the preview and the streamed CSV', async () => {
      const shown = await run(queries.direct);
      expect(columnValues(shown.raw, 'email')).toContain('ann@corp.example');
      expect(columnValues(shown.masked.result, 'email')).toEqual(['•••', '•••', '•••', null]);
      expect(columnValues(shown.masked.result, 'id').map(Number)).toEqual([1, 2, 3, 4]);
      expect(shown.csv).toContain('•••');
      expect(leaks(shown)).toEqual([]);
      expect(shown.masked.masked).toEqual([
        { column: 'email', mode: 'redact', sources: [expect.stringMatching(/customers\.email$/)] },
      ]);
    });

    it('follows an alias', async () => {
      const shown = await run(queries.aliased);
      expect(columnValues(shown.masked.result, 'e')).toEqual(['•••', '•••', '•••', null]);
      expect(columnValues(shown.masked.result, 'country')).toEqual(['DE', 'US', 'US', 'GB']);
      expect(leaks(shown)).toEqual([]);
    });

    it('follows expressions that use the column', async () => {
      const shown = await run(queries.expression);
      expect(columnValues(shown.masked.result, 'le').slice(0, 3)).toEqual(['•••', '•••', '•••']);
      // name is hashed and email redacted: the combination takes the stronger, redact.
      expect(columnValues(shown.masked.result, 'who').slice(0, 3)).toEqual(['•••', '•••', '•••']);
      expect(leaks(shown)).toEqual([]);
    });

    it('expands SELECT * from the schema: masked columns masked, hidden ones dropped, the rest as is', async () => {
      const shown = await run(queries.star);
      const names = shown.masked.result.columns.map((c) => c.name.toLowerCase());
      expect(names).toEqual(['id', 'name', 'email', 'country', 'salary']);
      expect(columnValues(shown.masked.result, 'country')).toEqual(['DE', 'US', 'US', 'GB']);
      expect(columnValues(shown.masked.result, 'salary')).toEqual(['•••', '•••', '•••', '•••']);
      expect(shown.csv.split('\r\n')[0]).toBe(shown.masked.result.columns.map((c) => c.name).join(','));
      expect(leaks(shown)).toEqual([]);
    });

    it('masks t.* through a join and keeps the other table readable', async () => {
      const shown = await run(queries.join);
      expect(columnValues(shown.masked.result, 'email').slice(0, 2)).toEqual(['•••', '•••']);
      expect(columnValues(shown.masked.result, 'total').map(Number)).toEqual([10, 12.5, 99.9, 5, 7, 8]);
      expect(shown.masked.result.columns.some((c) => c.name.toLowerCase() === 'phone')).toBe(false);
      expect(leaks(shown)).toEqual([]);
    });

    it('leaves counts of a masked column readable, and masks min/max of it', async () => {
      const counted = await run(queries.counted);
      expect(counted.masked.masked).toEqual([]);
      expect(columnValues(counted.masked.result, 'people').map(Number)).toEqual([1, 0, 2]);
      const revealed = await run(queries.revealingAggregate);
      expect(columnValues(revealed.masked.result, 'top')).toEqual(['•••']);
      expect(columnValues(revealed.masked.result, 'first')[0]).toMatch(/^•[0-9a-f]{8}$/);
      expect(leaks(revealed)).toEqual([]);
    });

    it('follows CTEs and correlated subqueries', async () => {
      for (const query of [queries.cte, queries.subquery]) {
        const shown = await run(query);
        expect(shown.masked.masked.map((m) => m.mode)).toEqual(['redact']);
        expect(leaks(shown)).toEqual([]);
      }
    });

    it('masks a column it cannot trace when the statement reads a masked column', async () => {
      const shown = await run(queries.untraced);
      expect(shown.masked.masked.length).toBeGreaterThan(0);
      expect(shown.masked.masked.every((m) => m.mode === 'redact')).toBe(true);
      expect(leaks(shown)).toEqual([]);
    });

    it('does not chart a masked measure', async () => {
      const shown = await run(queries.measureChart);
      expect(columnValues(shown.masked.result, 'pay')).toEqual(['•••', '•••', '•••']);
      expect(shown.masked.chart.columns.map((c) => c.name)).toEqual(['country']);
      expect(shown.chart).toBe('');
      expect(leaks(shown)).toEqual([]);
    });

    it('charts a masked dimension under placeholders, with its measure intact', async () => {
      const shown = await run(queries.dimensionChart);
      expect(shown.chart).toContain('••• 1');
      expect(shown.chart).not.toContain('@corp.example');
      const counts = columnValues(shown.masked.chart, 'orders').map(Number);
      expect(counts).toEqual([1, 2, 3]);
      expect(leaks(shown)).toEqual([]);
    });

    it('hashes stably, so equal values still read as equal', async () => {
      const first = await run(queries.hashed);
      const again = await run(queries.hashed);
      const hashes = columnValues(first.masked.result, 'name');
      expect(hashes.every((h) => typeof h === 'string' && /^•[0-9a-f]{8}$/.test(h))).toBe(true);
      expect(new Set(hashes).size).toBe(4);
      expect(columnValues(again.masked.result, 'name')).toEqual(hashes);
      expect(leaks(first)).toEqual([]);
    });

    it('drops a hidden column entirely', async () => {
      const shown = await run(queries.hiddenOnly);
      expect(shown.masked.result.columns.map((c) => c.name.toLowerCase())).toEqual(['country']);
      expect(shown.masked.masked).toEqual([
        {
          column: expect.stringMatching(/^phone$/i),
          mode: 'hide',
          sources: [expect.stringMatching(/customers\.phone$/)],
        },
      ]);
      expect(shown.csv.split('\r\n')[0]).toBe('country');
      expect(leaks(shown)).toEqual([]);
    });
  });
}
