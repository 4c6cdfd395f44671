/**
 * Migration benchmark: how long verification holds a transaction open on the target (PostgreSQL, in a
 * rolled-back transaction), how long a shadow rebuild plus verification takes, apply + roll back, and the warm
 * ERD-diff PNG, for a schema of TABLES tables (default 200; `--tables=N`). Figures only; not part of the tests.
 * Run: `node bench/migrations.bench.ts` with the services' env (source /work/helpers/services-env.sh or
 * scripts/services.sh).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { testServices } from '../config/test-services.ts';
import { dialectFor } from '../core/db/dialects.ts';
import { redisMigrationLock } from '../core/migrations/migration-lock.ts';
import { verifyMigration } from '../core/migrations/verify-migration.ts';
import { migrationErdDiff } from '../renderers/erd/erd-diff.ts';
import { MermaidBrowser } from '../renderers/erd/mermaid-browser.ts';

const TABLES = Number(process.argv.find((a) => a.startsWith('--tables='))?.split('=')[1] ?? 200);
const RUNS = 5;
const services = testServices();
const suffix = randomBytes(4).toString('hex');
const settings = { lockTimeoutMs: 5000, statementTimeoutMs: 300_000, verifyTimeoutMs: 30_000 };

function dbUrl(name: string): string {
  const url = new URL(services.postgresUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

function median(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  return `median=${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms  min=${sorted[0]!.toFixed(0)} ms  max=${sorted.at(-1)!.toFixed(0)} ms`;
}

async function time<T>(times: number[], work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const result = await work();
  times.push(performance.now() - t0);
  return result;
}

const target = `tq_mbench_${suffix}`;
const shadow = `tq_mbench_shadow_${suffix}`;
const admin = new pg.Client({ connectionString: services.postgresUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${target}`);
await admin.query(`CREATE DATABASE ${shadow}`);
const redis = new Redis(services.redisUrl);
const lock = redisMigrationLock(redis, { prefix: `tq:bench:${suffix}:` });
const driver = await dialectFor('postgres').createDriver(dbUrl(target));
const shadowDriver = await dialectFor('postgres').createDriver(dbUrl(shadow));
const browser = new MermaidBrowser({ executablePath: services.chromiumPath });
try {
  const setup = new pg.Client({ connectionString: dbUrl(target) });
  await setup.connect();
  await setup.query(
    'CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL); CREATE TABLE orders (id serial PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers(id), total numeric(10,2), status text);',
  );
  await setup.query(
    "INSERT INTO customers (email) SELECT 'c' || g || '@x' FROM generate_series(1, 1000) g; INSERT INTO orders (customer_id, total, status) SELECT 1 + g % 1000, g, 'open' FROM generate_series(1, 100000) g;",
  );
  for (let start = 0; start < TABLES; start += 100) {
    const ddl = Array.from({ length: Math.min(100, TABLES - start) }, (_, k) => {
      const i = start + k;
      return `CREATE TABLE t${i} (id integer PRIMARY KEY, order_id integer REFERENCES orders(id), label varchar(80), a text, b integer, c numeric(12,2)); CREATE INDEX t${i}_label_idx ON t${i} (label);`;
    });
    await setup.query(ddl.join('\n'));
  }
  await setup.end();
  console.log(`PostgreSQL target: ${TABLES + 2} tables, orders has 100,000 rows`);

  const up = 'CREATE INDEX orders_customer_id_idx ON orders (customer_id)';
  const down = 'DROP INDEX orders_customer_id_idx';
  const inTx: number[] = [];
  let outcome;
  for (let i = 0; i < RUNS; i++) {
    outcome = await time(inTx, () =>
      verifyMigration({ target: driver, connection: 'bench', up, down, settings, lock }),
    );
  }
  console.log(`verify in a rolled-back transaction (status ${outcome!.status})`.padEnd(60), median(inTx));

  const onShadow: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    outcome = await time(onShadow, () =>
      verifyMigration({
        target: driver,
        shadow: shadowDriver,
        connection: 'bench',
        up,
        down,
        settings,
        lock,
      }),
    );
  }
  console.log(
    `verify on the shadow, rebuild included (status ${outcome!.status})`.padEnd(60),
    median(onShadow),
  );

  await browser.start();
  const diff = migrationErdDiff(outcome!.before!, outcome!.after!, { title: 'bench' });
  await browser.render(diff.mermaid);
  const erd: number[] = [];
  for (let i = 0; i < RUNS; i++) await time(erd, () => browser.render(diff.mermaid));
  console.log(`ERD diff PNG, warm (${diff.tables.length} touched table + context)`.padEnd(60), median(erd));
} finally {
  await browser.close();
  await driver.close();
  await shadowDriver.close();
  redis.disconnect();
  await admin.query(`DROP DATABASE IF EXISTS ${target} WITH (FORCE)`);
  await admin.query(`DROP DATABASE IF EXISTS ${shadow} WITH (FORCE)`);
  await admin.end();
}
