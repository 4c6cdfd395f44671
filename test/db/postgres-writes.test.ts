import pg from 'pg';
import type { DatabaseDriver } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { DriftError, ThreadqlError } from '../../core/errors.ts';
import { services } from '../support/services.ts';
import { databaseErrorOf, uniqueName } from './db-test-helpers.ts';

const schema = uniqueName('pgw');
const limits = { timeoutMs: 10_000 };
let admin: pg.Client;
let driver: DatabaseDriver;

async function scalar(sql: string): Promise<number> {
  const { rows } = await admin.query<{ n: string }>(sql);
  return Number(rows[0]?.n);
}
const count = (where = 'true'): Promise<number> =>
  scalar(`SELECT count(*) AS n FROM ${schema}.accounts WHERE ${where}`);
const tableExists = async (name: string): Promise<boolean> =>
  (await scalar(
    `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = '${schema}' AND table_name = '${name}'`,
  )) === 1;

beforeEach(async () => {
  await admin.query(`
    DROP TABLE IF EXISTS ${schema}.accounts;
    CREATE TABLE ${schema}.accounts (id int PRIMARY KEY, status text NOT NULL, balance int NOT NULL CHECK (balance >= 0));
    INSERT INTO ${schema}.accounts SELECT g, CASE WHEN g <= 10 THEN 'dormant' ELSE 'active' END, 100 FROM generate_series(1, 30) g;
  `);
});

