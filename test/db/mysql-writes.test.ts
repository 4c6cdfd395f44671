import mysql from 'mysql2/promise';
import type { DatabaseDriver } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { DriftError } from '../../core/errors.ts';
import { services } from '../support/services.ts';
import { databaseErrorOf, uniqueName } from './db-test-helpers.ts';

const database = uniqueName('myw');
const limits = { timeoutMs: 10_000 };
let admin: mysql.Connection;
let driver: DatabaseDriver;

async function scalar(sql: string): Promise<number> {
  const [rows] = await admin.query(sql);
  return Number((rows as { n: number }[])[0]?.n);
}
const count = (where = 'true'): Promise<number> =>
  scalar(`SELECT count(*) AS n FROM \`${database}\`.accounts WHERE ${where}`);
const tableExists = async (name: string): Promise<boolean> =>
  (await scalar(
    `SELECT count(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${database}' AND TABLE_NAME = '${name}'`,
  )) === 1;

beforeAll(async () => {
  admin = await mysql.createConnection({ uri: services.mysqlUrl, multipleStatements: true });
  await admin.query(`CREATE DATABASE \`${database}\``);
  const url = new URL(services.mysqlUrl);
  url.pathname = `/${database}`;
  driver = await dialectFor('mysql').createDriver(url.toString(), { poolSize: 3 });
});

beforeEach(async () => {
  await admin.query(`
    USE \`${database}\`;
    DROP TABLE IF EXISTS accounts, archive, notes;
    CREATE TABLE accounts (id int PRIMARY KEY, status varchar(10) NOT NULL, balance int NOT NULL, CHECK (balance >= 0)) ENGINE=InnoDB;
    INSERT INTO accounts SELECT seq, IF(seq <= 10, 'dormant', 'active'), 100 FROM seq_1_to_30;
    CREATE TABLE notes (id int PRIMARY KEY) ENGINE=MyISAM;
  `);
});

afterAll(async () => {
  await driver?.close();
  await admin?.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin?.end();
});

describe('MySQL/MariaDB dry run', () => {
  it('measures DML per statement in a transaction that is rolled back, with EXPLAIN estimates', async () => {
    const result = await driver.dryRun(
      `UPDATE accounts SET status = 'closed' WHERE status = 'dormant' AND id <= 4;
       DELETE FROM accounts WHERE status = 'closed';
       INSERT INTO accounts VALUES (100, 'active', 1)`,
      limits,
    );
    expect(result).toMatchObject({ performed: true, affectedRows: 9 });
    expect(result.statements.map((s) => [s.type, s.affectedRows])).toEqual([
      ['UPDATE', 4],
      ['DELETE', 4],
      ['INSERT', 1],
    ]);
    expect(typeof result.statements[0]?.estimatedRows).toBe('number');
    expect(await count()).toBe(30);
    expect(await count("status = 'closed'")).toBe(0);
  });

  it('does not run DDL (it commits implicitly) and says so plainly', async () => {
    const result = await driver.dryRun('CREATE TABLE archive (id int); DROP TABLE accounts', limits);
    expect(result.performed).toBe(false);
    expect(result.statements.map((s) => s.notMeasured)).toEqual([
      expect.stringMatching(/commit DDL implicitly, so it cannot be tried and rolled back; it was not run/),
      expect.stringMatching(/statement 1 before it could not be tried/),
    ]);
    expect(await tableExists('archive')).toBe(false);
    expect(await tableExists('accounts')).toBe(true);
  });

  it('refuses a batch mixing DML with DDL: it could run as one unit neither in the dry run nor for real', async () => {
    const sql = "UPDATE accounts SET status = 'x'; ALTER TABLE accounts ADD COLUMN note text";
    const result = await driver.dryRun(sql, limits);
    expect(result.unrunnable).toMatch(/commit ALTER TABLE implicitly/);
    const error = await databaseErrorOf(driver.executeWrite(sql, limits));
    expect(error.message).toMatch(/request the schema change and the data change separately/);
    expect(await count("status = 'x'")).toBe(0);
  });

  it('does not try DML on a table that cannot roll back', async () => {
    const result = await driver.dryRun('INSERT INTO notes VALUES (1)', limits);
    expect(result.statements[0]?.notMeasured).toMatch(/notes \(MyISAM\) cannot roll back/);
    expect(await scalar(`SELECT count(*) AS n FROM \`${database}\`.notes`)).toBe(0);
  });
});

describe('MySQL/MariaDB approved execution', () => {
  it('commits DML with the dry run counts', async () => {
    const sql = "DELETE FROM accounts WHERE status = 'dormant'";
    const dry = await driver.dryRun(sql, limits);
    const result = await driver.executeWrite(sql, {
      ...limits,
      expected: [dry.affectedRows],
      driftTolerance: 0,
    });
    expect(result).toMatchObject({ atomic: true, affectedRows: 10 });
    expect(await count()).toBe(20);
  });

  it('rolls back on drift: the database is untouched', async () => {
    const sql = "UPDATE accounts SET balance = 0 WHERE status = 'dormant'";
    const dry = await driver.dryRun(sql, limits);
    await admin.query(`UPDATE \`${database}\`.accounts SET status = 'dormant' WHERE id BETWEEN 11 AND 20`);
    const error = await driver
      .executeWrite(sql, { ...limits, expected: [dry.affectedRows], driftTolerance: 0.1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DriftError);
    expect((error as DriftError).detail).toMatchObject({ expected: 10, actual: 20, allowed: 11 });
    expect(await count('balance = 0')).toBe(0);
  });

  it('runs approved DDL without a transaction and says it cannot be rolled back', async () => {
    const result = await driver.executeWrite('CREATE TABLE archive (id int); DROP TABLE notes', {
      ...limits,
      expected: [undefined, undefined],
    });
    expect(result.atomic).toBe(false);
    expect(result.note).toMatch(/commit DDL implicitly: it cannot be rolled back/);
    expect(await tableExists('archive')).toBe(true);
    expect(await tableExists('notes')).toBe(false);
  });

  it('says so when a table in the batch cannot roll back', async () => {
    const result = await driver.executeWrite('INSERT INTO notes VALUES (1)', limits);
    expect(result).toMatchObject({ atomic: false, affectedRows: 1 });
    expect(result.note).toMatch(/notes \(MyISAM\) cannot roll back/);
  });

  it('leaves nothing behind when a later statement fails', async () => {
    const error = await databaseErrorOf(
      driver.executeWrite('DELETE FROM accounts WHERE id <= 5; UPDATE accounts SET balance = -1', limits),
    );
    expect(error.code).toBe('query_failed');
    expect(await count()).toBe(30);
  });

  it('cancels a statement waiting on a lock when aborted, and rolls back', async () => {
    const locker = await mysql.createConnection({ uri: services.mysqlUrl });
    try {
      await locker.query(`START TRANSACTION`);
      await locker.query(`SELECT * FROM \`${database}\`.accounts WHERE id = 1 FOR UPDATE`);
      const controller = new AbortController();
      const pending = driver.executeWrite('UPDATE accounts SET balance = 7', {
        ...limits,
        signal: controller.signal,
      });
      for (;;) {
        const waiting = await scalar(
          `SELECT count(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE 'UPDATE accounts SET balance = 7%'`,
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
});
