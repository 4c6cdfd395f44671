/**
 * The governed driver on a real PostgreSQL server: reads and streamed reads come back masked, the error of a
 * statement that reads a masked column is withheld (PostgreSQL quotes the offending value), and everything
 * without row values passes through, schema sessions included.
 */
import pg from 'pg';
import type { DatabaseDriver } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { toUserMessage } from '../../core/errors.ts';
import { governedDriver } from '../../core/governance/governed-driver.ts';
import { ResultMasker } from '../../core/governance/result-masker.ts';
import { collect, uniqueName } from '../db/db-test-helpers.ts';
import { services } from '../support/services.ts';

const schemaName = uniqueName('govdrv');
const read = { timeoutMs: 10_000, maxRows: 100 };
let admin: pg.Client;
let inner: DatabaseDriver;
let driver: DatabaseDriver;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: services.postgresUrl });
  await admin.connect();
  await admin.query(`
    CREATE SCHEMA ${schemaName};
    CREATE TABLE ${schemaName}.people (id int PRIMARY KEY, email text, team text);
    INSERT INTO ${schemaName}.people VALUES (1, 'ann@corp.example', 'red'), (2, 'bob@corp.example', 'blue');
  `);
  const url = new URL(services.postgresUrl);
  url.searchParams.set('options', `-c search_path=${schemaName}`);
  inner = await dialectFor('postgres').createDriver(url.toString(), { poolSize: 2 });
  const schema = await inner.introspect({ schemas: [schemaName] });
  const masker = new ResultMasker(
    [{ name: 'crm', type: 'postgres', maskedColumns: [{ column: 'people.email', mode: 'redact' }] }],
    { hashKey: 'governed-driver-test-key' },
  );
  driver = governedDriver(inner, { connection: 'crm', masker, schema: async () => schema });
});

afterAll(async () => {
  await inner?.close();
  await admin?.query(`DROP SCHEMA IF EXISTS ${schemaName} CASCADE`);
  await admin?.end();
});

it('masks reads and says what it masked, with the data a chart may draw', async () => {
  const result = await driver.executeRead('SELECT id, email AS contact, team FROM people ORDER BY id', read);
  expect(result.rows).toEqual([
    [1, '•••', 'red'],
    [2, '•••', 'blue'],
  ]);
  expect(result.masking?.columns).toEqual([
    { column: 'contact', mode: 'redact', sources: [`${schemaName}.people.email`] },
  ]);
  expect(result.masking?.chart.rows.map((r) => r[1])).toEqual(['••• 1', '••• 2']);
  const unmasked = await driver.executeRead(
    'SELECT team, count(*) AS n FROM people GROUP BY team ORDER BY team',
    read,
  );
  expect(unmasked.masking).toBeUndefined();
});

it('masks streamed reads batch by batch', async () => {
  const stream = await driver.streamRead('SELECT * FROM people ORDER BY id', { ...read, batchSize: 1 });
  expect(stream.columns.map((c) => c.name)).toEqual(['id', 'email', 'team']);
  expect((await collect(stream.batches)).flat()).toEqual([
    [1, '•••', 'red'],
    [2, '•••', 'blue'],
  ]);
});

it("withholds the engine's message when a statement that reads a masked column fails", async () => {
  const raw = await inner.executeRead('SELECT email::int FROM people', read).catch((e: unknown) => e);
  expect(toUserMessage(raw)).toContain('ann@corp.example');
  const governed = await driver.executeRead('SELECT email::int FROM people', read).catch((e: unknown) => e);
  expect(toUserMessage(governed)).not.toContain('@corp.example');
  expect(toUserMessage(governed)).toContain('Its message is withheld');
  // A failing statement that reads no masked column keeps its message.
  const other = await driver.executeRead('SELECT team::int FROM people', read).catch((e: unknown) => e);
  expect(toUserMessage(other)).toContain('red');
});

it('passes through what shows no row values: EXPLAIN, introspection, schema sessions', async () => {
  expect((await driver.explain('SELECT email FROM people', read))?.plan).toBeTruthy();
  expect((await driver.introspect({ schemas: [schemaName] })).tables).toHaveLength(1);
  expect(driver.schemaSession).toBeDefined();
  const columns = await driver.schemaSession!(
    { commit: false, timeoutMs: 5000, lockTimeoutMs: 1000 },
    async (session) =>
      (await session.introspect()).tables.find((t) => t.name.endsWith('people'))?.columns.length,
  );
  expect(columns).toBe(3);
});