beforeAll(async () => {
  admin = new pg.Client({ connectionString: services.postgresUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  driver = await dialectFor('postgres').createDriver(services.postgresUrl, { poolSize: 3 });
});

afterAll(async () => {
  await driver?.close();
  await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin?.end();
});

describe('PostgreSQL dry run', () => {
  it('measures a single write, estimates it with EXPLAIN, and leaves the data as it was', async () => {
    const result = await driver.dryRun(`DELETE FROM ${schema}.accounts WHERE status = 'dormant'`, limits);
    expect(result).toMatchObject({ performed: true, affectedRows: 10 });
    expect(result.statements).toEqual([
      expect.objectContaining({ verdict: 'write', type: 'DELETE', affectedRows: 10 }),
    ]);
    expect(typeof result.statements[0]?.estimatedRows).toBe('number');
    expect(await count()).toBe(30);
  });

  it('measures each statement of a batch, later ones seeing the earlier ones', async () => {
    const result = await driver.dryRun(
      `UPDATE ${schema}.accounts SET status = 'closed' WHERE status = 'dormant' AND id <= 4;
       DELETE FROM ${schema}.accounts WHERE status = 'closed';
       INSERT INTO ${schema}.accounts VALUES (100, 'active', 1), (101, 'active', 2)`,
      limits,
    );
    expect(result.performed).toBe(true);
    expect(result.statements.map((s) => [s.type, s.affectedRows])).toEqual([
      ['UPDATE', 4],
      ['DELETE', 4],
      ['INSERT', 2],
    ]);
    expect(result.affectedRows).toBe(10);
    expect(await count()).toBe(30);
    expect(await count("status = 'closed'")).toBe(0);
  });

  it('dry-runs DDL too (transactional here): the table it creates is gone afterwards', async () => {
    const result = await driver.dryRun(
      `CREATE TABLE ${schema}.archive (id int, status text);
       INSERT INTO ${schema}.archive SELECT id, status FROM ${schema}.accounts WHERE status = 'dormant';
       DROP TABLE ${schema}.accounts`,
      limits,
    );
    expect(result.statements.map((s) => [s.verdict, s.affectedRows])).toEqual([
      ['ddl', 0],
      ['write', 10],
      ['ddl', 0],
    ]);
    expect(await tableExists('archive')).toBe(false);
    expect(await count()).toBe(30);
  });

  it('does not try statements whose effects escape a transaction, nor anything after them', async () => {
    const result = await driver.dryRun(
      `DELETE FROM ${schema}.accounts WHERE id = 1; VACUUM ${schema}.accounts; DELETE FROM ${schema}.accounts`,
      limits,
    );
    expect(result.performed).toBe(false);
    expect(result.statements[0]).toMatchObject({ affectedRows: 1 });
    expect(result.statements[1]?.notMeasured).toMatch(/cannot be tried and rolled back/);
    expect(result.statements[2]?.notMeasured).toMatch(/statement 2 before it could not be tried/);
    expect(result.statements[2]?.affectedRows).toBeUndefined();
    expect(result.reason).toMatch(/^Statement 2 \(VACUUM\)/);
    expect(await count()).toBe(30);
  });

  it('says plainly when PostgreSQL refuses a statement inside a transaction', async () => {
    const result = await driver.dryRun(
      `CREATE INDEX CONCURRENTLY accounts_status_idx ON ${schema}.accounts (status)`,
      limits,
    );
    expect(result).toMatchObject({ performed: false });
    expect(result.statements[0]?.notMeasured).toMatch(/cannot run it inside a transaction/);
  });

  it('surfaces a statement that fails, with nothing applied', async () => {
    const error = await databaseErrorOf(
      driver.dryRun(`UPDATE ${schema}.accounts SET balance = balance - 150`, limits),
    );
    expect(error.message).toMatch(/check constraint/);
    expect(await count('balance = 100')).toBe(30);
  });
});

describe('PostgreSQL approved execution', () => {
  it('commits a batch atomically with the counts the dry run measured', async () => {
    const sql = `UPDATE ${schema}.accounts SET status = 'closed' WHERE status = 'dormant'; DELETE FROM ${schema}.accounts WHERE status = 'closed'`;
    const dry = await driver.dryRun(sql, limits);
    const result = await driver.executeWrite(sql, {
      ...limits,
      expected: dry.statements.map((s) => s.affectedRows),
      driftTolerance: 0,
    });
    expect(result).toMatchObject({ atomic: true, affectedRows: 20 });
    expect(result.statements.map((s) => s.affectedRows)).toEqual([10, 10]);
    expect(await count()).toBe(20);
  });

  it('rolls back and throws a coded drift error when the data changed since the dry run', async () => {
    const sql = `UPDATE ${schema}.accounts SET balance = 0 WHERE status = 'dormant'`;
    const dry = await driver.dryRun(sql, limits);
    expect(dry.affectedRows).toBe(10);
    await admin.query(`UPDATE ${schema}.accounts SET status = 'dormant' WHERE id BETWEEN 11 AND 15`);
    const error = await driver
      .executeWrite(sql, { ...limits, expected: [10], driftTolerance: 0.1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DriftError);
    expect((error as DriftError).code).toBe('write_drift');
    expect((error as DriftError).detail).toMatchObject({ expected: 10, actual: 15, allowed: 11 });
    expect((error as DriftError).message).toMatch(/would change 15 rows, but the dry run measured 10/);
    expect(await count('balance = 0')).toBe(0);
  });

  it('allows drift within the tolerance, and none at tolerance 0', async () => {
    const sql = `UPDATE ${schema}.accounts SET balance = 1 WHERE status = 'dormant'`;
    await admin.query(`UPDATE ${schema}.accounts SET status = 'dormant' WHERE id = 11`);
    const exact = await driver
      .executeWrite(sql, { ...limits, expected: [10], driftTolerance: 0 })
      .catch((e: unknown) => e);
    expect(exact).toBeInstanceOf(DriftError);
    expect(await count('balance = 1')).toBe(0);
    const tolerant = await driver.executeWrite(sql, { ...limits, expected: [10], driftTolerance: 0.1 });
    expect(tolerant.affectedRows).toBe(11);
    expect(await count('balance = 1')).toBe(11);
  });

  it('checks every statement of a batch: a later statement over its count undoes the earlier ones', async () => {
    const sql = `UPDATE ${schema}.accounts SET balance = 5 WHERE id = 1; DELETE FROM ${schema}.accounts WHERE status = 'dormant'`;
    await admin.query(`INSERT INTO ${schema}.accounts VALUES (200, 'dormant', 1)`);
    const error = await driver.executeWrite(sql, { ...limits, expected: [1, 10] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DriftError);
    expect((error as DriftError).message).toMatch(/^Statement 2 \(DELETE\) would change 11 rows/);
    expect(await count('balance = 5')).toBe(0);
    expect(await count()).toBe(31);
  });

  it('leaves nothing behind when a later statement fails', async () => {
    const sql = `DELETE FROM ${schema}.accounts WHERE id <= 5; UPDATE ${schema}.accounts SET balance = -1`;
    const error = await databaseErrorOf(driver.executeWrite(sql, limits));
    expect(error.code).toBe('query_failed');
    expect(await count()).toBe(30);
  });

  it('cancels a running statement on abort and rolls back', async () => {
    const locker = new pg.Client({ connectionString: services.postgresUrl });
    await locker.connect();
    try {
      await locker.query(`BEGIN; SELECT * FROM ${schema}.accounts WHERE id = 1 FOR UPDATE`);
      const controller = new AbortController();
      const pending = driver.executeWrite(`UPDATE ${schema}.accounts SET balance = 7`, {
        ...limits,
        signal: controller.signal,
      });
      // Abort once the statement is waiting on the row lock, as seen by the server itself.
      for (;;) {
        const waiting = await scalar(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%SET balance = 7%'`,
        );
        if (waiting > 0) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      controller.abort();
      const error = await databaseErrorOf(pending);
      expect(error.message).toMatch(/cancelled/);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    expect(await count('balance = 7')).toBe(0);
  });

  it('runs a statement PostgreSQL refuses in a transaction on its own, and says it cannot be rolled back', async () => {
    const result = await driver.executeWrite(`VACUUM ${schema}.accounts`, limits);
    expect(result.atomic).toBe(false);
    expect(result.note).toMatch(/cannot run VACUUM inside a transaction/);
  });

  it('names the statements the drift guard could not cover', async () => {
    const result = await driver.executeWrite(`UPDATE ${schema}.accounts SET balance = 3 WHERE id = 2`, {
      ...limits,
      expected: [undefined],
    });
    expect(result.note).toMatch(/could not measure statement 1/);
  });

  it('refuses an unrunnable batch with a readable error, never a raw one', async () => {
    const error = await driver.executeWrite('BEGIN; DELETE FROM x; COMMIT', limits).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThreadqlError);
    expect(await count()).toBe(30);
  });
});
