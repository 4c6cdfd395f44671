import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DatabaseDriver } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { sqliteFileFromUrl } from '../../core/db/sqlite/sqlite-url.ts';
import { collect, databaseErrorOf } from './db-test-helpers.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tq-sqlite-'));
const file = path.join(dir, 'shop.db');
const wideFile = path.join(dir, 'wide.db');
const read = { timeoutMs: 10_000, maxRows: 1000 };
const series = (n: number): string =>
  `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${n}) SELECT n FROM s`;
let check: Database.Database;
let driver: DatabaseDriver;

const count = (table: string): number =>
  (check.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

beforeAll(async () => {
  const db = new Database(file);
  db.exec(`
    CREATE TABLE customers (
      id INTEGER PRIMARY KEY,
      email TEXT NOT NULL UNIQUE,
      name TEXT,
      created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
    );
    CREATE TABLE orders (
      id INTEGER PRIMARY KEY,
      customer_id INTEGER NOT NULL REFERENCES customers,
      total NUMERIC,
      status TEXT NOT NULL DEFAULT 'open',
      photo BLOB
    );
    CREATE INDEX orders_status_idx ON orders (status);
    CREATE TABLE profiles (customer_id INTEGER PRIMARY KEY REFERENCES customers(id), bio TEXT);
    CREATE VIEW paid AS SELECT * FROM orders WHERE status = 'paid';
    INSERT INTO customers (email, name) VALUES ('a@x', 'Ann'), ('b@x', 'Bob'), ('c@x', NULL);
    INSERT INTO orders (customer_id, total, status, photo)
      SELECT 1 + (n % 3), n * 1.25, CASE WHEN n % 2 = 0 THEN 'open' ELSE 'paid' END, x'00ff' FROM (${series(20)});
    INSERT INTO profiles VALUES (1, 'hi');
  `);
  db.close();
  const wide = new Database(wideFile);
  wide.exec(
    Array.from(
      { length: 60 },
      (_, i) => `CREATE TABLE t${i} (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES t0(id), label TEXT);`,
    ).join('\n'),
  );
  wide.close();
  check = new Database(file, { readonly: true });
  driver = await dialectFor('sqlite').createDriver(`sqlite://${file}`);
});

afterAll(async () => {
  await driver?.close();
  check?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SQLite connection URLs', () => {
  it('accepts sqlite:///abs, sqlite:relative, file: URLs and plain paths', () => {
    expect(sqliteFileFromUrl('sqlite:///var/data/shop.db')).toBe('/var/data/shop.db');
    expect(sqliteFileFromUrl('sqlite:data/shop.db', '/srv')).toBe('/srv/data/shop.db');
    expect(sqliteFileFromUrl('file:///var/data/shop.db')).toBe('/var/data/shop.db');
    expect(sqliteFileFromUrl('./shop.db', '/srv')).toBe('/srv/shop.db');
    expect(sqliteFileFromUrl('/abs/shop.db')).toBe('/abs/shop.db');
    expect(() => sqliteFileFromUrl('sqlite::memory:')).toThrow(/database file/);
  });
});

describe('SQLite driver', () => {
  it('validates an existing database file', async () => {
    await expect(driver.validate()).resolves.toBeUndefined();
  });

  it('introspects tables, views, columns, keys, indexes and relationships', async () => {
    const snapshot = await driver.introspect();
    expect(snapshot.databaseType).toBe('sqlite');
    expect(snapshot.tables.map((t) => [t.name, t.kind])).toEqual([
      ['customers', 'table'],
      ['orders', 'table'],
      ['paid', 'view'],
      ['profiles', 'table'],
    ]);
    const customers = snapshot.tables.find((t) => t.name === 'customers');
    expect(customers?.primaryKey).toEqual(['id']);
    expect(customers?.columns.map((c) => [c.name, c.type, c.nullable, c.isPrimaryKey])).toEqual([
      ['id', 'INTEGER', false, true],
      ['email', 'TEXT', false, false],
      ['name', 'TEXT', true, false],
      ['created_at', 'DATETIME', false, false],
    ]);
    expect(customers?.indexes).toContainEqual(
      expect.objectContaining({ columns: ['email'], unique: true, primary: false }),
    );
    const orders = snapshot.tables.find((t) => t.name === 'orders');
    // `REFERENCES customers` without a column resolves to the primary key.
    expect(orders?.foreignKeys).toEqual([
      { columns: ['customer_id'], referencedTable: 'customers', referencedColumns: ['id'] },
    ]);
    expect(orders?.indexes).toContainEqual({
      name: 'orders_status_idx',
      columns: ['status'],
      unique: false,
      primary: false,
    });
    expect(snapshot.relationships).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ fromTable: 'orders', toTable: 'customers', cardinality: 'many-to-one' }),
        expect.objectContaining({ fromTable: 'profiles', toTable: 'customers', cardinality: 'one-to-one' }),
      ]),
    );
  });

  it('uses the same number of catalog queries for 4 tables and for 60', async () => {
    const wide = await dialectFor('sqlite').createDriver(wideFile);
    try {
      const small = await driver.introspect();
      const large = await wide.introspect();
      expect(large.tables).toHaveLength(60);
      expect(large.relationships).toHaveLength(60);
      expect(large.catalogQueries).toBe(small.catalogQueries);
      expect(small.catalogQueries).toBe(3);
    } finally {
      await wide.close();
    }
  });

  it('returns declared column types, kinds from values for expressions, exact big integers as strings', async () => {
    const result = await driver.executeRead(
      'SELECT id, total, status, photo, id * 2 AS twice, 9007199254740993 AS big FROM orders ORDER BY id LIMIT 1',
      read,
    );
    expect(result.columns).toEqual([
      { name: 'id', type: 'INTEGER', kind: 'number' },
      { name: 'total', type: 'NUMERIC', kind: 'number' },
      { name: 'status', type: 'TEXT', kind: 'string' },
      { name: 'photo', type: 'BLOB', kind: 'binary' },
      { name: 'twice', type: 'INTEGER', kind: 'number' },
      { name: 'big', type: 'INTEGER', kind: 'number' },
    ]);
    expect(result.rows).toEqual([[1, 1.25, 'paid', '\\x00ff', 2, '9007199254740993']]);
  });

  it('caps rows at maxRows and flags the truncation', async () => {
    const capped = await driver.executeRead(series(50), { ...read, maxRows: 10 });
    expect(capped.rows.map((r) => r[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(capped).toMatchObject({ rowCount: 10, truncated: true });
    expect(await driver.executeRead(series(50), { ...read, maxRows: 50 })).toMatchObject({
      rowCount: 50,
      truncated: false,
    });
  });

  it('has SQLite refuse writes through the read-only handle, and changes nothing', async () => {
    const before = count('orders');
    for (const sql of [
      'DELETE FROM orders RETURNING id',
      'DELETE FROM orders',
      'CREATE TABLE sneaky (id INTEGER)',
    ]) {
      const error = await databaseErrorOf(driver.executeRead(sql, read));
      expect(error.code).toBe('read_only_violation');
      expect(error.message).toMatch(/readonly database/);
    }
    // Turning query_only off does not help: the handle itself was opened read-only, and query_only is re-set.
    await driver.executeRead('PRAGMA query_only = 0', read);
    expect((await databaseErrorOf(driver.executeRead('DELETE FROM orders', read))).code).toBe(
      'read_only_violation',
    );
    const batch = await databaseErrorOf(driver.executeRead('SELECT 1; DELETE FROM orders', read));
    expect(batch.code).toBe('query_failed');
    expect(count('orders')).toBe(before);
    expect(check.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'sneaky'").get()).toEqual({
      n: 0,
    });
  });

  it('stops a runaway query at its time limit by killing the worker, then keeps working', async () => {
    const error = await databaseErrorOf(
      driver.executeRead(
        'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c',
        { timeoutMs: 300, maxRows: 10 },
      ),
    );
    expect(error.code).toBe('query_timeout');
    await expect(driver.executeRead('SELECT 1 AS one', read)).resolves.toMatchObject({ rows: [[1]] });
  });

  it('dry-runs DML and DDL inside BEGIN … ROLLBACK, reporting affected rows', async () => {
    const before = count('orders');
    expect(
      await driver.dryRun("UPDATE orders SET status = 'void' WHERE status = 'open'", read),
    ).toMatchObject({
      performed: true,
      affectedRows: 10,
    });
    expect(await driver.dryRun('DROP TABLE profiles', read)).toMatchObject({ performed: true });
    expect(count('orders')).toBe(before);
    expect(count("orders WHERE status = 'open'")).toBe(10);
    expect(count('profiles')).toBe(1);
  });

  it('commits an approved write', async () => {
    expect(await driver.executeWrite("INSERT INTO customers (email) VALUES ('d@x')", read)).toMatchObject({
      atomic: true,
      affectedRows: 1,
    });
    expect(count('customers')).toBe(4);
  });

  it('explains a read (no row estimate in SQLite)', async () => {
    const plan = await driver.explain('SELECT * FROM orders WHERE id = 1', read);
    expect(plan?.plan).toMatch(/SEARCH orders/);
    expect(plan?.estimatedRows).toBeUndefined();
  });

  it('streams a read in batches, capped at maxRows, and releases the worker when abandoned', async () => {
    const stream = await driver.streamRead(series(2500), { ...read, maxRows: 10_000, batchSize: 1000 });
    expect(stream.columns.map((c) => c.name)).toEqual(['n']);
    const batches = await collect(stream.batches);
    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 500]);
    expect(batches[2]?.at(-1)).toEqual([2500]);
    expect(stream.summary()).toEqual({ rowCount: 2500, truncated: false });
    const capped = await driver.streamRead(series(2500), { ...read, maxRows: 1500, batchSize: 1000 });
    expect((await collect(capped.batches)).map((b) => b.length)).toEqual([1000, 500]);
    expect(capped.summary()).toEqual({ rowCount: 1500, truncated: true });

    const single = await dialectFor('sqlite').createDriver(file, { poolSize: 1 });
    try {
      const abandoned = await single.streamRead(series(100_000), {
        ...read,
        maxRows: 100_000,
        batchSize: 100,
      });
      for await (const batch of abandoned.batches) {
        expect(batch).toHaveLength(100);
        break;
      }
      await expect(single.executeRead('SELECT 2 AS two', read)).resolves.toMatchObject({ rows: [[2]] });
    } finally {
      await single.close();
    }
  });

  it('fails validate() for a missing file with database_unavailable', async () => {
    const missing = await dialectFor('sqlite').createDriver(`sqlite://${path.join(dir, 'missing.db')}`);
    try {
      const error = await databaseErrorOf(missing.validate());
      expect(error.code).toBe('database_unavailable');
      expect(error.message).toMatch(/unable to open/);
    } finally {
      await missing.close();
    }
  });
});
