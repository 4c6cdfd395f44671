/**
 * Template benchmarks (DESIGN §7, issue 11) on the real services at MONGODB_URI and REDIS_URL (FerretDB and Redis
 * in the suite): template search over 1,000 templates (the QueryNL target: ≤ 150 ms), against the regex scan it
 * replaces, and the scheduler's overhead per tick with 100 schedules due at the same minute (BullMQ, one replica).
 * Prints figures; not part of the test run. Run: `node bench/templates.bench.ts` with the services' env.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { configFileSchema } from '../config/config-file.ts';
import { testServices } from '../config/test-services.ts';
import { ConfiguredConnections } from '../core/connections/connection-provider.ts';
import { createResultRenderers } from '../core/conversation/create-result-renderers.ts';
import type { SchemaSnapshot } from '../core/db/database-dialect.ts';
import { createLogger } from '../core/logger.ts';
import { createSampleDatabase } from '../core/sample/sample-database.ts';
import { createTemplateServices } from '../core/templates/create-template-services.ts';
import type { ReportSink } from '../core/templates/report-sink.ts';
import type { TickOutcome } from '../core/templates/schedule-runner.ts';
import { createModels, initModels } from '../models/create-models.ts';
import { formatMs, machineLoad, reportMeasure } from './support/bench-report.ts';

const ITERATIONS = 30;
const services = testServices();
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const fmt = (n: number) => `${n.toFixed(1).padStart(8)} ms`;
const lines: string[] = [];

async function measure(name: string, run: () => Promise<unknown>, target?: number): Promise<void> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const p95 = percentile(times, 95);
  const verdict = target === undefined ? '' : p95 <= target ? `ok (≤ ${target} ms)` : `MISS (> ${target} ms)`;
  lines.push(`${name.padEnd(62)} p50 ${fmt(percentile(times, 50))}  p95 ${fmt(p95)}  ${verdict}`);
  if (target !== undefined) {
    reportMeasure({
      measure: `Templates (${serverName}): ${name}`,
      figure: `p50 ${formatMs(percentile(times, 50))} / p95 ${formatMs(p95)}`,
      target: `≤ ${target} ms (p95)`,
      met: p95 <= target,
      note: machineLoad(),
    });
  }
  process.stderr.write(`  measured ${name}\n`);
}

const url = new URL(services.mongodbUri);
url.pathname = `/bench_templates_${randomBytes(4).toString('hex')}`;
const connection = await mongoose.createConnection(url.toString(), { maxPoolSize: 10 }).asPromise();
const models = createModels(connection);
await initModels(models);
const redis = new Redis(services.redisUrl);
const prefix = `bench-templates:${randomBytes(4).toString('hex')}:`;
const dir = mkdtempSync(join(tmpdir(), 'tq-bench-templates-'));
const sample = join(dir, 'shop.db');
createSampleDatabase(sample);
const schemas = new Map<string, SchemaSnapshot>();
const connections = new ConfiguredConnections(
  [{ name: 'shop', type: 'sqlite', url: sample, channels: ['*'], default: true, maskedColumns: [] }],
  { get: async (n) => schemas.get(n), set: async (n, s) => void schemas.set(n, s) },
);
let posted = 0;
const sink: ReportSink = {
  postToChannel: async () => void (posted += 1),
  notifyUser: async () => {},
};
const config = configFileSchema.parse({});
// The scheduler's clock: ticks are driven explicitly, a second after each is due.
let clock = new Date('2026-03-01T00:00:00Z');
const templates = createTemplateServices({
  now: () => clock,
  models,
  redis,
  redisUrl: services.redisUrl,
  prefix,
  connections,
  renderers: createResultRenderers(),
  sink,
  limits: config.limits,
  schedules: config.schedules,
  scheduler: { concurrency: 4 },
  logger: createLogger('silent'),
});
const server = await connection.db!.admin().command({ buildInfo: 1 });
const serverName = server.ferretdbVersion !== undefined ? 'FerretDB' : `MongoDB ${server.version}`;

async function flushPrefix(): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

try {
  // ---- search: 1,000 templates in the searched workspace, 200 in another ----
  process.stderr.write('seeding templates…\n');
  const template = (workspace: string, i: number) => ({
    workspace,
    name: `report-${i}`,
    description: `${['Weekly', 'Monthly', 'Daily'][i % 3]} ${['signups', 'revenue', 'churn', 'orders'][i % 4]} report #${i} for the growth team, split by country and plan`,
    question: `how many ${['signups', 'orders', 'refunds'][i % 3]} per ${['week', 'month'][i % 2]} since :since in :country?`,
    sql: `SELECT date_trunc('week', created_at) AS week, country, count(*) AS n FROM customers WHERE created_at >= :since AND country = :country GROUP BY 1, 2 ORDER BY 1 DESC LIMIT 500 -- template ${i}`,
    parameters: [
      { name: 'since', type: 'date', default: '2024-01-01', required: false },
      { name: 'country', type: 'text', required: true },
    ],
    databaseType: 'postgres',
    connectionName: 'shop',
    usageCount: i % 37,
  });
  await models.QueryTemplate.insertMany(Array.from({ length: 1000 }, (_, i) => template('slack:T1', i)));
  await models.QueryTemplate.insertMany(Array.from({ length: 200 }, (_, i) => template('slack:T2', i)));

  const store = templates.store;
  let t = 0;
  await measure(
    'search: "revenue report #9" over 1,000 (Redis index)',
    async () => {
      if ((await store.search('slack:T1', 'revenue report #9')).length === 0) throw new Error('no hits');
    },
    150,
  );
  await measure(
    'search: no hit over 1,000 (Redis index)',
    () => store.search('slack:T1', 'no such template'),
    150,
  );
  await measure('search: list the workspace (no words)', () => store.search('slack:T1', ''), 150);
  await measure('baseline: regex scan over 1,000 on the store (replaced)', () =>
    models.QueryTemplate.find({
      workspace: 'slack:T1',
      $or: ['name', 'description', 'question'].map((f) => ({
        [f]: { $regex: 'revenue report #9', $options: 'i' },
      })),
    })
      .sort({ usageCount: -1 })
      .limit(20)
      .lean(),
  );
  await flushPrefix();
  await measure('search: first search after a Redis flush, each time (rebuild)', async () => {
    await flushPrefix();
    await store.search('slack:T1', 'revenue report #9');
  });

  // ---- scheduler: 100 schedules due at the same minute ----
  process.stderr.write('seeding 100 schedules…\n');
  const owner = { key: 'slack:T1:UBENCH', admin: false };
  const scheduleIds: string[] = [];
  for (let i = 0; i < 100; i++) {
    const created = await store.create(
      {
        workspace: 'slack:T9',
        name: `due-${i}`,
        question: 'orders by status',
        sql: 'SELECT status, count(*) AS orders FROM orders GROUP BY status ORDER BY status',
        parameters: [],
        databaseType: 'sqlite',
        connectionName: 'shop',
        session: null,
      },
      owner,
    );
    const view = await store.addSchedule(
      created._id,
      {
        cron: '0 9 * * *',
        timeZone: 'UTC',
        summary: 'daily at 09:00',
        target: { platform: 'slack', workspace: 'T9', channel: 'CBENCH' },
        parameterValues: {},
      },
      owner,
    );
    scheduleIds.push(view.schedule._id);
  }
  const { scheduler, runner } = templates;
  await scheduler.start();

  for (const [round, tick] of [
    new Date('2026-03-02T09:00:00Z'),
    new Date('2026-03-03T09:00:00Z'),
  ].entries()) {
    const done = new Promise<void>((resolve) => {
      let n = 0;
      const on = (o: TickOutcome) => {
        if (o.tick === tick.getTime() && ++n === 100) {
          scheduler.off('outcome', on);
          resolve();
        }
      };
      scheduler.on('outcome', on);
    });
    posted = 0;
    clock = new Date(tick.getTime() + 1000);
    t = performance.now();
    await Promise.all(scheduleIds.map((id) => scheduler.enqueueTick(id, tick)));
    await done;
    const total = performance.now() - t;
    if (posted !== 100) throw new Error(`expected 100 reports, got ${posted}`);
    lines.push(
      `${`scheduler: 100 ticks due at one minute, BullMQ, run ${round + 1}`.padEnd(62)} all ${fmt(total)}  (${fmt(total / 100)} a tick, 4 at a time)`,
    );
  }

  // Overhead per tick: one tick through the runner (claim, re-classify, bind, run, report, bookkeeping) against
  // the same query, CSV and chart alone, interleaved so both see the same machine load.
  const { driver } = await connections.resolveByName('shop');
  const renderers = createResultRenderers();
  const whole: number[] = [];
  const work: number[] = [];
  for (let i = 0; i < 20; i++) {
    const tick = new Date(Date.parse('2026-03-04T09:00:00Z') + i * 86_400_000);
    clock = new Date(tick.getTime() + 1000);
    t = performance.now();
    const outcome = await runner.run({
      scheduleId: scheduleIds[i]!,
      tick: tick.getTime(),
      jobId: `seq-${i}`,
      attemptsMade: 0,
      maxAttempts: 1,
    });
    whole.push(performance.now() - t);
    if (outcome.kind !== 'posted') throw new Error(`expected a report, got ${outcome.kind}`);
    t = performance.now();
    const result = await driver.executeRead(
      'SELECT status, count(*) AS orders FROM orders GROUP BY status ORDER BY status',
      {
        timeoutMs: 15_000,
        maxRows: 5000,
      },
    );
    await renderers.csv(result, { filename: 'x.csv', maxBytes: 1 << 20 });
    await renderers.chart(result, { title: 'orders by status' });
    work.push(performance.now() - t);
  }
  const overhead = whole.map((w, i) => w - work[i]!).sort((a, b) => a - b);
  whole.sort((a, b) => a - b);
  work.sort((a, b) => a - b);
  lines.push(
    `${'scheduler: one tick through the runner'.padEnd(62)} p50 ${fmt(percentile(whole, 50))}  p95 ${fmt(percentile(whole, 95))}`,
  );
  lines.push(
    `${'  of which query + CSV + chart alone'.padEnd(62)} p50 ${fmt(percentile(work, 50))}  p95 ${fmt(percentile(work, 95))}`,
  );
  lines.push(
    `${'scheduler: overhead per tick (runner − query/CSV/chart)'.padEnd(62)} p50 ${fmt(percentile(overhead, 50))}  p95 ${fmt(percentile(overhead, 95))}`,
  );

  // The claim alone: a tick already claimed by another replica costs this much.
  clock = new Date('2026-03-03T09:00:01Z');
  await measure('scheduler: a duplicate tick (claim refused by the unique key)', () =>
    runner.run({
      scheduleId: scheduleIds[0]!,
      tick: Date.parse('2026-03-03T09:00:00Z'),
      jobId: 'other',
      attemptsMade: 0,
      maxAttempts: 1,
    }),
  );
} finally {
  await templates.scheduler.close();
  await connections.close();
  await flushPrefix();
  await redis.quit();
  await connection.dropDatabase();
  await connection.close();
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\nthreadql template benchmarks on ${serverName} + Redis, ${ITERATIONS} iterations after one warm-up\n`,
);
for (const line of lines) console.log(line);
