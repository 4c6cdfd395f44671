/**
 * Masking benchmark: what governance adds to a turn. The plan (parse + trace) per dialect for a typical
 * question's query, cold and warm; masking a 5,000-row preview; and a 1,000,000-row × 5-column stream masked into a
 * CSV (throughput and memory growth, against DESIGN §7's ≤ 64 MB for the plain export). Prints figures; not part of
 * the test run. Run: `npm run bench:masking`.
 */
import type { DatabaseType } from '../config/config-file.ts';
import type { QueryResult, ReadStream, SchemaSnapshot, TableInfo } from '../core/db/database-dialect.ts';
import { ResultMasker } from '../core/governance/result-masker.ts';
import { renderCsv } from '../renderers/csv/csv-export.ts';
import { machineLoad, reportMeasure } from './support/bench-report.ts';

const WARM_RUNS = 200;

function table(name: string, columns: string[]): TableInfo {
  return {
    name,
    kind: 'table',
    columns: columns.map((c) => ({ name: c, type: 'text', nullable: true, isPrimaryKey: c === 'id' })),
    primaryKey: ['id'],
    foreignKeys: [],
    indexes: [],
  };
}

const schema: Pick<SchemaSnapshot, 'tables'> = {
  tables: [
    table('customers', ['id', 'name', 'email', 'country', 'plan', 'signed_up_at']),
    table('orders', ['id', 'customer_id', 'ordered_at', 'status', 'total_cents']),
    ...Array.from({ length: 48 }, (_, i) => table(`t${i}`, ['id', 'a', 'b', 'c'])),
  ],
};

const QUERY = `WITH recent AS (
  SELECT o.customer_id, sum(o.total_cents) AS spent, count(*) AS orders
  FROM orders o WHERE o.status <> 'cancelled' GROUP BY o.customer_id)
SELECT c.name, c.email AS contact, c.country, r.spent, r.orders
FROM customers c JOIN recent r ON r.customer_id = c.id
ORDER BY r.spent DESC LIMIT 20`;
const MONGO = JSON.stringify({
  collection: 'customers',
  operation: 'aggregate',
  pipeline: [
    { $match: { plan: 'pro' } },
    { $project: { name: 1, contact: '$email', country: 1 } },
    { $limit: 20 },
  ],
});

function stats(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return `p50=${pick(0.5).toFixed(2)} ms  p99=${pick(0.99).toFixed(2)} ms`;
}

const masked = [
  { column: 'customers.email', mode: 'redact' as const },
  { column: 'customers.name', mode: 'hash' as const },
];

async function planBench(type: DatabaseType, query: string): Promise<void> {
  const masker = new ResultMasker([{ name: 'shop', type, maskedColumns: masked }], {
    hashKey: 'bench-masking-key-123',
  });
  const coldStart = performance.now();
  await masker.plan('shop', query, schema);
  const cold = performance.now() - coldStart;
  const warm: number[] = [];
  for (let i = 0; i < WARM_RUNS; i++) {
    const start = performance.now();
    await masker.plan('shop', query, schema);
    warm.push(performance.now() - start);
  }
  console.log(`plan ${type.padEnd(9)} cold=${cold.toFixed(1)} ms  warm ${stats(warm)}`);
}

function rowsOf(n: number, offset = 0): unknown[][] {
  return Array.from({ length: n }, (_, i) => [
    `Name ${i + offset}`,
    `user${i + offset}@example.com`,
    'DE',
    (i + offset) % 1000,
    i + offset,
  ]);
}

const columns = [
  { name: 'name', type: 'text', kind: 'string' as const },
  { name: 'contact', type: 'text', kind: 'string' as const },
  { name: 'country', type: 'text', kind: 'string' as const },
  { name: 'spent', type: 'int', kind: 'number' as const },
  { name: 'orders', type: 'int', kind: 'number' as const },
];

async function main(): Promise<void> {
  for (const [type, query] of [
    ['postgres', QUERY],
    ['mysql', QUERY],
    ['sqlite', QUERY],
    ['mongodb', MONGO],
  ] as const)
    await planBench(type, query);

  const masker = new ResultMasker([{ name: 'shop', type: 'postgres', maskedColumns: masked }], {
    hashKey: 'bench-masking-key-123',
  });
  const plan = await masker.plan('shop', QUERY, schema);
  const preview: QueryResult = {
    columns,
    rows: rowsOf(5000),
    rowCount: 5000,
    truncated: false,
    durationMs: 0,
  };
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const start = performance.now();
    masker.mask(plan, preview);
    times.push(performance.now() - start);
  }
  console.log(`mask a 5,000-row preview (hash + redact)  ${stats(times)}`);

  const total = 1_000_000;
  const batch = 1000;
  let peak = 0;
  const source = (): ReadStream => ({
    columns,
    batches: (async function* () {
      for (let i = 0; i < total; i += batch) {
        // Sampled here: the export never yields to timers, so an interval would never fire.
        if (i % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
        yield rowsOf(batch, i);
      }
    })(),
    summary: () => ({ rowCount: total, truncated: false }),
    close: async () => {},
  });
  for (const [label, make] of [
    ['plain', () => source()],
    ['masked', () => masker.maskStream(plan, source()).stream],
  ] as const) {
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    peak = before;
    const start = performance.now();
    const csv = await renderCsv(make(), { maxBytes: 200 * 1024 * 1024 });
    const ms = performance.now() - start;
    console.log(
      `1,000,000 rows × 5 into CSV, ${label.padEnd(6)}: ${(ms / 1000).toFixed(1)} s ` +
        `(${Math.round(total / (ms / 1000)).toLocaleString('en-US')} rows/s), ${(csv.bytes / 1048576).toFixed(0)} MB, ` +
        `heap growth ≤ ${((peak - before) / 1048576).toFixed(0)} MB (the CSV buffer included)`,
    );
    reportMeasure({
      measure: `1M rows × 5 columns into an in-memory CSV, ${label} (masking)`,
      figure: `${(ms / 1000).toFixed(1)} s, ${Math.round(total / (ms / 1000)).toLocaleString('en-US')} rows/s`,
      target: '',
      note: machineLoad(),
    });
  }
}

await main();
