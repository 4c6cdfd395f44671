import { MongoClient, type Db } from 'mongodb';
import type { DatabaseDriver } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { isolatedMongoUri } from '../support/services.ts';
import { collect, databaseErrorOf, deadPort } from './db-test-helpers.ts';

const uri = isolatedMongoUri('db-mongo');
const read = { timeoutMs: 10_000, maxRows: 1000 };
const q = (query: object): string => JSON.stringify(query);
let client: MongoClient;
let db: Db;
let driver: DatabaseDriver;

beforeAll(async () => {
  client = new MongoClient(uri);
  db = client.db();
  const customers = await db.collection('customers').insertMany([
    { name: 'Ann', email: 'a@x', country: 'DE' },
    { name: 'Bob', country: 'FR' },
    { name: 'Cid', email: null, country: 'DE' },
  ]);
  const ids = Object.values(customers.insertedIds);
  await db.collection('orders').insertMany(
    Array.from({ length: 30 }, (_, i) => ({
      customerId: ids[i % 3],
      total: i + 0.5,
      status: i % 2 === 0 ? 'open' : 'paid',
      placedAt: new Date(Date.UTC(2024, 0, 1 + i)),
      shipping: { city: i % 2 === 0 ? 'Berlin' : 'Paris' },
    })),
  );
  await db.collection('orders').createIndex({ customerId: 1 });
  await db.collection('orders').createIndex({ status: 1, placedAt: -1 }, { name: 'status_placed' });
  await db
    .collection('big')
    .insertMany(Array.from({ length: 20_000 }, (_, i) => ({ i, s: `${'x'.repeat(40)}${i}` })));
  driver = await dialectFor('mongodb').createDriver(uri);
});

afterAll(async () => {
  await driver?.close();
  await db?.dropDatabase();
  await client?.close();
});

