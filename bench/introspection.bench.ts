/**
 * Introspection benchmark (DESIGN §7): 1,000 tables × 15 columns on the real PostgreSQL at
 * THREADQL_TEST_POSTGRES_URL; prints wall time and the number of catalog queries (target: constant, ≤ 2 s).
 * Also times the MariaDB introspector on 1,000 tables for comparison. Not part of the test run.
 * Run: `npm run bench:introspection` (with the services' env, e.g. `source scripts/services.sh && start_services`).
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { testServices } from '../config/test-services.ts';
import { dialectFor } from '../core/db/dialects.ts';
import { introspectPostgres } from '../core/db/postgres/postgres-introspector.ts';
import { machineLoad, medianSpread, percentile, reportMeasure } from './support/bench-report.ts';

const TABLES = 1000;
const COLUMNS = 15;
const RUNS = 5;
const PG_CHUNK = 20;
const services = testServices();
const suffix = randomBytes(4).toString('hex');

/** One table: id PK, a FK to the previous table, an index, and filler columns up to COLUMNS. */
function tableDdl(i: number, qualify: (t: string) => string): string {
  const filler = Array.from({ length: COLUMNS - 3 }, (_, c) =>
    c % 3 === 0 ? `c${c} text` : c % 3 === 1 ? `c${c} integer NOT NULL DEFAULT 0` : `c${c} numeric(12,2)`,
  );
  const parent = i === 0 ? 'parent_id integer' : `parent_id integer REFERENCES ${qualify(`t${i - 1}`)}(id)`;
  return `CREATE TABLE ${qualify(`t${i}`)} (id integer PRIMARY KEY, ${parent}, label varchar(80), ${filler.join(', ')});
CREATE INDEX t${i}_label_idx ON ${qualify(`t${i}`)} (label);`;
}

function report(label: string, times: number[], queries: number, tables: number): void {
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  console.log(
    `${label.padEnd(44)} tables=${tables}  catalog queries=${queries}  ` +
      `median=${median.toFixed(0)} ms  min=${(sorted[0] ?? 0).toFixed(0)} ms  max=${(sorted.at(-1) ?? 0).toFixed(0)} ms`,
  );
}

async function postgres(): Promise<void> {
  const schema = `tq_bench_${suffix}`;
  const admin = new pg.Client({ connectionString: services.postgresUrl });
  await admin.connect();
  const driver = await dialectFor('postgres').createDriver(services.postgresUrl);
  try {
    const t0 = performance.now();
    await admin.query(`CREATE SCHEMA ${schema}`);
    // 20 tables per statement batch: one batch is one transaction, and each table with its index and keys
    // holds several locks; the shared lock table (max_locks_per_transaction × connections) is shared with
    // whatever else runs on this server (100 at a time ran out of it while the test suite ran alongside).
    for (let start = 0; start < TABLES; start += PG_CHUNK) {
      const ddl = Array.from({ length: PG_CHUNK }, (_, k) => tableDdl(start + k, (t) => `${schema}.${t}`));
      await admin.query(ddl.join('\n'));
    }
    console.log(
      `PostgreSQL: created ${TABLES} tables × ${COLUMNS} columns in ${(performance.now() - t0).toFixed(0)} ms`,
    );

    // Catalog queries counted independently, through a counting query function.
    let counted = 0;
    const check = await introspectPostgres(
      async (sql, params) => {
        counted += 1;
        return (await admin.query(sql, params)).rows;
      },
      { schemas: [schema] },
    );
    const columns = check.tables.reduce((n, t) => n + t.columns.length, 0);
    console.log(
      `  counted catalog queries: ${counted} (snapshot says ${check.catalogQueries}); ` +
        `${check.tables.length} tables, ${columns} columns, ${check.relationships.length} relationships`,
    );

    const times: number[] = [];
    let queries = 0;
    let tables = 0;
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const snapshot = await driver.introspect({ schemas: [schema] });
      times.push(performance.now() - t);
      queries = snapshot.catalogQueries;
      tables = snapshot.tables.length;
    }
    report('PostgreSQL driver.introspect (one schema)', times, queries, tables);
    reportMeasure({
      measure: `Introspection, PostgreSQL, ${TABLES} tables × ${COLUMNS} columns`,
      figure: `${medianSpread(times)}; ${queries} catalog queries`,
      target: '≤ 2 s, constant queries',
      met: percentile(times, 50) <= 2000 && queries === counted,
      note: machineLoad(),
    });

    const all: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const snapshot = await driver.introspect();
      all.push(performance.now() - t);
      queries = snapshot.catalogQueries;
      tables = snapshot.tables.length;
    }
    report('PostgreSQL driver.introspect (whole database)', all, queries, tables);
    console.log(`  target: ≤ 2000 ms with a constant number of catalog queries`);
  } finally {
    await driver.close();
    // Newest first (each references the one before), in chunks, for the same reason as the creation.
    for (let end = TABLES; end > 0; end -= PG_CHUNK) {
      const names = Array.from({ length: PG_CHUNK }, (_, k) => `${schema}.t${end - 1 - k}`);
      await admin.query(`DROP TABLE IF EXISTS ${names.join(', ')}`);
    }
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

async function mariadb(): Promise<void> {
  const database = `tq_bench_${suffix}`;
  const admin = await mysql.createConnection({ uri: services.mysqlUrl, multipleStatements: true });
  const url = new URL(services.mysqlUrl);
  url.pathname = `/${database}`;
  const driver = await dialectFor('mysql').createDriver(url.toString());
  try {
    const t0 = performance.now();
    await admin.query(`CREATE DATABASE \`${database}\``);
    for (let start = 0; start < TABLES; start += 100) {
      const ddl = Array.from({ length: 100 }, (_, k) => tableDdl(start + k, (t) => `\`${database}\`.${t}`));
      await admin.query(ddl.join('\n'));
    }
    console.log(
      `MariaDB: created ${TABLES} tables × ${COLUMNS} columns in ${(performance.now() - t0).toFixed(0)} ms`,
    );
    const times: number[] = [];
    let queries = 0;
    let tables = 0;
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const snapshot = await driver.introspect();
      times.push(performance.now() - t);
      queries = snapshot.catalogQueries;
      tables = snapshot.tables.length;
    }
    report('MariaDB driver.introspect', times, queries, tables);
  } finally {
    await driver.close();
    await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await admin.end();
  }
}

await postgres();
if (!process.argv.includes('--postgres-only')) await mariadb();
