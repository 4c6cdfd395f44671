/**
 * The pipeline end to end through the shell adapter: the real Anthropic SDK against the loopback fake
 * Messages API, the real store (MongoDB wire), Redis, SQLite sample database and PostgreSQL.
 */
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import {
  FakeAnthropicServer,
  errorReply,
  toolUseReply,
  clarifyReply,
} from '../fakes/fake-anthropic-server.ts';
import { ShellHarness } from '../support/shell-harness.ts';
import { services } from '../support/services.ts';

const fake = new FakeAnthropicServer({ apiKey: 'sk-test' });
let url: string;

beforeAll(async () => {
  ({ url } = await fake.start());
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

function llmEnv() {
  return { ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: url };
}

interface Entry {
  executionStatus: string;
  generatedSql: string | null;
  resultCount: number | null;
  tokenCount: number;
}

/** The session's history once it has `count` entries (the card is shown before the entry is written). */
async function historyOf(h: ShellHarness, count: number): Promise<Entry[]> {
  const model = h.threadql.store.models.QueryHistory!;
  for (let i = 0; i < 200; i++) {
    const entries = await model.find({}).sort({ sequence: 1 }).lean<Entry[]>();
    if (entries.length >= count) return entries;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`history never reached ${count} entries`);
}

describe('shell on the embedded sample database', () => {
  let h: ShellHarness;
  beforeAll(async () => {
    h = await ShellHarness.start('shell-sample', llmEnv());
  });
  afterAll(() => h.close());

  it('answers a question: confirm card, Run, then table, chart and CSV, all recorded', async () => {
    fake.enqueue(
      toolUseReply(
        'SELECT country, count(*) AS customers FROM customers GROUP BY country ORDER BY customers DESC',
        {
          explanation: 'Counts customers per country.',
          title: 'Customers by country',
        },
      ),
    );
    h.send('how many customers do we have per country?');
    const card = await h.waitFor(/\[1\] Run {2}\[2\] Edit SQL {2}\[3\] Cancel/);
    expect(card).toContain('Counts customers per country.');
    expect(card).toContain('GROUP BY country');
    expect(card).toMatch(/connection sample · read/);

    const request = fake.requests[0]!.body;
    const system = JSON.stringify(request.system);
    expect(system).toContain('customers');
    expect(system).toContain('cache_control');

    h.send('1');
    const result = await h.waitFor(/\[1\] 👍 {2}\[2\] 👎/);
    expect(result).toMatch(/US\s+│\s+\d+/);
    const csv = /📎 (\S+\.csv)/.exec(result)?.[1];
    expect(readFileSync(csv!, 'utf8').split(/\r?\n/)[0]).toBe('country,customers');
    await h.waitFor(/✅ Run by ana · 14 rows/);
    // The chart follows the table in its own message, drawn on the chart worker pool.
    const chart = /🖼 {2}Chart: how many customers do we have per country\?: (\S+\.png)/.exec(
      await h.waitFor(/🖼 .*\.png/),
    )?.[1];
    expect(chart && existsSync(chart)).toBe(true);
    expect(readFileSync(chart!).subarray(1, 4).toString('latin1')).toBe('PNG');

    const history = await historyOf(h, 2);
    expect(history.map((e) => e.executionStatus)).toEqual(['pending', 'success']);
    expect(history[1]).toMatchObject({ resultCount: 14 });
    expect(history[0]!.tokenCount).toBeGreaterThan(0);
  });

  it('refines a follow-up with the earlier turn as context, and repairs a failing query', async () => {
    fake.enqueue(
      toolUseReply(
        "SELECT country, count(*) AS customers FROM customers WHERE contry = 'DE' GROUP BY country",
      ),
      toolUseReply("SELECT plan, count(*) AS customers FROM customers WHERE country = 'DE' GROUP BY plan"),
    );
    h.send('only Germany, split by plan');
    await h.waitFor(/\[1\] Run/);
    const [first, second] = fake.requests.map((r) => JSON.stringify(r.body.messages));
    expect(first).toContain('how many customers do we have per country?');
    expect(second).toMatch(/is_error/);
    expect(second).toMatch(/contry/);
    h.send('3');
    await h.waitFor(/🚫 Cancelled by ana/);
  });

  it('rides out a 529 from the API (the SDK retries) and asks back when the question is unclear', async () => {
    fake.enqueue(errorReply(529), clarifyReply('Do you mean orders placed or orders delivered?'));
    h.send('how many orders last month?');
    await h.waitFor(/🤔 Do you mean orders placed or orders delivered\?/);
    expect(fake.requests.map((r) => r.status)).toEqual([529, 200]);
  });

  it('never runs a write from its card: it gets a dry run and Request approval, and the data stays', async () => {
    fake.enqueue(toolUseReply("UPDATE customers SET plan = 'free' WHERE last_login_at IS NULL"));
    h.send('move inactive customers to the free plan');
    const card = await h.waitFor(/\[1\] Request approval[^\n]*\n/);
    expect(card).toMatch(/connection sample · write · dry run: would change \d+ rows/);
    expect(card).not.toContain('] Run');
    const history = await historyOf(h, 6);
    expect(history[5]).toMatchObject({
      executionStatus: 'skipped',
      generatedSql: expect.stringContaining('UPDATE'),
    });
  });

  it('runs pasted SQL without the LLM, and an edit through the modal makes a new card', async () => {
    const before = fake.requests.length;
    h.send('SELECT count(*) AS n FROM orders');
    await h.waitFor(/\[2\] Edit SQL/);
    h.send('2');
    await h.waitFor(/end with a line holding only "\."/);
    h.send('SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status');
    h.send('.');
    const edited = await h.waitFor(/Edited by ana:[\s\S]*?\[1\] Run/);
    expect(edited).toContain('GROUP BY status');
    h.send('1');
    const result = await h.waitFor(/\[1\] 👍/);
    expect(result).toMatch(/delivered\s+│\s+\d+/);
    expect(fake.requests.length).toBe(before);
  });

  it('turns an LLM authentication failure into a readable reply and records it', async () => {
    fake.enqueue(errorReply(401));
    h.send('what is our revenue by month?');
    const reply = await h.waitFor(/❌[^\n]*\n/);
    expect(reply).toMatch(/❌ .*(key|auth)/i);
    const history = await historyOf(h, 10);
    expect(history[9]).toMatchObject({ executionStatus: 'error' });
  });
});

describe('shell with no LLM configured', () => {
  it('says how to configure one, and still runs pasted SQL', async () => {
    const h = await ShellHarness.start('shell-nollm', { ANTHROPIC_API_KEY: '' });
    try {
      h.send('which products sell best?');
      const reply = await h.waitFor(/ANTHROPIC_API_KEY[^\n]*\n/);
      expect(reply).toContain('Claude is not configured here');
      expect(reply).toContain('paste SQL');
      // A question that starts like SQL is still a question: the words are never run.
      h.send('select the products that sell best');
      expect(await h.waitFor(/ANTHROPIC_API_KEY[^\n]*\n/)).toContain('Claude is not configured here');
      h.send('SELECT count(*) AS n FROM products');
      await h.waitFor(/\[1\] Run/);
      h.send('1');
      await h.waitFor(/\[1\] 👍/);
      h.send('```sql\nSELECT name FROM products ORDER BY price_cents DESC LIMIT 3\n```');
      await h.waitFor(/\[1\] Run/);
      h.send('1');
      expect(await h.waitFor(/\[1\] 👍/)).toContain('Burr Grinder');
    } finally {
      await h.close();
    }
  });
});

describe('shell on a PostgreSQL connection from threadql.yml', () => {
  const schema = `e2e_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: services.postgresUrl });

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`CREATE TABLE ${schema}.teams (id int PRIMARY KEY, name text NOT NULL)`);
    await admin.query(
      `CREATE TABLE ${schema}.players (id int PRIMARY KEY, team_id int REFERENCES ${schema}.teams(id), goals int)`,
    );
    await admin.query(`INSERT INTO ${schema}.teams VALUES (1, 'Reds'), (2, 'Blues')`);
    await admin.query(`INSERT INTO ${schema}.players SELECT g, 1 + g % 2, g FROM generate_series(1, 40) g`);
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });

  it('answers on the configured connection, and the database itself refuses a write smuggled into a read', async () => {
    const yaml = `connections:\n  - name: league\n    type: postgres\n    url: \${LEAGUE_URL}\n`;
    const h = await ShellHarness.start('shell-pg', { ...llmEnv(), LEAGUE_URL: services.postgresUrl }, yaml);
    try {
      fake.enqueue(
        toolUseReply(
          `SELECT t.name, sum(p.goals) AS goals FROM ${schema}.players p JOIN ${schema}.teams t ON t.id = p.team_id GROUP BY t.name ORDER BY t.name`,
        ),
      );
      h.send('goals per team?');
      await h.waitFor(/connection league · read/);
      h.send('1');
      const result = await h.waitFor(/\[1\] 👍/);
      expect(result).toMatch(/Blues\s+│\s+400/);
      expect(result).toMatch(/Reds\s+│\s+420/);

      const { driver } = await h.threadql.connections.resolveByName('league');
      await expect(
        driver.executeRead(
          `WITH gone AS (DELETE FROM ${schema}.players RETURNING *) SELECT count(*) FROM gone`,
          { timeoutMs: 5000, maxRows: 10 },
        ),
      ).rejects.toMatchObject({ code: 'read_only_violation' });
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.players`);
      expect(rows[0].n).toBe(40);
    } finally {
      await h.close();
    }
  });
});
