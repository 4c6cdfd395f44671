/**
 * Issue 15 end to end through the shell adapter, with a scripted model (the real Anthropic SDK against the
 * loopback fake): questions on a MongoDB connection (FerretDB holding the sample shop) run and return the rows the
 * data holds, a $out pipeline never runs; on MariaDB, PostgreSQL and SQLite, questions that start with SQL words
 * reach the model, while pasted statements are offered without it, and a message that could be either asks.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MongoClient } from 'mongodb';
import mysql from 'mysql2/promise';
import pg from 'pg';
import {
  FakeAnthropicServer,
  mongoToolUseReply,
  toolUseReply,
  type MessageReply,
} from '../fakes/fake-anthropic-server.ts';
import { loadSampleShopIntoMongo, type SampleShopInMongo } from '../support/sample-shop-mongo.ts';
import { isolatedMongoUri, services } from '../support/services.ts';
import { ShellHarness } from '../support/shell-harness.ts';

const fake = new FakeAnthropicServer({ apiKey: 'sk-intent' });
let url: string;

beforeAll(async () => {
  ({ url } = await fake.start());
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

const llmEnv = () => ({ ANTHROPIC_API_KEY: 'sk-intent', ANTHROPIC_BASE_URL: url });

/** The question text the model received last (the generator adds the date after it). */
function lastQuestion(): string {
  const messages = fake.requests.at(-1)?.body.messages ?? [];
  const content = messages.at(-1)?.content;
  return typeof content === 'string' ? content.split('\n\n(Today is')[0]! : '';
}

/** The rows of the CSV a result message attached (header first). */
function csvRows(result: string): string[][] {
  const path = /📎 (\S+\.csv)/.exec(result)?.[1];
  if (!path) throw new Error(`no CSV in:\n${result}`);
  return readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter(Boolean)
    .map((line) => line.split(','));
}

/** Sends a question answered by `reply`, runs the card, and returns the result's CSV rows. */
async function askAndRun(h: ShellHarness, question: string, reply: MessageReply): Promise<string[][]> {
  fake.enqueue(reply);
  h.send(question);
  await h.waitFor(/\[1\] Run {2}\[2\] Edit SQL/);
  expect(lastQuestion()).toBe(question);
  h.send('1');
  return csvRows(await h.waitFor(/\[1\] 👍/));
}

