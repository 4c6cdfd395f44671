import mysql from 'mysql2/promise';
import type { DatabaseDriver } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { introspectMysql } from '../../core/db/mysql/mysql-introspector.ts';
import { services } from '../support/services.ts';
import { collect, databaseErrorOf, deadPort, uniqueName } from './db-test-helpers.ts';

const database = uniqueName('my');
const wide = `${database}_wide`;
const read = { timeoutMs: 10_000, maxRows: 1000 };
// MariaDB's sequence engine (the test server is MariaDB); recursive CTEs stop at max_recursive_iterations.
const series = (n: number): string => `SELECT seq AS n FROM seq_1_to_${n}`;
let admin: mysql.Connection;
let driver: DatabaseDriver;

function urlFor(db: string): string {
  const url = new URL(services.mysqlUrl);
  url.pathname = `/${db}`;
  return url.toString();
}

async function count(table: string): Promise<number> {
  const [rows] = await admin.query(`SELECT count(*) AS n FROM \`${database}\`.\`${table}\``);
  return Number((rows as { n: number }[])[0]?.n);
}

async function tableExists(table: string): Promise<boolean> {
  const [rows] = await admin.query(
    'SELECT count(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    [database, table],
  );
  return Number((rows as { n: number }[])[0]?.n) === 1;
}

beforeAll(async () => {
  admin = await mysql.createConnection({ uri: services.mysqlUrl, multipleStatements: true });
  await admin.query(`
    CREATE DATABASE \`${database}\`;
    USE \`${database}\`;
    CREATE TABLE customers (
      id int AUTO_INCREMENT PRIMARY KEY,
      email varchar(255) NOT NULL UNIQUE,
      name varchar(100) NULL COMMENT 'display name',
      created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP
    ) ENGINE=InnoDB COMMENT='people who buy';
    CREATE TABLE orders (
      id bigint AUTO_INCREMENT PRIMARY KEY,
      customer_id int NOT NULL,
      total decimal(10,2),
      status varchar(10) NOT NULL DEFAULT 'open',
      KEY orders_status_idx (status),
      CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers(id)
    ) ENGINE=InnoDB;
    CREATE TABLE profiles (
      customer_id int PRIMARY KEY,
      bio text,
      CONSTRAINT profiles_customer_fk FOREIGN KEY (customer_id) REFERENCES customers(id)
    ) ENGINE=InnoDB;
    CREATE TABLE audit (id int PRIMARY KEY, note varchar(20)) ENGINE=MyISAM;
    INSERT INTO customers (email, name) VALUES ('a@x', 'Ann'), ('b@x', 'Bob'), ('c@x', NULL);
    INSERT INTO orders (customer_id, total, status)
      SELECT 1 + (seq % 3), seq * 1.25, IF(seq % 2 = 0, 'open', 'paid') FROM seq_1_to_20;
    INSERT INTO profiles VALUES (1, 'hi');
    INSERT INTO audit VALUES (1, 'first');
    CREATE FUNCTION bump() RETURNS int MODIFIES SQL DATA BEGIN INSERT INTO audit VALUES (99, 'bumped'); RETURN 1; END;
    CREATE DATABASE \`${wide}\`;
  `);
  const tables = Array.from(
    { length: 60 },
    (_, i) =>
      `CREATE TABLE \`${wide}\`.t${i} (id int PRIMARY KEY, parent int, label text${i === 0 ? '' : `, FOREIGN KEY (parent) REFERENCES \`${wide}\`.t0(id)`}) ENGINE=InnoDB;`,
  );
  await admin.query(tables.join('\n'));
  driver = await dialectFor('mysql').createDriver(urlFor(database), { poolSize: 3 });
});

afterAll(async () => {
  await driver?.close();
  await admin?.query(`DROP DATABASE IF EXISTS \`${database}\`; DROP DATABASE IF EXISTS \`${wide}\``);
  await admin?.end();
});

