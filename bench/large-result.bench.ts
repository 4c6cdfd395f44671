/**
 * Large-result benchmark (DESIGN §7): a 1,000,000-row × 5-column SELECT streamed through the driver's streamRead
 * and the real CSV writer (csvStream) into a file, with backpressure, as the full-CSV export does. Prints the
 * time to the first batch (what the thread's preview waits for), the total time, and the peak RSS and heap
 * growth over the baseline (target ≤ 64 MB), sampled every batch and every 5 ms. `--engine postgres|mysql|sqlite`
 * (default: all three, each in its own process so one's garbage does not count against the next).
 * Run: `npm run bench:large-result` with the services' env (`eval "$(bash scripts/services.sh env)"`).
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { testServices } from '../config/test-services.ts';
import type { DatabaseDriver, ReadStream } from '../core/db/database-dialect.ts';
import { dialectFor } from '../core/db/dialects.ts';
import { csvStream } from '../renderers/csv/csv-export.ts';
import { formatMs, machineLoad, reportMeasure } from './support/bench-report.ts';

const ROWS = 1_000_000;
const MB = 1024 * 1024;
const TARGET_MB = 64;
const ENGINES = ['postgres', 'mysql', 'sqlite'] as const;
type Engine = (typeof ENGINES)[number];
const argEngine = process.argv.includes('--engine') ? process.argv[process.argv.indexOf('--engine') + 1] : '';
const argBatch = process.argv.includes('--batch')
  ? Number(process.argv[process.argv.indexOf('--batch') + 1])
  : undefined;
const gc = (globalThis as { gc?: () => void }).gc;

async function setup(engine: Engine, dir: string): Promise<{ driver: DatabaseDriver; sql: string }> {
  const services = testServices();
  if (engine === 'mysql') {
    return {
      driver: await dialectFor('mysql').createDriver(services.mysqlUrl),
      sql: `SELECT seq AS id, md5(seq) AS hash, now() - INTERVAL seq SECOND AS at,
              (seq % 1000) * 1.25 AS amount, seq % 7 = 0 AS flag FROM seq_1_to_${ROWS}`,
    };
  }
  if (engine === 'sqlite') {
    const file = path.join(dir, 'b.db');
    new Database(file).exec('CREATE TABLE x (a INTEGER)').close();
    return {
      driver: await dialectFor('sqlite').createDriver(file),
      sql: `WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ${ROWS})
            SELECT g AS id, hex(randomblob(16)) AS hash, datetime('now', '-' || g || ' seconds') AS at,
                   (g % 1000) * 1.25 AS amount, g % 7 = 0 AS flag FROM s`,
    };
  }
  return {
    driver: await dialectFor('postgres').createDriver(services.postgresUrl),
    sql: `SELECT g AS id, md5(g::text) AS hash, now() - g * interval '1 second' AS at,
            (g % 1000) * 1.25 AS amount, g % 7 = 0 AS flag FROM generate_series(1, ${ROWS}) g`,
  };
}

/** Wraps the stream's batches to note when the first batch arrives and to sample memory after each one. */
function observed(stream: ReadStream, onBatch: () => void): ReadStream {
  return {
    ...stream,
    batches: (async function* () {
      for await (const batch of stream.batches) {
        onBatch();
        yield batch;
      }
    })(),
  };
}

async function runOne(engine: Engine): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tq-bench-'));
  const { driver, sql } = await setup(engine, dir);
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
    const sampler = setInterval(sample, 5);
    const started = performance.now();
    let firstBatchAt = 0;
    let batches = 0;
    const stream = await driver.streamRead(sql, {
      timeoutMs: 300_000,
      maxRows: ROWS,
      ...(argBatch ? { batchSize: argBatch } : {}),
    });
    const out = path.join(dir, 'result.csv');
    const csv = csvStream(
      observed(stream, () => {
        if (batches++ === 0) firstBatchAt = performance.now() - started;
        sample();
      }),
      { maxBytes: 1024 * MB },
    );
    await pipeline(csv.stream, createWriteStream(out));
    const summary = await csv.summary;
    clearInterval(sampler);
    sample();
    const total = performance.now() - started;
    const rssMb = (peakRss - base.rss) / MB;
    const heapMb = (peakHeap - base.heapUsed) / MB;
    console.log(
      `${engine}: ${summary.rows.toLocaleString('en')} rows × ${stream.columns.length} columns in ${batches} batches → ` +
        `${(statSync(out).size / MB).toFixed(0)} MB of CSV; first batch after ${formatMs(firstBatchAt)}, ` +
        `total ${formatMs(total)}; peak RSS +${rssMb.toFixed(1)} MB, peak heap +${heapMb.toFixed(1)} MB ` +
        `(target ≤ ${TARGET_MB} MB)${gc ? '' : ' — run with --expose-gc for a clean baseline'}`,
    );
    reportMeasure({
      measure: `1M rows × 5 columns streamed to CSV, ${engine}: RSS growth`,
      figure: `+${rssMb.toFixed(1)} MB (heap +${heapMb.toFixed(1)} MB)`,
      target: `≤ ${TARGET_MB} MB`,
      met: rssMb <= TARGET_MB,
      note: `first batch (preview) after ${formatMs(firstBatchAt)} of ${formatMs(total)}; ${machineLoad()}`,
    });
  } finally {
    await driver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (argEngine) {
  if (!ENGINES.includes(argEngine as Engine))
    throw new Error(`--engine must be one of ${ENGINES.join(', ')}`);
  await runOne(argEngine as Engine);
} else {
  // One process per engine: a fresh heap and RSS baseline each.
  for (const engine of ENGINES) {
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), '--engine', engine],
      { stdio: 'inherit' },
    );
    if (child.status !== 0) process.exitCode = child.status ?? 1;
  }
}
