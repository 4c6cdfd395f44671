/**
 * Masking on MongoDB: finds and pipelines run on the real MongoDB-wire server (FerretDB in the suite, which
 * implements only part of the aggregation language), traced from the query document; pipeline constructs
 * FerretDB does not run are traced against the introspected schema alone.
 */
import { MongoClient, type Db } from 'mongodb';
import type { DatabaseDriver, SchemaSnapshot } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { isolatedMongoUri } from '../support/services.ts';
import { columnValues, CUSTOMERS, leaks, ORDERS, show, shopMasker } from './masking-scenarios.ts';

const uri = isolatedMongoUri('gov-mongo');
const masker = shopMasker('mongodb');
let client: MongoClient;
let db: Db;
let driver: DatabaseDriver;
let schema: SchemaSnapshot;

const q = (query: object): string => JSON.stringify(query);
const run = (query: object) => show(driver, masker, schema, q(query));

beforeAll(async () => {
  client = new MongoClient(uri);
  db = client.db();
  await db.collection<{ _id: number }>('customers').insertMany(
    CUSTOMERS.map((c) => ({
      _id: c.id,
      name: c.name,
      email: c.email,
      ...(c.phone ? { phone: c.phone } : {}),
      country: c.country,
      salary: Number(c.salary),
    })),
  );
  await db
    .collection<{ _id: number }>('orders')
    .insertMany(ORDERS.map(([customerId, total], i) => ({ _id: i + 1, customerId, total: Number(total) })));
  driver = await dialectFor('mongodb').createDriver(uri);
  schema = await driver.introspect();
});

afterAll(async () => {
  await driver?.close();
  await db?.dropDatabase();
  await client?.close();
});

describe('masking on MongoDB', () => {
  it('masks every masked field of whole documents (find without projection) and drops the hidden one', async () => {
    const shown = await run({ collection: 'customers', operation: 'find', filter: {}, sort: { _id: 1 } });
    expect(shown.masked.result.columns.map((c) => c.name)).toEqual([
      '_id',
      'name',
      'email',
      'country',
      'salary',
    ]);
    expect(columnValues(shown.masked.result, 'email')).toEqual(['•••', '•••', '•••', null]);
    expect(columnValues(shown.masked.result, 'country')).toEqual(['DE', 'US', 'US', 'GB']);
    expect(leaks(shown)).toEqual([]);
  });

  it('masks a projected field and keeps the others', async () => {
    const shown = await run({
      collection: 'customers',
      operation: 'find',
      filter: { country: 'US' },
      projection: { email: 1, country: 1, _id: 0 },
      sort: { _id: 1 },
    });
    expect(shown.masked.result.rows).toEqual([
      ['•••', 'US'],
      ['•••', 'US'],
    ]);
    expect(leaks(shown)).toEqual([]);
  });

  it('masks an expression over a masked field', async () => {
    const shown = await run({
      collection: 'customers',
      operation: 'aggregate',
      pipeline: [{ $project: { kind: { $type: '$email' } } }],
    });
    expect(columnValues(shown.masked.result, 'kind')).toEqual(['•••', '•••', '•••', '•••']);
  });

  it('leaves counts readable and charts a masked group key under placeholders', async () => {
    const counted = await run({
      collection: 'customers',
      operation: 'aggregate',
      pipeline: [{ $group: { _id: '$country', people: { $sum: 1 } } }, { $sort: { _id: 1 } }],
    });
    expect(counted.masked.masked).toEqual([]);
    expect(counted.masked.result.rows).toEqual([
      ['DE', 1],
      ['GB', 1],
      ['US', 2],
    ]);
    const byEmail = await run({
      collection: 'orders',
      operation: 'aggregate',
      pipeline: [{ $group: { _id: '$customerId', n: { $count: {} } } }, { $sort: { n: 1 } }],
    });
    expect(byEmail.masked.masked).toEqual([]);
    const grouped = await run({
      collection: 'customers',
      operation: 'aggregate',
      pipeline: [{ $match: { email: { $ne: null } } }, { $group: { _id: '$email', n: { $count: {} } } }],
    });
    expect(columnValues(grouped.masked.result, '_id')).toEqual(['•••', '•••', '•••']);
    expect(grouped.chart).toContain('••• 1');
    expect(leaks(grouped)).toEqual([]);
  });

  it('does not chart a masked measure', async () => {
    const shown = await run({
      collection: 'customers',
      operation: 'aggregate',
      pipeline: [{ $group: { _id: '$country', pay: { $sum: '$salary' } } }, { $sort: { _id: 1 } }],
    });
    expect(columnValues(shown.masked.result, 'pay')).toEqual(['•••', '•••', '•••']);
    expect(shown.chart).toBe('');
    expect(leaks(shown)).toEqual([]);
  });

  it('masks distinct values of a masked field, and not a count filtered on it', async () => {
    const distinct = await run({ collection: 'customers', operation: 'distinct', field: 'email' });
    expect(distinct.masked.result.rows.flat().every((v) => v === '•••' || v === null)).toBe(true);
    expect(leaks(distinct)).toEqual([]);
    const count = await run({
      collection: 'customers',
      operation: 'count',
      filter: { email: { $ne: null } },
    });
    expect(count.masked.result.rows).toEqual([[3]]);
  });

  it('follows aliases, $concat, $addFields and $lookup, and masks what follows an untraced stage', async () => {
    const lineage = async (pipeline: object[]) => {
      const plan = await masker.plan(
        'shop',
        q({ collection: 'customers', operation: 'aggregate', pipeline }),
        schema,
      );
      return (names: string[]) => plan.decide(names.map((name) => ({ name }))).map((d) => d?.mode);
    };
    expect((await lineage([{ $project: { e: '$email', country: 1 } }]))(['_id', 'e', 'country'])).toEqual([
      undefined,
      'redact',
      undefined,
    ]);
    expect((await lineage([{ $project: { who: { $concat: ['$country', '$email'] } } }]))(['who'])).toEqual([
      'redact',
    ]);
    expect((await lineage([{ $addFields: { tel: '$phone' } }]))(['tel', 'country', 'name'])).toEqual([
      'hide',
      undefined,
      'hash',
    ]);
    expect(
      (await lineage([{ $lookup: { from: 'customers', localField: '_id', foreignField: '_id', as: 'me' } }]))(
        ['me'],
      ),
    ).toEqual(['hide']);
    expect((await lineage([{ $replaceRoot: { newRoot: { x: '$country' } } }]))(['x'])).toEqual([undefined]);
    expect(
      (await lineage([{ $match: { email: /corp/ } }, { $replaceRoot: { newRoot: { x: '$country' } } }]))([
        'x',
      ]),
    ).toEqual(['redact']);
  });
});
