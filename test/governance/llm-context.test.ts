/**
 * What Claude sees of a masked column: the column, marked MASKED, and the rule about it; never a value. Checked
 * on the request the real Anthropic SDK sends to the loopback Messages API, with the schema of the embedded
 * sample database (SQLite) introspected for real.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DatabaseDriver, SchemaSnapshot } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { ResultMasker } from '../../core/governance/result-masker.ts';
import { AnthropicLlmClient } from '../../core/llm/anthropic-llm-client.ts';
import { SqlGenerator } from '../../core/llm/sql-generator.ts';
import { ensureSampleDatabase } from '../../core/sample/sample-database.ts';
import { FakeAnthropicServer, toolUseReply } from '../fakes/fake-anthropic-server.ts';

const fake = new FakeAnthropicServer({ apiKey: 'sk-ant-governance' });
const dir = mkdtempSync(path.join(tmpdir(), 'tq-gov-llm-'));
let driver: DatabaseDriver;
let schema: SchemaSnapshot;
let emails: string[];

const masker = new ResultMasker(
  [
    {
      name: 'sample',
      type: 'sqlite',
      maskedColumns: [
        { column: 'customers.email', mode: 'redact' },
        { column: 'customers.name', mode: 'hide' },
      ],
    },
  ],
  { hashKey: 'governance-llm-test-key' },
);

beforeAll(async () => {
  await fake.start();
  driver = await dialectFor('sqlite').createDriver(await ensureSampleDatabase(path.join(dir, 'shop.db')));
  schema = await driver.introspect();
  const all = await driver.executeRead('SELECT email, name FROM customers', {
    timeoutMs: 10_000,
    maxRows: 100_000,
  });
  emails = all.rows.flatMap((r) => [String(r[0]), String(r[1])]);
});

afterAll(async () => {
  await fake.close();
  await driver?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('shows masked columns marked, explains them, and sends none of their values', async () => {
  const generator = new SqlGenerator(
    new AnthropicLlmClient({
      apiKey: 'sk-ant-governance',
      baseURL: fake.url,
      model: 'claude-test',
      maxRetries: 0,
    }),
    { clock: () => new Date('2026-03-02T10:00:00Z') },
  );
  fake.enqueue(toolUseReply('SELECT country, count(*) AS customers FROM customers GROUP BY country'));
  const answer = await generator.generate(
    {
      question: 'how many customers per country, and what are their emails?',
      schema: masker.schemaForModel('sample', schema),
      dialectName: 'SQLite 3',
      queryLanguage: 'sql',
      connectionName: 'sample',
      history: [
        {
          question: 'list customers',
          sql: 'SELECT id, email FROM customers LIMIT 5',
          status: 'success',
          resultCount: 5,
        },
      ],
    },
    async () => undefined,
  );
  expect(answer.kind).toBe('query');
  const body = fake.requests[0]!.body;
  const system = JSON.stringify(body.system);
  expect(system).toMatch(/customers\(id INTEGER PK, name TEXT MASKED, email TEXT MASKED, country TEXT/);
  expect(system).toContain('Columns marked MASKED are masked by policy');
  // Unmasked columns carry no marker.
  expect(system).not.toMatch(/country TEXT MASKED/);
  const whole = JSON.stringify(body);
  expect(emails.length).toBeGreaterThan(100);
  expect(emails.filter((value) => whole.includes(value))).toEqual([]);
});

it('leaves the schema alone for a connection without masked columns', () => {
  expect(masker.schemaForModel('other', schema)).toBe(schema);
  expect(JSON.stringify(schema)).not.toContain('"masked"');
});
