import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DatabaseDriver } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { DriftError } from '../../core/errors.ts';
import { databaseErrorOf } from './db-test-helpers.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tq-sqlite-w-'));
const file = path.join(dir, 'bank.db');
const limits = { timeoutMs: 10_000 };
let admin: Database.Database;
let driver: DatabaseDriver;

const count = (where = '1'): number =>
  (admin.prepare(`SELECT count(*) AS n FROM accounts WHERE ${where}`).get() as { n: number }).n;
const tableExists = (name: string): boolean =>
  admin.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;

beforeAll(async () => {
  admin = new Database(file);
  driver = await dialectFor('sqlite').createDriver(`sqlite://${file}`);
});

beforeEach(() => {
  admin.exec(`
    DROP TABLE IF EXISTS accounts; DROP TABLE IF EXISTS archive;
    CREATE TABLE accounts (id INTEGER PRIMARY KEY, status TEXT NOT NULL, balance INTEGER NOT NULL CHECK (balance >= 0));
    WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 30)
      INSERT INTO accounts SELECT n, CASE WHEN n <= 10 THEN 'dormant' ELSE 'active' END, 100 FROM s;
  `);
});

afterAll(async () => {
  await driver?.close();
  admin?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SQLite dry run', () => {
  it('measures each statement of a batch inside BEGIN … ROLLBACK', async () => {
    const result = await driver.dryRun(
      `UPDATE accounts SET status = 'closed' WHERE status = 'dormant' AND id <= 4;
       DELETE FROM accounts WHERE status = 'closed';
       INSERT INTO accounts VALUES (100, 'active', 1), (101, 'active', 1)`,
      limits,
    );
    expect(result).toMatchObject({ performed: true, affectedRows: 10 });
    expect(result.statements.map((s) => [s.type, s.affectedRows])).toEqual([
      ['UPDATE', 4],
      ['DELETE', 4],
      ['INSERT', 2],
    ]);
    expect(count()).toBe(30);
  });

  it('dry-runs DDL (transactional in SQLite) and counts DDL as changing no rows', async () => {
    const result = await driver.dryRun(
      `DELETE FROM accounts WHERE id = 30;
       CREATE TABLE archive AS SELECT * FROM accounts WHERE status = 'dormant';
       DROP TABLE accounts`,
      limits,
    );
    expect(result.statements.map((s) => [s.verdict, s.affectedRows])).toEqual([
      ['write', 1],
      ['ddl', 0],
      ['ddl', 0],
    ]);
    expect(tableExists('archive')).toBe(false);
    expect(count()).toBe(30);
  });

  it('does not try statements that act outside a transaction', async () => {
    const result = await driver.dryRun('PRAGMA journal_mode = wal', limits);
    expect(result.performed).toBe(false);
    expect(result.statements[0]?.notMeasured).toMatch(/cannot be tried and rolled back/);
  });
});

describe('SQLite approved execution', () => {
  it('commits with the dry run counts', async () => {
    const sql =
      "UPDATE accounts SET status = 'closed' WHERE status = 'dormant'; DELETE FROM accounts WHERE status = 'closed'";
    const dry = await driver.dryRun(sql, limits);
    const result = await driver.executeWrite(sql, {
      ...limits,
      expected: dry.statements.map((s) => s.affectedRows),
    });
    expect(result).toMatchObject({ atomic: true, affectedRows: 20 });
    expect(count()).toBe(20);
  });

  it('rolls back on drift: the database is untouched', async () => {
    const sql = "DELETE FROM accounts WHERE status = 'dormant'";
    const dry = await driver.dryRun(sql, limits);
    admin.exec("UPDATE accounts SET status = 'dormant' WHERE id BETWEEN 11 AND 13");
    const error = await driver
      .executeWrite(sql, { ...limits, expected: [dry.affectedRows], driftTolerance: 0.1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DriftError);
    expect((error as DriftError).detail).toMatchObject({ expected: 10, actual: 13, allowed: 11 });
    expect(count()).toBe(30);
  });

  it('leaves nothing behind when a later statement fails', async () => {
    const error = await databaseErrorOf(
      driver.executeWrite('DELETE FROM accounts WHERE id <= 5; UPDATE accounts SET balance = -1', limits),
    );
    expect(error.message).toMatch(/CHECK constraint/);
    expect(count()).toBe(30);
  });

  it('runs VACUUM on its own and says it cannot be rolled back', async () => {
    const result = await driver.executeWrite('VACUUM', limits);
    expect(result.atomic).toBe(false);
    expect(result.note).toMatch(/cannot run VACUUM inside a transaction/);
  });

  it('cancels on abort: the worker dies with its open transaction, which is rolled back', async () => {
    const controller = new AbortController();
    // A statement that runs long enough to be aborted: a recursive CTE feeding an UPDATE.
    const pending = driver.executeWrite(
      `UPDATE accounts SET balance = 7 WHERE id IN (
         WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 100000000) SELECT max(n) FROM s)`,
      { ...limits, signal: controller.signal },
    );
    setImmediate(() => controller.abort());
    const error = await databaseErrorOf(pending);
    expect(error.message).toMatch(/cancelled/);
    expect(count('balance = 7')).toBe(0);
    expect(count()).toBe(30);
  });
});
