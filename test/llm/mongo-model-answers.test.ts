/**
 * A model answer for a MongoDB connection, across the seam: the real Anthropic SDK against the loopback fake
 * (scripted run_query calls in each tool form), the SqlGenerator, the MongoDB dialect's classifier, and the real
 * MongoDB driver on FerretDB holding the sample shop. Expectations come from the same rows in the SQLite original.
 */
import { MongoClient } from 'mongodb';
import type { DatabaseDriver, SchemaSnapshot } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { AnthropicLlmClient } from '../../core/llm/anthropic-llm-client.ts';
import { SqlGenerator, type CandidateValidator } from '../../core/llm/sql-generator.ts';
import { parseMongoQuery } from '../../core/safety/mongo-query.ts';
import { databaseErrorOf } from '../db/db-test-helpers.ts';
import { FakeAnthropicServer, mongoToolUseReply } from '../fakes/fake-anthropic-server.ts';
import { loadSampleShopIntoMongo, type SampleShopInMongo } from '../support/sample-shop-mongo.ts';
import { isolatedMongoUri } from '../support/services.ts';

const dialect = dialectFor('mongodb');
const uri = isolatedMongoUri('mongo-answers');
const fake = new FakeAnthropicServer({ apiKey: 'sk-ant-mongo' });
const read = { timeoutMs: 20_000, maxRows: 1000 };
let shop: SampleShopInMongo;
let driver: DatabaseDriver;
let schema: SchemaSnapshot;

beforeAll(async () => {
  await fake.start();
  shop = await loadSampleShopIntoMongo(uri);
  driver = await dialect.createDriver(uri);
  schema = await driver.introspect();
}, 120_000);

afterAll(async () => {
  await fake.close();
  await driver?.close();
  const client = new MongoClient(uri);
  await client.db().dropDatabase();
  await client.close();
  await shop?.close();
});

beforeEach(() => fake.reset());

/** What the conversation engine does with a candidate: text the dialect cannot parse goes back to the model. */
const validate: CandidateValidator = async (query) => {
  const verdict = await dialect.classify(query);
  return verdict.statements.some((s) => s.unparsed) ? verdict.reasons.join('; ') : undefined;
};

/** Asks one question with the scripted model answer; returns the query text, its verdict and (for reads) the rows. */
async function answer(question: string) {
  const client = new AnthropicLlmClient({
    apiKey: 'sk-ant-mongo',
    baseURL: fake.url,
    model: 'claude-sonnet-5-5',
    maxRetries: 0,
  });
  const result = await new SqlGenerator(client).generate(
    { question, schema, dialectName: 'MongoDB', queryLanguage: 'mongo' },
    validate,
  );
  if (result.kind !== 'query') throw new Error(`expected a query, got ${result.kind}`);
  const verdict = await dialect.classify(result.query);
  return { query: result.query, verdict, attempts: result.attempts };
}

const sql = <T>(text: string, ...params: unknown[]): T[] => shop.sqlite.prepare(text).all(...params) as T[];
/** The one number a COUNT query over the SQLite original returns. */
const countOf = (text: string): number => sql<{ n: number }>(text)[0]!.n;

