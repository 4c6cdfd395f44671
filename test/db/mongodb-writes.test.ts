import { MongoClient, type Db } from 'mongodb';
import type { DatabaseDriver } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { DriftError } from '../../core/errors.ts';
import { classifyMongoQuery } from '../../core/safety/classify-mongo-query.ts';
import { parseMongoWrite } from '../../core/safety/mongo-write.ts';
import { isolatedMongoUri } from '../support/services.ts';

const uri = isolatedMongoUri('db-mongo-w');
const limits = { timeoutMs: 10_000 };
const q = (write: object): string => JSON.stringify(write);
let client: MongoClient;
let db: Db;
let driver: DatabaseDriver;

const count = (filter: object = {}): Promise<number> => db.collection('accounts').countDocuments(filter);

beforeAll(async () => {
  client = new MongoClient(uri);
  db = client.db();
  driver = await dialectFor('mongodb').createDriver(uri);
});

beforeEach(async () => {
  await db.collection('accounts').deleteMany({});
  await db.collection('accounts').insertMany(
    Array.from({ length: 30 }, (_, i) => ({
      _id: i + 1,
      status: i < 10 ? 'dormant' : 'active',
      balance: 100,
    })) as never[],
  );
});

afterAll(async () => {
  await driver?.close();
  await db?.dropDatabase();
  await client?.close();
});

describe('MongoDB write shape', () => {
  it('classifies inserts, updates, deletes and bulkWrite as write, in both spellings', () => {
    const writes = [
      { collection: 'a', operation: 'insertOne', document: { x: 1 } },
      { collection: 'a', operation: 'insertMany', documents: [{ x: 1 }, { x: 2 }] },
      { collection: 'a', operation: 'updateOne', filter: { x: 1 }, update: { $set: { y: 2 } } },
      { collection: 'a', operation: 'updateMany', filter: {}, update: { $inc: { y: 1 } } },
      { collection: 'a', operation: 'deleteOne', filter: { x: 1 } },
      { collection: 'a', operation: 'deleteMany', filter: { x: { $gt: 1 } } },
      { collection: 'a', operation: 'bulkWrite', operations: [{ deleteOne: { filter: { x: 1 } } }] },
      { insert: 'a', documents: [{ x: 1 }] },
      { update: 'a', updates: [{ q: { x: 1 }, u: { $set: { y: 1 } }, multi: true }] },
      { delete: 'a', deletes: [{ q: {}, limit: 0 }] },
    ];
    for (const w of writes)
      expect([JSON.stringify(w), classifyMongoQuery(q(w)).verdict]).toEqual([JSON.stringify(w), 'write']);
    expect(parseMongoWrite(q(writes[8]!))).toMatchObject({ operation: 'updateMany' });
    expect(parseMongoWrite(q(writes[9]!))).toMatchObject({ operation: 'deleteMany' });
  });

  it('keeps what a count cannot measure, or what runs JavaScript, out of the write path', () => {
    const replacement = { collection: 'a', operation: 'updateOne', filter: {}, update: { x: 1 } };
    expect(() => parseMongoWrite(q(replacement))).toThrow(/replacement document is not accepted/);
    expect(classifyMongoQuery(q(replacement)).verdict).toBe('other');
    const upsert = {
      collection: 'a',
      operation: 'updateOne',
      filter: {},
      update: { $set: { x: 1 } },
      upsert: true,
    };
    expect(classifyMongoQuery(q(upsert)).verdict).toBe('other');
    const js = { collection: 'a', operation: 'deleteMany', filter: { $where: 'this.x > 1' } };
    expect(classifyMongoQuery(q(js)).verdict).toBe('other');
    expect(classifyMongoQuery(q({ drop: 'a' })).verdict).toBe('other');
  });
});

