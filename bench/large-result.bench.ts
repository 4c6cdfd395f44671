/**
 * Large-result benchmark (DESIGN §7): a 1,000,000-row SELECT (generate_series) streamed through
 * PostgreSQL's streamRead while a consumer turns every batch into CSV-sized text and drops it. Prints the time to
 * the first batch (the preview), the total time, and memory growth (target ≤ 64 MB). `--engine mysql|sqlite`
 * runs the same against MariaDB (seq_1_to_1000000) or a SQLite file. Not part of the test run.
 * Run: `npm run bench:large-result` (with the services' env, e.g. `source scripts/services.sh && start_services`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { testServices } from '../config/test-services.ts';
import type { DatabaseDriver } from '../core/db/database-dialect.ts';
import { dialectFor } from '../core/db/dialects.ts';

const ROWS = 1_000_000;
const BATCH = 1000;
const MB = 1024 * 1024;
const engine = process.argv[process.argv.indexOf('--engine') + 1] ?? 'postgres';
const gc = (globalThis as { gc?: () => void }).gc;

async function setup(): Promise<{ driver: DatabaseDriver; sql: string; cleanup: () => void }> {
  const services = testServices();
  if (engine === 'mysql') {
    return {
      driver: await dialectFor('mysql').createDriver(services.mysqlUrl),
      sql: `SELECT seq AS g, md5(seq) AS h, now() AS t FROM seq_1_to_${ROWS}`,
      cleanup: () => {},
    };
  }
  if (engine === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'tq-bench-'));
    const file = path.join(dir, 'b.db');
    new Database(file).exec('CREATE TABLE x (a INTEGER)').close();
    return {
      driver: await dialectFor('sqlite').createDriver(file),
      sql: `WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ${ROWS})
            SELECT g, hex(randomblob(16)) AS h, datetime('now') AS t FROM s`,
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  return {
    driver: await dialectFor('postgres').createDriver(services.postgresUrl),
    sql: `SELECT g, md5(g::text) AS h, now() AS t FROM generate_series(1, ${ROWS}) g`,
    cleanup: () => {},
  };
}

const { driver, sql, cleanup } = await setup();
try {
  await driver.validate();
  gc?.();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  const sample = (): void => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const started = performance.now();
  const stream = await driver.streamRead(sql, { timeoutMs: 300_000, maxRows: ROWS, batchSize: BATCH });
  const firstBatchAt = performance.now() - started;
  let rows = 0;
  let bytes = 0;
  let batches = 0;
  for await (const batch of stream.batches) {
    // What a CSV export does with a batch: format it, hand it on, keep nothing.
    const text = batch
      .map((r) => r.map((v) => (v instanceof Date ? v.toISOString() : String(v))).join(','))
      .join('\n');
    bytes += text.length + 1;
    rows += batch.length;
    batches += 1;
    if (batches % 50 === 0) sample();
  }
  sample();
  const total = performance.now() - started;
  console.log(
    `engine: ${engine}; ${rows.toLocaleString('en')} rows in ${batches} batches, ${(bytes / MB).toFixed(0)} MB of CSV text`,
  );
  console.log(`time to first batch (preview): ${firstBatchAt.toFixed(0)} ms`);
  console.log(
    `total: ${(total / 1000).toFixed(2)} s (${Math.round(rows / (total / 1000)).toLocaleString('en')} rows/s)`,
  );
  console.log(
    `memory growth: peak RSS +${((peakRss - base.rss) / MB).toFixed(1)} MB, peak heap +${((peakHeap - base.heapUsed) / MB).toFixed(1)} MB ` +
      `(target ≤ 64 MB)${gc ? '' : ' — run with --expose-gc for a clean baseline'}`,
  );
  console.log(`summary: ${JSON.stringify(stream.summary())}`);
} finally {
  await driver.close();
  cleanup();
}