describe('model answers run on the MongoDB dialect (FerretDB, sample shop)', () => {
  test('the sample shop is loaded', () => {
    expect(shop.counts.orders).toBeGreaterThan(1000);
    expect(schema.tables.map((t) => t.name)).toEqual(['customers', 'orders', 'products']);
  });

  test('an aggregation pipeline', async () => {
    fake.enqueue(
      mongoToolUseReply({
        collection: 'orders',
        operation: 'aggregate',
        pipeline: [
          { $match: { status: 'delivered' } },
          { $group: { _id: '$shipping_country', revenue_cents: { $sum: '$total_cents' } } },
          { $sort: { revenue_cents: -1, _id: 1 } },
        ],
      }),
    );
    const { query, verdict } = await answer('revenue of delivered orders per country');
    expect(verdict.verdict).toBe('read');
    const result = await driver.executeRead(query, read);
    const expected = sql<{ c: string; r: number }>(
      `SELECT shipping_country AS c, sum(total_cents) AS r FROM orders WHERE status = 'delivered'
       GROUP BY 1 ORDER BY 2 DESC, 1`,
    );
    expect(result.columns.map((c) => c.name)).toEqual(['_id', 'revenue_cents']);
    expect(result.rows).toEqual(expected.map((e) => [e.c, e.r]));
  });

  test('a find with filter (an Extended JSON date), projection, sort and limit', async () => {
    const since = sql<{ since: string }>(
      `SELECT signed_up_at AS since FROM customers ORDER BY signed_up_at DESC LIMIT 1 OFFSET 200`,
    )[0]!.since;
    fake.enqueue(
      mongoToolUseReply({
        collection: 'customers',
        operation: 'find',
        filter: { plan: 'enterprise', signed_up_at: { $gte: { $date: since } } },
        projection: { _id: 0, name: 1, country: 1 },
        sort: { signed_up_at: -1 },
        limit: 5,
      }),
    );
    const { query, verdict } = await answer('the five newest enterprise customers');
    expect(verdict.verdict).toBe('read');
    expect(parseMongoQuery(query).filter).toEqual({
      plan: 'enterprise',
      signed_up_at: { $gte: new Date(since) },
    });
    const result = await driver.executeRead(query, read);
    const expected = sql<{ name: string; country: string }>(
      `SELECT name, country FROM customers WHERE plan = 'enterprise' AND signed_up_at >= ?
       ORDER BY signed_up_at DESC LIMIT 5`,
      since,
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(result.columns.map((c) => c.name)).toEqual(['name', 'country']);
    expect(result.rows).toEqual(expected.map((e) => [e.name, e.country]));
  });

  test('a count', async () => {
    fake.enqueue(
      mongoToolUseReply({ collection: 'orders', operation: 'count', filter: { status: 'refunded' } }),
    );
    const { query, verdict } = await answer('how many orders were refunded?');
    expect(verdict.verdict).toBe('read');
    const result = await driver.executeRead(query, read);
    const n = countOf(`SELECT count(*) AS n FROM orders WHERE status = 'refunded'`);
    expect(result.rows).toEqual([[n]]);
  });

  test('a distinct', async () => {
    fake.enqueue(
      mongoToolUseReply({
        collection: 'products',
        operation: 'distinct',
        field: 'category',
        filter: { active: 1 },
      }),
    );
    const { query, verdict } = await answer('which product categories are on sale?');
    expect(verdict.verdict).toBe('read');
    const result = await driver.executeRead(query, read);
    const expected = sql<{ category: string }>(
      `SELECT DISTINCT category FROM products WHERE active = 1 ORDER BY category`,
    );
    expect(result.rows).toEqual(expected.map((e) => [e.category]));
  });

  test('the database-command form', async () => {
    fake.enqueue(
      mongoToolUseReply({
        command: {
          aggregate: 'customers',
          pipeline: [{ $group: { _id: '$plan', customers: { $sum: 1 } } }, { $sort: { _id: 1 } }],
          cursor: {},
        },
      }),
      mongoToolUseReply({ command: { count: 'customers', query: { country: 'JP' } } }),
    );
    const plans = await answer('customers per plan');
    expect(plans.verdict.verdict).toBe('read');
    expect(parseMongoQuery(plans.query)).toMatchObject({ collection: 'customers', operation: 'aggregate' });
    const perPlan = await driver.executeRead(plans.query, read);
    const expected = sql<{ plan: string; n: number }>(
      `SELECT plan, count(*) AS n FROM customers GROUP BY plan ORDER BY plan`,
    );
    expect(perPlan.rows).toEqual(expected.map((e) => [e.plan, e.n]));

    const japan = await answer('how many customers are in Japan?');
    const count = await driver.executeRead(japan.query, read);
    const n = countOf(`SELECT count(*) AS n FROM customers WHERE country = 'JP'`);
    expect(count.rows).toEqual([[n]]);
  });

  test('a shape error is repaired by the model, then runs', async () => {
    fake.enqueue(
      mongoToolUseReply({
        collection: 'orders',
        pipeline: [{ $match: { status: 'pending' } }, { $count: 'n' }],
      }),
      mongoToolUseReply({
        collection: 'orders',
        operation: 'aggregate',
        pipeline: [{ $match: { status: 'pending' } }, { $count: 'n' }],
      }),
    );
    const { query, attempts } = await answer('how many orders are pending?');
    expect(attempts).toBe(2);
    const result = await driver.executeRead(query, read);
    const n = countOf(`SELECT count(*) AS n FROM orders WHERE status = 'pending'`);
    expect(result.rows).toEqual(n > 0 ? [[n]] : []);
  });

  test('a pipeline with $out is classified a write and the driver refuses it: nothing is written', async () => {
    fake.enqueue(
      mongoToolUseReply({
        collection: 'customers',
        operation: 'aggregate',
        pipeline: [{ $match: {} }, { $out: 'customers_copy' }],
      }),
    );
    const { query, verdict } = await answer('copy the customers somewhere');
    expect(verdict.verdict).toBe('write');
    expect(verdict.reasons.join(' ')).toMatch(/\$out writes/);
    const error = await databaseErrorOf(driver.executeRead(query, read));
    expect(error.code).toBe('read_only_violation');
    const client = new MongoClient(uri);
    try {
      const names = (await client.db().listCollections().toArray()).map((c) => c.name);
      expect(names).not.toContain('customers_copy');
    } finally {
      await client.close();
    }
  });
});