describe('MongoDB dry run (counted: no transactions on FerretDB)', () => {
  it('counts matching documents, at most one for *One, and the documents to insert', async () => {
    const many = await driver.dryRun(
      q({ collection: 'accounts', operation: 'deleteMany', filter: { status: 'dormant' } }),
      limits,
    );
    expect(many).toMatchObject({
      performed: true,
      affectedRows: 10,
      note: expect.stringMatching(/Counted, not tried/),
    });
    const one = await driver.dryRun(
      q({
        collection: 'accounts',
        operation: 'updateOne',
        filter: { status: 'active' },
        update: { $set: { balance: 1 } },
      }),
      limits,
    );
    expect(one.affectedRows).toBe(1);
    const bulk = await driver.dryRun(
      q({
        collection: 'accounts',
        operation: 'bulkWrite',
        operations: [
          { insertOne: { document: { _id: 100, status: 'new' } } },
          { updateMany: { filter: { balance: 100 }, update: { $set: { balance: 90 } } } },
          { deleteMany: { filter: { status: 'dormant' } } },
        ],
      }),
      limits,
    );
    expect(bulk.statements.map((s) => [s.type, s.affectedRows])).toEqual([
      ['insertOne', 1],
      ['updateMany', 30],
      ['deleteMany', 10],
    ]);
    expect(await count()).toBe(30);
    expect(await count({ balance: 100 })).toBe(30);
  });

  it('refuses a read or a command outside the write shape, plainly', async () => {
    const read = await driver.dryRun(q({ collection: 'accounts', operation: 'find' }), limits);
    expect(read.unrunnable).toMatch(/This is a read/);
    const drop = await driver.dryRun(q({ drop: 'accounts' }), limits);
    expect(drop.unrunnable).toMatch(/does not run this on MongoDB/);
    expect(await count()).toBe(30);
  });
});

describe('MongoDB approved execution', () => {
  it('runs each operation in order and reports what it changed, saying it was not atomic', async () => {
    const text = q({
      collection: 'accounts',
      operation: 'bulkWrite',
      operations: [
        { insertOne: { document: { _id: 100, status: 'dormant', balance: 1 } } },
        { updateMany: { filter: { status: 'dormant' }, update: { $set: { balance: 0 } } } },
      ],
    });
    const dry = await driver.dryRun(text, limits);
    const result = await driver.executeWrite(text, {
      ...limits,
      expected: dry.statements.map((s) => s.affectedRows),
    });
    // The update was pinned to the 10 documents the dry run counted, before the insert ran.
    expect(result.statements.map((s) => s.affectedRows)).toEqual([1, 10]);
    expect(result.atomic).toBe(false);
    expect(result.note).toMatch(/without a transaction/);
    expect(await count({ balance: 0 })).toBe(10);
    expect(await count({ _id: 100, balance: 1 } as never)).toBe(1);
  });

  it('writes nothing when more documents match than the dry run allowed (drift)', async () => {
    const text = q({ collection: 'accounts', operation: 'deleteMany', filter: { status: 'dormant' } });
    const dry = await driver.dryRun(text, limits);
    await db
      .collection('accounts')
      .updateMany({ _id: { $in: [11, 12, 13] } } as never, { $set: { status: 'dormant' } });
    const error = await driver
      .executeWrite(text, { ...limits, expected: [dry.affectedRows], driftTolerance: 0.1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DriftError);
    expect((error as DriftError).detail).toMatchObject({ expected: 10, actual: 13, allowed: 11 });
    expect((error as DriftError).message).toMatch(/It was not run/);
    expect(await count()).toBe(30);
  });

  it('within the tolerance, changes only the documents it pinned', async () => {
    const text = q({
      collection: 'accounts',
      operation: 'updateMany',
      filter: { status: 'dormant' },
      update: { $set: { balance: 5 } },
    });
    await db.collection('accounts').updateOne({ _id: 11 } as never, { $set: { status: 'dormant' } });
    const result = await driver.executeWrite(text, { ...limits, expected: [10], driftTolerance: 0.1 });
    expect(result.affectedRows).toBe(11);
    expect(await count({ balance: 5 })).toBe(11);
  });
});
