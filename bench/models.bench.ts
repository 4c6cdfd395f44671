/**
 * Data-model benchmarks (DESIGN §7) against the real MongoDB-wire server at MONGODB_URI (FerretDB in the
 * suite): last 100 of a 10,000-entry history, connection list,
 * schema-cache read, plus append and transition latency. Prints p50/p95; not part of the test run.
 * Run: `npm run bench:models` (with the services' env, e.g. under scripts/test.sh's environment).
 */
import { randomBytes } from 'node:crypto';
import mongoose, { type Types } from 'mongoose';
import { testServices } from '../config/test-services.ts';
import type { SchemaSnapshot, TableInfo } from '../core/db/database-dialect.ts';
import { createModels, initModels } from '../models/create-models.ts';
import {
  listConnections,
  readSchemaCache,
  transitionConnection,
  writeSchemaCache,
} from '../models/database-connection.ts';
import { appendHistory, HISTORY_CAP, historyKey, lastHistory } from '../models/query-history.ts';
import { findOrCreateSession } from '../models/query-session.ts';
import { formatMs, machineLoad, reportMeasure } from './support/bench-report.ts';

const ITERATIONS = 20;

interface Row {
  name: string;
  target: number | undefined;
  p50: number;
  p95: number;
  note: string;
}
const rows: Row[] = [];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function measure(
  name: string,
  target: number | undefined,
  run: (i: number) => Promise<unknown>,
  note = '',
  iterations = ITERATIONS,
) {
  await run(-1); // warm-up
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await run(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  rows.push({ name, target, p50: percentile(times, 50), p95: percentile(times, 95), note });
  process.stderr.write(`  measured ${name}\n`);
}

function snapshotOfSize(tables: number, columns: number): SchemaSnapshot {
  const list: TableInfo[] = Array.from({ length: tables }, (_, t) => ({
    schema: 'public',
    name: `table_${t}`,
    kind: 'table',
    columns: Array.from({ length: columns }, (_, c) => ({
      name: c === 0 ? 'id' : `column_${c}`,
      type: c === 0 ? 'bigint' : 'character varying(255)',
      nullable: c !== 0,
      isPrimaryKey: c === 0,
      defaultValue: null,
    })),
    primaryKey: ['id'],
    foreignKeys:
      t > 0 ? [{ columns: ['column_1'], referencedTable: `table_${t - 1}`, referencedColumns: ['id'] }] : [],
    indexes: [{ name: `table_${t}_pkey`, columns: ['id'], unique: true, primary: true }],
    rowEstimate: 1000 * t,
  }));
  return {
    databaseType: 'postgres',
    tables: list,
    relationships: [],
    introspectedAt: new Date(),
    catalogQueries: 6,
  };
}

const url = new URL(testServices().mongodbUri);
url.pathname = `/bench_models_${randomBytes(4).toString('hex')}`;
const connection = await mongoose.createConnection(url.toString(), { maxPoolSize: 10 }).asPromise();
const models = createModels(connection);
await initModels(models);
const server = await connection.db!.admin().command({ buildInfo: 1 });
const serverName =
  server.ferretdbVersion !== undefined
    ? `FerretDB (wire version ${server.version})`
    : `MongoDB ${server.version}`;

try {
  // History: one session with 10,000 entries, another with 2,000 sharing the collection.
  process.stderr.write('seeding history…\n');
  const thread = { platform: 'slack' as const, workspace: 'T1', channel: 'C1', thread: 'bench' };
  const session = await findOrCreateSession(models.QuerySession, thread, { question: 'bench' });
  const neighbour = await findOrCreateSession(
    models.QuerySession,
    { ...thread, thread: 'neighbour' },
    { question: 'n' },
  );
  const seed = (sessionId: string, count: number) =>
    Array.from({ length: count }, (_, i) => ({
      _id: historyKey(sessionId, i + 1),
      session: sessionId,
      sequence: i + 1,
      type: 'query',
      userInput: `how many customers signed up in week ${i} by country?`,
      generatedSql: `SELECT country, count(*) FROM customers WHERE signup_week = ${i} GROUP BY country ORDER BY 2 DESC`,
      executionStatus: 'success',
      resultCount: i % 50,
      executionMs: 12,
      tokenCount: 420,
      user: 'slack:T1:U1',
    }));
  await models.QueryHistory.insertMany(seed(session._id, HISTORY_CAP), { lean: true });
  await models.QuerySession.updateOne({ _id: session._id }, { $set: { historySeq: HISTORY_CAP } });
  await models.QueryHistory.insertMany(seed(neighbour._id, 2000), { lean: true });
  await models.QuerySession.updateOne({ _id: neighbour._id }, { $set: { historySeq: 2000 } });

  await measure(
    'history: last 100 of a 10,000-entry session',
    200,
    async () => {
      const entries = await lastHistory(models, session._id, 100);
      if (entries.length !== 100) throw new Error('expected 100 entries');
    },
    '12,000 entries in the collection',
  );
  await measure('history: append at the 10,000 cap (insert + cap delete)', undefined, (i) =>
    appendHistory(models, session._id, { type: 'query', userInput: `bench append ${i}` }),
  );

  // Template search is measured in bench/templates.bench.ts (it reads the Redis search index, not this store).

  // Connections: 20 in the workspace (5 with a 1,000-table schema cache), 5 config-wide, 30 elsewhere.
  process.stderr.write('seeding connections…\n');
  const big = snapshotOfSize(1000, 15);
  const ids: Types.ObjectId[] = [];
  for (let i = 0; i < 55; i++) {
    const workspace = i < 20 ? 'slack:T1' : i < 25 ? '*' : 'slack:T3';
    const c = await models.DatabaseConnection.create({
      workspace,
      name: `db-${i}`,
      databaseType: i % 2 ? 'mysql' : 'postgres',
    });
    ids.push(c._id);
  }
  for (const id of ids.slice(0, 5)) await writeSchemaCache(models.DatabaseConnection, id, big);
  await measure(
    'connections: list for a workspace',
    100,
    async () => {
      const list = await listConnections(models.DatabaseConnection, 'slack:T1');
      if (list.length !== 25) throw new Error(`expected 25, got ${list.length}`);
    },
    '55 connections, 5 caches of 1,000 tables',
  );
  await measure('schema cache: read 1,000 tables × 15 columns', 50, async () => {
    const snapshot = await readSchemaCache(models.DatabaseConnection, ids[0]!);
    if (snapshot?.tables.length !== 1000) throw new Error('expected the cached snapshot');
  });
  let flips = 0;
  await measure('transition: connection status change', undefined, () =>
    transitionConnection(models, ids[30]!, flips++ % 2 === 0 ? 'connecting' : 'error'),
  );
} finally {
  await connection.dropDatabase();
  await connection.close();
}

const fmt = (n: number) => `${n.toFixed(1).padStart(8)} ms`;
console.log(
  `\nthreadql data-model benchmarks on ${serverName}, ${ITERATIONS} iterations after one warm-up\n`,
);
console.log(`${'benchmark'.padEnd(58)} ${'p50'.padStart(11)} ${'p95'.padStart(11)}   target   result`);
for (const r of rows) {
  const verdict = r.target === undefined ? '' : r.p95 <= r.target ? 'ok' : 'MISS';
  const target = r.target === undefined ? '        ' : `≤ ${String(r.target).padStart(3)} ms`;
  console.log(`${r.name.padEnd(58)} ${fmt(r.p50)} ${fmt(r.p95)}   ${target} ${verdict.padEnd(5)} ${r.note}`);
}
for (const r of rows) {
  if (r.target === undefined) continue;
  reportMeasure({
    measure: `Store (${serverName}): ${r.name}`,
    figure: `p50 ${formatMs(r.p50)} / p95 ${formatMs(r.p95)}`,
    target: `≤ ${r.target} ms (p95)`,
    met: r.p95 <= r.target,
    note: [r.note, machineLoad()].filter(Boolean).join('; '),
  });
}
