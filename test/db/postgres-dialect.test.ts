import pg from 'pg';
import type { DatabaseDriver } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { introspectPostgres } from '../../core/db/postgres/postgres-introspector.ts';
import { services } from '../support/services.ts';
import { collect, databaseErrorOf, deadPort, uniqueName } from './db-test-helpers.ts';

const schema = uniqueName('pg');
const wide = `${schema}_wide`;
const read = { timeoutMs: 10_000, maxRows: 1000 };
let admin: pg.Client;
let driver: DatabaseDriver;

async function count(table: string): Promise<number> {
  const { rows } = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.${table}`);
  return Number(rows[0]?.n);
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: services.postgresUrl });
  await admin.connect();
  await admin.query(`
    CREATE SCHEMA ${schema};
    CREATE TABLE ${schema}.customers (
      id serial PRIMARY KEY,
      email text NOT NULL UNIQUE,
      name text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    COMMENT ON TABLE ${schema}.customers IS 'people who buy';
    CREATE TABLE ${schema}.orders (
      id bigserial PRIMARY KEY,
      customer_id integer NOT NULL REFERENCES ${schema}.customers(id),
      total numeric(10,2),
      status text NOT NULL DEFAULT 'open'
    );
    CREATE INDEX orders_status_idx ON ${schema}.orders (status);
    CREATE TABLE ${schema}.profiles (
      customer_id integer PRIMARY KEY REFERENCES ${schema}.customers(id),
      bio text
    );
    CREATE SEQUENCE ${schema}.counter;
    CREATE TYPE ${schema}.mood AS ENUM ('happy', 'sad');
    CREATE TABLE ${schema}.moods (m ${schema}.mood NOT NULL);
    INSERT INTO ${schema}.moods VALUES ('happy'), ('sad');
    INSERT INTO ${schema}.customers (email, name) VALUES ('a@x', 'Ann'), ('b@x', 'Bob'), ('c@x', NULL);
    INSERT INTO ${schema}.orders (customer_id, total, status)
      SELECT 1 + (g % 3), g * 1.25, CASE WHEN g % 2 = 0 THEN 'open' ELSE 'paid' END FROM generate_series(1, 20) g;
    INSERT INTO ${schema}.profiles VALUES (1, 'hi');
    CREATE SCHEMA ${wide};
  `);
  const tables = Array.from(
    { length: 60 },
    (_, i) =>
      `CREATE TABLE ${wide}.t${i} (id int PRIMARY KEY, parent int REFERENCES ${wide}.t0(id), label text);`,
  );
  // t0 first: the others reference it.
  await admin.query(tables.join('\n'));
  driver = await dialectFor('postgres').createDriver(services.postgresUrl, { poolSize: 3 });
});

afterAll(async () => {
  await driver?.close();
  await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${wide} CASCADE`);
  await admin?.end();
});