describe('MongoDB driver', () => {
  it('validates a live connection', async () => {
    await expect(driver.validate()).resolves.toBeUndefined();
  });

  it('introspects collections with fields inferred by sampling, indexes and inferred relationships', async () => {
    const snapshot = await driver.introspect();
    expect(snapshot.databaseType).toBe('mongodb');
    expect(snapshot.tables.map((t) => [t.name, t.kind])).toEqual([
      ['big', 'collection'],
      ['customers', 'collection'],
      ['orders', 'collection'],
    ]);
    const customers = snapshot.tables.find((t) => t.name === 'customers');
    expect(customers?.primaryKey).toEqual(['_id']);
    expect(customers?.columns.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['_id', 'objectId', false],
      ['name', 'string', false],
      ['email', 'string | null', true],
      ['country', 'string', false],
    ]);
    const orders = snapshot.tables.find((t) => t.name === 'orders');
    expect(orders?.columns.map((c) => [c.name, c.type])).toEqual([
      ['_id', 'objectId'],
      ['customerId', 'objectId'],
      ['total', 'double'],
      ['status', 'string'],
      ['placedAt', 'date'],
      ['shipping', 'object'],
      ['shipping.city', 'string'],
    ]);
    expect(orders?.indexes).toEqual(
      expect.arrayContaining([
        { name: '_id_', columns: ['_id'], unique: true, primary: true },
        { name: 'customerId_1', columns: ['customerId'], unique: false, primary: false },
        { name: 'status_placed', columns: ['status', 'placedAt'], unique: false, primary: false },
      ]),
    );
    expect(snapshot.relationships).toEqual([
      {
        name: 'orders.customerId',
        fromTable: 'orders',
        fromColumns: ['customerId'],
        toTable: 'customers',
        toColumns: ['_id'],
        cardinality: 'many-to-one',
      },
    ]);
    // One listCollections, then one sample and one listIndexes per collection.
    expect(snapshot.catalogQueries).toBe(1 + 2 * 3);
  });

  it('runs find with filter, sort, projection and a row cap with the truncation flag', async () => {
    const result = await driver.executeRead(
      q({
        collection: 'orders',
        operation: 'find',
        filter: { status: 'open' },
        sort: { total: 1 },
        projection: { _id: 0, total: 1, placedAt: 1, shipping: 1 },
      }),
      { ...read, maxRows: 4 },
    );
    expect(result.columns).toEqual([
      { name: 'total', type: 'double', kind: 'number' },
      { name: 'placedAt', type: 'date', kind: 'datetime' },
      { name: 'shipping', type: 'object', kind: 'json' },
    ]);
    expect(result.rows.map((r) => r[0])).toEqual([0.5, 2.5, 4.5, 6.5]);
    expect(result.rows[0]?.[1]).toEqual(new Date(Date.UTC(2024, 0, 1)));
    expect(result.rows[0]?.[2]).toEqual({ city: 'Berlin' });
    expect(result).toMatchObject({ rowCount: 4, truncated: true });
    const all = await driver.executeRead(
      q({ collection: 'orders', operation: 'find', filter: { status: 'open' } }),
      read,
    );
    expect(all).toMatchObject({ rowCount: 15, truncated: false });
    expect(typeof all.rows[0]?.[0]).toBe('string');
  });

  it('runs aggregate, count and distinct', async () => {
    const grouped = await driver.executeRead(
      q({
        collection: 'orders',
        operation: 'aggregate',
        pipeline: [{ $group: { _id: '$status', n: { $sum: 1 } } }, { $sort: { _id: 1 } }],
      }),
      read,
    );
    expect(grouped.rows).toEqual([
      ['open', 15],
      ['paid', 15],
    ]);
    const counted = await driver.executeRead(
      q({ collection: 'customers', operation: 'count', filter: { country: 'DE' } }),
      read,
    );
    expect(counted.rows).toEqual([[2]]);
    const countries = await driver.executeRead(
      q({ collection: 'customers', operation: 'distinct', field: 'country' }),
      read,
    );
    expect(countries.rows).toEqual([['DE'], ['FR']]);
    const capped = await driver.executeRead(
      q({ collection: 'orders', operation: 'distinct', field: 'total' }),
      {
        ...read,
        maxRows: 5,
      },
    );
    expect(capped).toMatchObject({ rowCount: 5, truncated: true });
  });

  it('refuses $out and $merge (also nested) before anything reaches the server', async () => {
    const out = await databaseErrorOf(
      driver.executeRead(
        q({ collection: 'orders', operation: 'aggregate', pipeline: [{ $out: 'stolen' }] }),
        read,
      ),
    );
    expect(out.code).toBe('read_only_violation');
    expect(out.message).toMatch(/\$out/);
    const nested = await databaseErrorOf(
      driver.executeRead(
        q({
          collection: 'orders',
          operation: 'aggregate',
          pipeline: [{ $facet: { a: [{ $merge: { into: 'stolen' } }] } }],
        }),
        read,
      ),
    );
    expect(nested.code).toBe('read_only_violation');
    const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    expect(names).not.toContain('stolen');
    const write = await databaseErrorOf(driver.executeRead(q({ insert: 'orders', documents: [{}] }), read));
    expect(write.code).toBe('read_only_violation');
    expect(await db.collection('orders').countDocuments()).toBe(30);
  });

  it('fails a malformed query as query_failed', async () => {
    const error = await databaseErrorOf(driver.executeRead('{"collection": "orders", "operation": ', read));
    expect(error.code).toBe('query_failed');
  });

  it('stops a query at its time limit (maxTimeMS)', async () => {
    const error = await databaseErrorOf(
      driver.executeRead(q({ collection: 'big', operation: 'find', filter: { s: { $regex: 'y$' } } }), {
        timeoutMs: 1,
        maxRows: 10,
      }),
    );
    expect(error.code).toBe('query_timeout');
  });

  it('does not dry-run a command outside the write shape, and says why', async () => {
    const result = await driver.dryRun('{"update": "orders"}', read);
    expect(result.performed).toBe(false);
    expect(result.unrunnable).toMatch(/does not run this on MongoDB/);
  });

  it('streams a find in batches, capped at maxRows', async () => {
    const stream = await driver.streamRead(q({ collection: 'big', operation: 'find', sort: { i: 1 } }), {
      ...read,
      maxRows: 2500,
      batchSize: 1000,
    });
    expect(stream.columns.map((c) => c.name)).toEqual(['_id', 'i', 's']);
    const batches = await collect(stream.batches);
    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 500]);
    expect(batches[2]?.at(-1)?.[1]).toBe(2499);
    expect(stream.summary()).toEqual({ rowCount: 2500, truncated: true });
    const whole = await driver.streamRead(q({ collection: 'orders', operation: 'find' }), {
      ...read,
      batchSize: 8,
    });
    expect((await collect(whole.batches)).map((b) => b.length)).toEqual([8, 8, 8, 6]);
    expect(whole.summary()).toEqual({ rowCount: 30, truncated: false });
  });

  it('fails validate() on a dead port with database_unavailable and no password in the message', async () => {
    const url = `mongodb://threadql:Sup3rSecretPw@127.0.0.1:${await deadPort()}/nowhere`;
    const dead = await dialectFor('mongodb').createDriver(url, { connectTimeoutMs: 1000 });
    try {
      const error = await databaseErrorOf(dead.validate());
      expect(error.code).toBe('database_unavailable');
      expect(error.message).not.toContain('Sup3rSecretPw');
      expect(error.message).not.toContain(url);
    } finally {
      await dead.close();
    }
  });
});