describe('shell on a MongoDB connection (FerretDB, the sample shop)', () => {
  const uri = isolatedMongoUri('shell-intent');
  let shop: SampleShopInMongo;
  let h: ShellHarness;
  const sql = <T>(text: string): T[] => shop.sqlite.prepare(text).all() as T[];

  beforeAll(async () => {
    shop = await loadSampleShopIntoMongo(uri);
    const yaml = 'connections:\n  - name: shopdocs\n    type: mongodb\n    url: ${SHOP_DOCS_URL}\n';
    h = await ShellHarness.start('shell-mongo', { ...llmEnv(), SHOP_DOCS_URL: uri }, yaml);
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    const client = new MongoClient(uri);
    await client.db().dropDatabase();
    await client.close();
    await shop?.close();
  });

  it('answers with a pipeline', async () => {
    const rows = await askAndRun(
      h,
      'revenue of delivered orders per country',
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
    const expected = sql<{ c: string; r: number }>(
      `SELECT shipping_country AS c, sum(total_cents) AS r FROM orders WHERE status = 'delivered'
       GROUP BY 1 ORDER BY 2 DESC, 1`,
    );
    expect(rows).toEqual([['_id', 'revenue_cents'], ...expected.map((e) => [e.c, String(e.r)])]);
  });

  it('answers with a find (filter, projection, sort, limit)', async () => {
    const rows = await askAndRun(
      h,
      'show me the 8 most expensive active products',
      mongoToolUseReply({
        collection: 'products',
        operation: 'find',
        filter: { active: 1 },
        projection: { _id: 0, name: 1, price_cents: 1 },
        sort: { price_cents: -1, name: 1 },
        limit: 8,
      }),
    );
    const expected = sql<{ name: string; price_cents: number }>(
      'SELECT name, price_cents FROM products WHERE active = 1 ORDER BY price_cents DESC, name LIMIT 8',
    );
    expect(rows).toEqual([['name', 'price_cents'], ...expected.map((e) => [e.name, String(e.price_cents)])]);
  });

  it('answers with a count and with a distinct', async () => {
    const count = await askAndRun(
      h,
      'select the number of customers on the pro plan',
      mongoToolUseReply({ collection: 'customers', operation: 'count', filter: { plan: 'pro' } }),
    );
    const [{ n }] = sql<{ n: number }>(`SELECT count(*) AS n FROM customers WHERE plan = 'pro'`) as [
      { n: number },
    ];
    expect(count).toEqual([['count'], [String(n)]]);

    const distinct = await askAndRun(
      h,
      'which countries do we ship to?',
      mongoToolUseReply({ command: { distinct: 'orders', key: 'shipping_country' } }),
    );
    const countries = sql<{ c: string }>('SELECT DISTINCT shipping_country AS c FROM orders ORDER BY 1');
    expect(distinct).toEqual([['shipping_country'], ...countries.map((e) => [e.c])]);
  });

  it('never runs a $out pipeline: it is classified a write and nothing is written', async () => {
    fake.enqueue(
      mongoToolUseReply({
        collection: 'customers',
        operation: 'aggregate',
        pipeline: [{ $match: {} }, { $out: 'customers_copy' }],
      }),
    );
    h.send('copy all customers into a backup');
    // A write card that offers no approval: $out is a write threadql does not run.
    const card = await h.waitFor(/connection shopdocs · write[\s\S]*?\[1\] Edit SQL {2}\[2\] Cancel\n/);
    expect(card).toContain('uses $out, which writes the pipeline’s result into a collection');
    expect(card).not.toContain('Request approval');
    expect(card).not.toContain('] Run');
    const client = new MongoClient(uri);
    try {
      const names = (await client.db().listCollections().toArray()).map((c) => c.name);
      expect(names).not.toContain('customers_copy');
    } finally {
      await client.close();
    }
  });

  it('runs a pasted query without the model, and says what is wrong with a malformed one', async () => {
    const before = fake.requests.length;
    h.send('{"collection": "orders", "operation": "count", "filter": {"status": "refunded"}}');
    await h.waitFor(/\[1\] Run/);
    h.send('1');
    const rows = csvRows(await h.waitFor(/\[1\] 👍/));
    const [{ n }] = sql<{ n: number }>(`SELECT count(*) AS n FROM orders WHERE status = 'refunded'`) as [
      { n: number },
    ];
    expect(rows).toEqual([['count'], [String(n)]]);
    h.send('{"collection": "orders", "filter": {"status": "refunded"}}');
    const reply = await h.waitFor(/❌[\s\S]*?Accepted shapes[^\n]*\n/);
    expect(reply).toContain('operation must be one of find, aggregate, count, distinct');
    expect(fake.requests.length).toBe(before);
  });
});

/** One SQL connection under test: how to start threadql on it, and its own statements. */
interface SqlTarget {
  name: string;
  start(): Promise<ShellHarness>;
  stop(): Promise<void>;
  /** A valid query the scripted model answers with. */
  modelSql: string;
  /** Statements pasted bare, each offered without the model; `expect` is text the result shows. */
  pasted: { sql: string; expect: RegExp }[];
  /** A statement with a misspelt column (`nme`): it parses, so it is ambiguous. */
  typo: string;
}

const suffix = randomBytes(4).toString('hex');
const SHOP_DDL = [
  'CREATE TABLE customers (id int PRIMARY KEY, name varchar(40) NOT NULL, country varchar(2) NOT NULL)',
  'CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, status varchar(12) NOT NULL, total_cents int NOT NULL)',
  "INSERT INTO customers VALUES (1, 'Ann', 'DE'), (2, 'Bob', 'FR'), (3, 'Cid', 'DE')",
  "INSERT INTO orders VALUES (1, 1, 'paid', 1200), (2, 1, 'shipped', 800), (3, 2, 'paid', 500)",
];

const mariadb = (() => {
  const database = `tq_intent_${suffix}`;
  let admin: mysql.Connection | undefined;
  const target: SqlTarget = {
    name: 'MariaDB',
    async start() {
      admin = await mysql.createConnection({ uri: services.mysqlUrl });
      await admin.query(`CREATE DATABASE \`${database}\``);
      await admin.query(`USE \`${database}\``);
      for (const statement of SHOP_DDL) await admin.query(statement);
      const dbUrl = new URL(services.mysqlUrl);
      dbUrl.pathname = `/${database}`;
      const yaml = 'connections:\n  - name: shop\n    type: mysql\n    url: ${SHOP_URL}\n';
      return ShellHarness.start('intent-maria', { ...llmEnv(), SHOP_URL: dbUrl.toString() }, yaml);
    },
    async stop() {
      await admin?.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await admin?.end();
    },
    modelSql: 'SELECT name FROM customers ORDER BY name',
    typo: 'SELECT nme FROM customers;',
    pasted: [
      { sql: 'SHOW TABLES', expect: /customers[\s\S]*orders/ },
      { sql: 'SHOW CREATE TABLE customers', expect: /CREATE TABLE `customers`/ },
      { sql: 'SELECT count(*) AS n FROM orders', expect: /^\s*3$/m },
    ],
  };
  return target;
})();

const postgres = (() => {
  const schema = `intent_${suffix}`;
  const admin = new pg.Client({ connectionString: services.postgresUrl });
  const target: SqlTarget = {
    name: 'PostgreSQL',
    async start() {
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.query(`SET search_path TO ${schema}`);
      for (const statement of SHOP_DDL) await admin.query(statement);
      const yaml = 'connections:\n  - name: shop\n    type: postgres\n    url: ${SHOP_URL}\n';
      return ShellHarness.start('intent-pg', { ...llmEnv(), SHOP_URL: services.postgresUrl }, yaml);
    },
    async stop() {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    },
    modelSql: `SELECT name FROM ${schema}.customers ORDER BY name`,
    typo: `SELECT nme FROM ${schema}.customers;`,
    pasted: [
      { sql: 'SHOW statement_timeout', expect: /statement_timeout/ },
      { sql: `SELECT count(*) AS n FROM ${schema}.orders`, expect: /^\s*3$/m },
    ],
  };
  return target;
})();

const sqlite: SqlTarget = {
  name: 'SQLite (the embedded sample)',
  start: () => ShellHarness.start('intent-sqlite', llmEnv()),
  stop: async () => {},
  modelSql: 'SELECT name FROM customers ORDER BY name LIMIT 3',
  typo: 'SELECT nme FROM customers;',
  pasted: [
    { sql: 'PRAGMA table_info(customers)', expect: /signed_up_at/ },
    { sql: "SELECT count(*) AS n FROM orders WHERE status = 'delivered'", expect: /^\s*\d+$/m },
  ],
};

const QUESTIONS = [
  'show me the top 5 customers by total spend',
  'Show the customers with the most orders',
  'describe how orders are spread across statuses',
  'explain which customers order the most',
  'select the customers who ordered twice',
  'update me on orders this week',
  'create a summary of orders per status',
];

describe.each([mariadb, postgres, sqlite])('shell on $name', (target) => {
  let h: ShellHarness;
  beforeAll(async () => {
    h = await target.start();
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await target.stop();
  });

  it('questions that start with SQL words reach the model as questions', async () => {
    for (const question of QUESTIONS) {
      fake.enqueue(toolUseReply(target.modelSql, { explanation: 'Lists the customers.' }));
      const before = fake.requests.length;
      h.send(question);
      await h.waitFor(/Lists the customers\.[\s\S]*?\[3\] Cancel/);
      expect(fake.requests.length).toBe(before + 1);
      expect(lastQuestion()).toBe(question);
      h.send('3');
      await h.waitFor(/🚫 Cancelled/);
    }
  });

  it('pasted statements are offered to run without the model', async () => {
    const before = fake.requests.length;
    for (const { sql, expect: shows } of target.pasted) {
      h.send(sql);
      const card = await h.waitFor(/Your query:[\s\S]*?\[1\] Run/);
      expect(card).toContain(sql);
      h.send('1');
      expect(await h.waitFor(/\[1\] 👍/)).toMatch(shows);
    }
    expect(fake.requests.length).toBe(before);
  });

  it('a message that could be either asks, and "Ask as a question" sends it to the model', async () => {
    fake.enqueue(toolUseReply(target.modelSql, { explanation: 'Lists the customers.' }));
    h.send('SELECT * FROM sales');
    const card = await h.waitFor(/\[1\] Run as SQL {2}\[2\] Ask as a question/);
    expect(card).toContain('"sales" is not in the schema');
    const before = fake.requests.length;
    h.send('2');
    await h.waitFor(/💬 Asked as a question \(chosen by ana\)/);
    await h.waitFor(/Lists the customers\.[\s\S]*?\[3\] Cancel/);
    expect(fake.requests.length).toBe(before + 1);
    expect(lastQuestion()).toBe('SELECT * FROM sales');
    h.send('3');
    await h.waitFor(/🚫 Cancelled/);
  });

  it('"Run as SQL" offers the statement as written', async () => {
    const before = fake.requests.length;
    h.send(target.typo);
    expect(await h.waitFor(/\[1\] Run as SQL/)).toContain('"nme" is not in the schema');
    h.send('1');
    await h.waitFor(/▶️ Run as SQL \(chosen by ana\)/);
    const card = await h.waitFor(/Your query:[\s\S]*?\[1\] Run/);
    expect(card).toContain(target.typo);
    h.send('1');
    // The database has the last word: the misspelt column is its error, in the thread.
    expect(await h.waitFor(/❌[^\n]*\n/)).toMatch(/nme/);
    expect(fake.requests.length).toBe(before);
  });
});