describe('PostgreSQL driver', () => {
  it('validates a live connection', async () => {
    await expect(driver.validate()).resolves.toBeUndefined();
  });

  it('introspects tables, columns, keys, indexes and relationships of a schema', async () => {
    const snapshot = await driver.introspect({ schemas: [schema] });
    expect(snapshot.databaseType).toBe('postgres');
    expect(snapshot.tables.map((t) => t.name)).toEqual([
      `${schema}.customers`,
      `${schema}.moods`,
      `${schema}.orders`,
      `${schema}.profiles`,
    ]);
    const customers = snapshot.tables.find((t) => t.name === `${schema}.customers`);
    expect(customers).toMatchObject({ schema, kind: 'table', primaryKey: ['id'], comment: 'people who buy' });
    expect(customers?.columns.map((c) => [c.name, c.type, c.nullable, c.isPrimaryKey])).toEqual([
      ['id', 'integer', false, true],
      ['email', 'text', false, false],
      ['name', 'text', true, false],
      ['created_at', 'timestamp with time zone', false, false],
    ]);
    expect(customers?.columns.find((c) => c.name === 'created_at')?.defaultValue).toBe('now()');
    expect(customers?.indexes).toEqual(
      expect.arrayContaining([
        { name: 'customers_pkey', columns: ['id'], unique: true, primary: true },
        { name: 'customers_email_key', columns: ['email'], unique: true, primary: false, constraint: true },
      ]),
    );
    const orders = snapshot.tables.find((t) => t.name === `${schema}.orders`);
    expect(orders?.columns.find((c) => c.name === 'total')?.type).toBe('numeric(10,2)');
    expect(orders?.foreignKeys).toEqual([
      {
        name: 'orders_customer_id_fkey',
        columns: ['customer_id'],
        referencedTable: `${schema}.customers`,
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
        expect.objectContaining({
          fromTable: `${schema}.orders`,
          toTable: `${schema}.customers`,
          cardinality: 'many-to-one',
        }),
        expect.objectContaining({
          fromTable: `${schema}.profiles`,
          fromColumns: ['customer_id'],
          toTable: `${schema}.customers`,
          cardinality: 'one-to-one',
        }),
      ]),
    );
  });

  it('uses the same number of catalog queries for 4 tables and for 60', async () => {
    const counted = async (
      schemas: string[],
    ): Promise<{ queries: number; tables: number; reported: number }> => {
      let queries = 0;
      const snapshot = await introspectPostgres(
        async (sql, params) => {
          queries += 1;
          return (await admin.query(sql, params)).rows;
        },
        { schemas },
      );
      return { queries, tables: snapshot.tables.length, reported: snapshot.catalogQueries };
    };
    const small = await counted([schema]);
    const large = await counted([wide]);
    expect(small.tables).toBe(4);
    expect(large.tables).toBe(60);
    expect(large.queries).toBe(small.queries);
    expect(small.reported).toBe(small.queries);
    const viaDriver = await driver.introspect({ schemas: [wide] });
    expect(viaDriver.catalogQueries).toBe(small.queries);
    expect(viaDriver.relationships).toHaveLength(60);
  });

  it('returns column types and kinds; exact numerics and bigints stay strings', async () => {
    const result = await driver.executeRead(
      `SELECT o.id, o.total, o.status, c.created_at, c.created_at::date AS day, true AS flag, '{"a":1}'::jsonb AS doc
       FROM ${schema}.orders o JOIN ${schema}.customers c ON c.id = o.customer_id ORDER BY o.id LIMIT 1`,
      read,
    );
    expect(result.columns).toEqual([
      { name: 'id', type: 'bigint', kind: 'number' },
      { name: 'total', type: 'numeric', kind: 'number' },
      { name: 'status', type: 'text', kind: 'string' },
      { name: 'created_at', type: 'timestamp with time zone', kind: 'datetime' },
      { name: 'day', type: 'date', kind: 'date' },
      { name: 'flag', type: 'boolean', kind: 'boolean' },
      { name: 'doc', type: 'jsonb', kind: 'json' },
    ]);
    const [row] = result.rows;
    expect(row?.slice(0, 3)).toEqual(['1', '1.25', 'paid']);
    expect(row?.[3]).toBeInstanceOf(Date);
    expect(row?.[4]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(row?.slice(5)).toEqual([true, { a: 1 }]);
  });

  it('caps rows at maxRows and flags the truncation', async () => {
    const capped = await driver.executeRead('SELECT g FROM generate_series(1, 50) g', {
      ...read,
      maxRows: 10,
    });
    expect(capped.rowCount).toBe(10);
    expect(capped.rows.map((r) => r[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(capped.truncated).toBe(true);
    const exact = await driver.executeRead('SELECT g FROM generate_series(1, 50) g', {
      ...read,
      maxRows: 50,
    });
    expect(exact.rowCount).toBe(50);
    expect(exact.truncated).toBe(false);
  });

  it('has the database refuse writes smuggled into a read, and changes nothing', async () => {
    const before = await count('orders');
    const cte = await databaseErrorOf(
      driver.executeRead(`WITH d AS (DELETE FROM ${schema}.orders RETURNING *) SELECT count(*) FROM d`, read),
    );
    expect(cte.code).toBe('read_only_violation');
    expect(cte.message).toMatch(/read-only transaction/);
    const batch = await databaseErrorOf(driver.executeRead(`SELECT 1; DELETE FROM ${schema}.orders`, read));
    expect(batch.code).toBe('query_failed');
    expect(batch.message).toMatch(/multiple commands/);
    const plain = await databaseErrorOf(driver.executeRead(`DELETE FROM ${schema}.orders`, read));
    expect(plain.code).toBe('read_only_violation');
    const sideEffect = await databaseErrorOf(driver.executeRead(`SELECT nextval('${schema}.counter')`, read));
    expect(sideEffect.code).toBe('read_only_violation');
    const ddl = await databaseErrorOf(driver.executeRead(`CREATE TABLE ${schema}.sneaky (id int)`, read));
    expect(ddl.code).toBe('read_only_violation');
    expect(await count('orders')).toBe(before);
    const { rows } = await admin.query(`SELECT to_regclass('${schema}.sneaky') AS t`);
    expect(rows[0].t).toBeNull();
  });

  it('stops a statement at its time limit', async () => {
    const error = await databaseErrorOf(
      driver.executeRead('SELECT pg_sleep(5)', { timeoutMs: 200, maxRows: 10 }),
    );
    expect(error.code).toBe('query_timeout');
    // The connection went back to the pool in a usable state.
    await expect(driver.executeRead('SELECT 1 AS one', read)).resolves.toMatchObject({ rows: [[1]] });
  });

  it('cancels a running statement when the signal aborts', async () => {
    const controller = new AbortController();
    const pending = driver.executeRead('SELECT pg_sleep(5)', { ...read, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const error = await databaseErrorOf(pending);
    expect(error.code).toBe('query_failed');
    expect(error.message).toMatch(/cancelled/);
  });

  it('dry-runs a write in a transaction that is rolled back, reporting affected rows', async () => {
    const before = await count('orders');
    const open = Number(
      (await admin.query(`SELECT count(*) AS n FROM ${schema}.orders WHERE status = 'open'`)).rows[0].n,
    );
    const result = await driver.dryRun(
      `UPDATE ${schema}.orders SET status = 'void' WHERE status = 'open'`,
      read,
    );
    expect(result).toMatchObject({ performed: true, affectedRows: open });
    const after = Number(
      (await admin.query(`SELECT count(*) AS n FROM ${schema}.orders WHERE status = 'open'`)).rows[0].n,
    );
    expect(after).toBe(open);
    const ddl = await driver.dryRun(`DROP TABLE ${schema}.profiles`, read);
    expect(ddl.performed).toBe(true);
    expect(await count('profiles')).toBe(1);
    expect(await count('orders')).toBe(before);
  });

  it('refuses to dry-run or execute a batch holding COMMIT (the executor owns the transaction)', async () => {
    const batch = `DELETE FROM ${schema}.orders; COMMIT; SELECT 1`;
    const result = await driver.dryRun(batch, read);
    expect(result).toMatchObject({
      performed: false,
      unrunnable: expect.stringMatching(/Statement 2 \(COMMIT\)/),
    });
    const error = await databaseErrorOf(driver.executeWrite(batch, read));
    expect(error.message).toMatch(/controls the transaction/);
    expect(await count('orders')).toBe(20);
  });

  it('commits an approved write', async () => {
    const result = await driver.executeWrite(`INSERT INTO ${schema}.customers (email) VALUES ('d@x')`, read);
    expect(result).toMatchObject({ atomic: true, affectedRows: 1 });
    expect(await count('customers')).toBe(4);
  });

  it('explains a read with a row estimate', async () => {
    const plan = await driver.explain(`SELECT * FROM ${schema}.orders`, read);
    expect(plan?.plan).toMatch(/Seq Scan|Index/);
    expect(typeof plan?.estimatedRows).toBe('number');
  });

  it('streams a read in batches, the first before the rest, capped at maxRows', async () => {
    const stream = await driver.streamRead('SELECT g, g::text AS label FROM generate_series(1, 2500) g', {
      ...read,
      maxRows: 10_000,
      batchSize: 1000,
    });
    expect(stream.columns.map((c) => c.name)).toEqual(['g', 'label']);
    const batches = await collect(stream.batches);
    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 500]);
    expect(batches[2]?.at(-1)).toEqual([2500, '2500']);
    expect(stream.summary()).toEqual({ rowCount: 2500, truncated: false });

    const capped = await driver.streamRead('SELECT g FROM generate_series(1, 2500) g', {
      ...read,
      maxRows: 1500,
      batchSize: 1000,
    });
    expect((await collect(capped.batches)).map((b) => b.length)).toEqual([1000, 500]);
    expect(capped.summary()).toEqual({ rowCount: 1500, truncated: true });
  });

  it('releases the connection when a stream is abandoned early', async () => {
    const single = await dialectFor('postgres').createDriver(services.postgresUrl, { poolSize: 1 });
    try {
      const stream = await single.streamRead('SELECT g FROM generate_series(1, 100000) g', {
        ...read,
        batchSize: 100,
      });
      for await (const batch of stream.batches) {
        expect(batch).toHaveLength(100);
        break;
      }
      const unread = await single.streamRead('SELECT 1', read);
      await unread.close();
      // A type outside the built-in map is looked up without waiting on the (only) pooled connection.
      const enums = await single.streamRead(`SELECT m FROM ${schema}.moods ORDER BY m`, read);
      expect(enums.columns).toEqual([{ name: 'm', type: `${schema}.mood`, kind: 'string' }]);
      expect(await collect(enums.batches)).toEqual([[['happy'], ['sad']]]);
      // With one pooled connection, this only runs if every stream gave it back.
      await expect(single.executeRead('SELECT 2 AS two', read)).resolves.toMatchObject({ rows: [[2]] });
    } finally {
      await single.close();
    }
  });

  it('fails validate() on a dead port with database_unavailable and no password in the message', async () => {
    const url = `postgres://threadql:Sup3rSecretPw@127.0.0.1:${await deadPort()}/nowhere`;
    const dead = await dialectFor('postgres').createDriver(url, { connectTimeoutMs: 2000 });
    try {
      const error = await databaseErrorOf(dead.validate());
      expect(error.code).toBe('database_unavailable');
      expect(error.message).not.toContain('Sup3rSecretPw');
      expect(error.message).not.toContain(url);
      expect(String((error.cause as Error | undefined)?.stack)).not.toContain('Sup3rSecretPw');
    } finally {
      await dead.close();
    }
  });

  it('reports a missing database as database_unavailable', async () => {
    const url = new URL(services.postgresUrl);
    url.pathname = `/${uniqueName('missing')}`;
    const wrong = await dialectFor('postgres').createDriver(url.toString());
    try {
      const error = await databaseErrorOf(wrong.validate());
      expect(error.code).toBe('database_unavailable');
      expect(error.message).toMatch(/does not exist/);
      if (url.password) expect(error.message).not.toContain(url.password);
    } finally {
      await wrong.close();
    }
  });
});
