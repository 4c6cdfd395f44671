/**
 * Governance end to end in the shell: threadql.yml masks customers.email on the sample database and restricts a
 * second connection. Questions whose answers include the email (directly, aliased, through `SELECT *`, as a chart
 * dimension) show no raw email in the terminal, the CSV, the chart or any request sent to the model; a user not on
 * an access list is refused privately and audited; `access` shows the policy.
 */
import { readFileSync } from 'node:fs';
import { FakeAnthropicServer, toolUseReply } from '../fakes/fake-anthropic-server.ts';
import { randomBytes } from 'node:crypto';
import { ShellHarness } from '../support/shell-harness.ts';
import { expectedCharts, leaked, sampleDatabase, sampleEmails } from './governance-support.ts';

const anthropic = new FakeAnthropicServer({ apiKey: 'sk-governance-shell' });
// Connection names key the schema cache in the shared Redis: unique per run, so no other test's schema is read.
const run = randomBytes(3).toString('hex');
const SHOP = `shop${run}`;
const PAYROLL = `payroll${run}`;
let h: ShellHarness;
let emails: string[];
let path: string;

beforeAll(async () => {
  const { url } = await anthropic.start();
  path = await sampleDatabase('gov-shell');
  emails = sampleEmails(path);
  const yaml = [
    'connections:',
    `  - name: ${SHOP}`,
    '    type: sqlite',
    `    url: ${path}`,
    '    default: true',
    '    maskedColumns: [customers.email]',
    `  - name: ${PAYROLL}`,
    '    type: sqlite',
    `    url: ${path}`,
    '    access: {shell: [boss]}',
    '',
  ].join('\n');
  h = await ShellHarness.start(
    'gov-shell',
    { ANTHROPIC_API_KEY: 'sk-governance-shell', ANTHROPIC_BASE_URL: url },
    yaml,
  );
});

afterAll(async () => {
  await h?.close();
  await anthropic.close();
});

/** Asks, runs, and returns what the shell printed for the result and the CSV it saved. */
async function askAndRun(
  question: string,
  sql: string,
  title = question,
): Promise<{ shown: string; csv: string }> {
  anthropic.enqueue(toolUseReply(sql, { explanation: 'Answers the question.', title }));
  h.send(question);
  await h.waitFor(/\[1\] Run {2}\[2\] Edit SQL {2}\[3\] Cancel/);
  h.send('1');
  const shown = await h.waitFor(/\[1\] 👍 {2}\[2\] 👎/);
  const file = /📎 (\S+\.csv)/.exec(shown)?.[1];
  if (!file) throw new Error(`no CSV in:\n${shown}`);
  return { shown, csv: readFileSync(file, 'utf8') };
}

describe('masked columns in the shell', () => {
  it('masks a masked column selected directly, and says so under the result', async () => {
    const { shown, csv } = await askAndRun(
      'the first five customers with their email',
      'SELECT id, name, email FROM customers ORDER BY id LIMIT 5',
    );
    expect(emails.length).toBeGreaterThan(100);
    expect(leaked(shown, emails)).toEqual([]);
    expect(leaked(csv, emails)).toEqual([]);
    expect(csv.split('\r\n')[1]).toMatch(/^1,[^,]+,•••$/);
    expect(shown).toContain('🔒 By policy: email masked');
  });

  it('masks it through an alias and through SELECT *', async () => {
    for (const sql of [
      'SELECT email AS contact, country FROM customers ORDER BY id LIMIT 5',
      'SELECT * FROM customers ORDER BY id LIMIT 5',
    ]) {
      const { shown, csv } = await askAndRun('customers and how to reach them', sql);
      expect(leaked(shown + csv, emails)).toEqual([]);
      expect(csv).toContain('•••');
    }
  });

  it('draws a masked dimension under placeholders: the chart posted is the masked one, not the raw one', async () => {
    const sql =
      'SELECT c.email, count(*) AS orders FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.email ORDER BY orders DESC, c.email LIMIT 8';
    const title = 'Top buyers by orders';
    await askAndRun('who orders most?', sql, title);
    const file = /🖼 {2}Chart: who orders most\?: (\S+\.png)/.exec(await h.waitFor(/🖼 .*\.png/))?.[1];
    const posted = readFileSync(file!);
    const expected = await expectedCharts(path, sql, title);
    expect(posted.equals(expected.masked)).toBe(true);
    expect(posted.equals(expected.raw)).toBe(false);
  });

  it('sends the model the masked column marked, and no value of it', () => {
    const bodies = anthropic.requests.map((r) => JSON.stringify(r.body));
    expect(bodies.length).toBeGreaterThanOrEqual(4);
    expect(bodies.every((b) => b.includes('email TEXT MASKED'))).toBe(true);
    expect(leaked(bodies.join('\n'), emails)).toEqual([]);
  });
});

describe('who may query what, in the shell', () => {
  it('refuses a connection the local user is not listed for, privately, and audits it', async () => {
    h.send(`use ${PAYROLL}`);
    // The shell prints plain text: no mrkdwn stars or backticks.
    const refusal = await h.waitFor(/threadql \(only you\)> You may not query payroll\w+:[^\n]*\n[^\n]*\n/);
    expect(refusal).toContain(
      `Ask a threadql admin to add your name ana to access.shell of the connection ${PAYROLL}`,
    );
    const audit = h.threadql.store.models.AuditEvent!;
    let refused: { outcome: string; actor: string; detail: Record<string, unknown> }[] = [];
    for (let i = 0; i < 100 && refused.length === 0; i++) {
      refused = await audit.find({ action: 'access.refused' }).lean();
      if (!refused.length) await new Promise((r) => setTimeout(r, 20));
    }
    expect(refused).toEqual([
      expect.objectContaining({
        outcome: 'denied',
        actor: 'shell:local:ana',
        detail: { connection: PAYROLL, user: 'shell:local:ana', reason: 'not_listed' },
      }),
    ]);
  });

  it('shows the policy with `access` (the shell is a direct conversation)', async () => {
    h.send('access');
    const view = await h.waitFor(/payroll\w+ \(sqlite\)[\s\S]*?Scheduled reports: [^\n]*\n/);
    expect(view).toContain(`${SHOP} (sqlite)`);
    expect(view).toContain('• Masked: customers.email (values shown as •••)');
    expect(view).toContain('• Who may ask: only those listed (users, groups, roles): shell: boss');
  });
});