describe('MySQL / MariaDB driver', () => {
  it('validates a live connection', async () => {
    await expect(driver.validate()).resolves.toBeUndefined();
  });

  it('introspects tables, columns, keys, indexes and relationships', async () => {
    const snapshot = await driver.introspect();
    expect(snapshot.databaseType).toBe('mysql');
    expect(snapshot.tables.map((t) => t.name)).toEqual(['audit', 'customers', 'orders', 'profiles']);
    const customers = snapshot.tables.find((t) => t.name === 'customers');
    expect(customers).toMatchObject({
      schema: database,
      kind: 'table',
      primaryKey: ['id'],
      comment: 'people who buy',
    });
    expect(customers?.columns.map((c) => [c.name, c.type, c.nullable, c.isPrimaryKey])).toEqual([
      ['id', 'int(11)', false, true],
      ['email', 'varchar(255)', false, false],
      ['name', 'varchar(100)', true, false],
      ['created_at', 'datetime', false, false],
    ]);
    expect(customers?.columns.find((c) => c.name === 'name')?.comment).toBe('display name');
    expect(customers?.indexes).toEqual(
      expect.arrayContaining([
        { name: 'PRIMARY', columns: ['id'], unique: true, primary: true },
        { name: 'email', columns: ['email'], unique: true, primary: false },
      ]),
    );
    const orders = snapshot.tables.find((t) => t.name === 'orders');
    expect(orders?.columns.find((c) => c.name === 'total')?.type).toBe('decimal(10,2)');
    expect(orders?.foreignKeys).toEqual([
      {
        name: 'orders_customer_fk',
        columns: ['customer_id'],
        referencedTable: 'customers',
        referencedColumns: ['id'],
      },
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
    const counted = async (db: string): Promise<{ queries: number; tables: number; reported: number }> => {
      const conn = await mysql.createConnection({ uri: urlFor(db) });
      try {
        let queries = 0;
        const snapshot = await introspectMysql(async (sql) => {
          queries += 1;
          const [rows] = await conn.query(sql);
          return rows as Record<string, unknown>[];
        });
        return { queries, tables: snapshot.tables.length, reported: snapshot.catalogQueries };
      } finally {
        await conn.end();
      }
    };
    const small = await counted(database);
    const large = await counted(wide);
    expect(small.tables).toBe(4);
    expect(large.tables).toBe(60);
    expect(large.queries).toBe(small.queries);
    expect(small.reported).toBe(small.queries);
  });

  it('returns column types and kinds; decimals and bigints stay strings', async () => {
    const result = await driver.executeRead(
      'SELECT o.id, o.total, o.status, c.created_at, DATE(c.created_at) AS day FROM orders o JOIN customers c ON c.id = o.customer_id ORDER BY o.id LIMIT 1',
      read,
    );
    expect(result.columns).toEqual([
      { name: 'id', type: 'bigint', kind: 'number' },
      { name: 'total', type: 'decimal', kind: 'number' },
      { name: 'status', type: 'varchar', kind: 'string' },
      { name: 'created_at', type: 'datetime', kind: 'datetime' },
      { name: 'day', type: 'date', kind: 'date' },
    ]);
    const [row] = result.rows;
    expect(row?.slice(0, 3)).toEqual(['1', '1.25', 'paid']);
    expect(row?.[3]).toBeInstanceOf(Date);
    expect(row?.[4]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('caps rows at maxRows, flags the truncation, and keeps the pool usable', async () => {
    const capped = await driver.executeRead(series(50), { ...read, maxRows: 10 });
    expect(capped.rows.map((r) => Number(r[0]))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(capped).toMatchObject({ rowCount: 10, truncated: true });
    const exact = await driver.executeRead(series(50), { ...read, maxRows: 50 });
    expect(exact).toMatchObject({ rowCount: 50, truncated: false });
  });

  it('has the server refuse writes and DDL smuggled into a read, and changes nothing', async () => {
    const before = await count('orders');
    const del = await databaseErrorOf(driver.executeRead('DELETE FROM orders', read));
    expect(del.code).toBe('read_only_violation');
    expect(del.message).toMatch(/READ ONLY transaction/);
    const viaFunction = await databaseErrorOf(driver.executeRead('SELECT bump()', read));
    expect(viaFunction.code).toBe('read_only_violation');
    // DDL commits the open transaction implicitly; the session's read-only mode still refuses it.
    const ddl = await databaseErrorOf(driver.executeRead('CREATE TABLE sneaky (id int)', read));
    expect(ddl.code).toBe('read_only_violation');
    const batch = await databaseErrorOf(driver.executeRead('SELECT 1; DELETE FROM orders', read));
    expect(batch.code).toBe('query_failed');
    expect(await count('orders')).toBe(before);
    expect(await count('audit')).toBe(1);
    expect(await tableExists('sneaky')).toBe(false);
  });

  it('stops a statement at its time limit', async () => {
    const error = await databaseErrorOf(
      driver.executeRead('SELECT SLEEP(5) AS s FROM customers', { timeoutMs: 300, maxRows: 10 }),
    );
    expect(error.code).toBe('query_timeout');
    await expect(driver.executeRead('SELECT 1 AS one', read)).resolves.toMatchObject({ rows: [[1]] });
  });

  it('dry-runs DML in a transaction that is rolled back, reporting affected rows', async () => {
    const before = await count('orders');
    const result = await driver.dryRun("UPDATE orders SET status = 'void' WHERE status = 'open'", read);
    expect(result).toMatchObject({ performed: true, affectedRows: 10 });
    const deleted = await driver.dryRun('DELETE FROM orders', read);
    expect(deleted).toMatchObject({ performed: true, affectedRows: before });
    expect(await count('orders')).toBe(before);
    const [rows] = await admin.query(
      `SELECT count(*) AS n FROM \`${database}\`.orders WHERE status = 'open'`,
    );
    expect(Number((rows as { n: number }[])[0]?.n)).toBe(10);
  });

  it('does not dry-run DDL (MySQL commits it implicitly) and changes nothing', async () => {
    const result = await driver.dryRun('DROP TABLE profiles', read);
    expect(result.performed).toBe(false);
    expect(result.reason).toMatch(/DDL/);
    expect(await tableExists('profiles')).toBe(true);
    expect(await count('profiles')).toBe(1);
  });

  it('does not dry-run DML on a table that cannot roll back (MyISAM)', async () => {
    const result = await driver.dryRun('DELETE FROM audit', read);
    expect(result.performed).toBe(false);
    expect(result.reason).toMatch(/audit \(MyISAM\)/);
    expect(await count('audit')).toBe(1);
  });

  it('commits an approved write', async () => {
    const result = await driver.executeWrite("INSERT INTO customers (email) VALUES ('d@x')", read);
    expect(result).toMatchObject({ atomic: true, affectedRows: 1 });
    expect(await count('customers')).toBe(4);
  });

  it('explains a read with a row estimate', async () => {
    const plan = await driver.explain('SELECT * FROM orders', read);
    expect(plan?.plan).toContain('orders');
    expect(typeof plan?.estimatedRows).toBe('number');
  });

  it('streams a read in batches, capped at maxRows', async () => {
    const stream = await driver.streamRead(series(2500), { ...read, maxRows: 10_000, batchSize: 1000 });
    expect(stream.columns.map((c) => c.name)).toEqual(['n']);
    const batches = await collect(stream.batches);
    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 500]);
    expect(Number(batches[2]?.at(-1)?.[0])).toBe(2500);
    expect(stream.summary()).toEqual({ rowCount: 2500, truncated: false });
    const capped = await driver.streamRead(series(2500), { ...read, maxRows: 1500, batchSize: 1000 });
    expect((await collect(capped.batches)).map((b) => b.length)).toEqual([1000, 500]);
    expect(capped.summary()).toEqual({ rowCount: 1500, truncated: true });
  });

  it('releases the connection when a stream is abandoned early', async () => {
    const single = await dialectFor('mysql').createDriver(urlFor(database), { poolSize: 1 });
    try {
      const stream = await single.streamRead(series(50_000), { ...read, maxRows: 100_000, batchSize: 100 });
      for await (const batch of stream.batches) {
        expect(batch).toHaveLength(100);
        break;
      }
      const unread = await single.streamRead('SELECT 1', read);
      await unread.close();
      await expect(single.executeRead('SELECT 2 AS two', read)).resolves.toMatchObject({ rows: [[2]] });
    } finally {
      await single.close();
    }
  });

  it('fails validate() on a dead port with database_unavailable and no password in the message', async () => {
    const url = `mysql://threadql:Sup3rSecretPw@127.0.0.1:${await deadPort()}/nowhere`;
    const dead = await dialectFor('mysql').createDriver(url, { connectTimeoutMs: 2000 });
    try {
      const error = await databaseErrorOf(dead.validate());
      expect(error.code).toBe('database_unavailable');
      expect(error.message).not.toContain('Sup3rSecretPw');
      expect(error.message).not.toContain(url);
    } finally {
      await dead.close();
    }
  });

  it('reports a wrong password as database_unavailable without echoing it', async () => {
    const url = new URL(urlFor(database));
    url.password = 'Wr0ngPassw0rd';
    const wrong = await dialectFor('mysql').createDriver(url.toString());
    try {
      const error = await databaseErrorOf(wrong.validate());
      expect(error.code).toBe('database_unavailable');
      expect(error.message).toMatch(/Access denied/);
      expect(error.message).not.toContain('Wr0ngPassw0rd');
    } finally {
      await wrong.close();
    }
  });
});
