/**
 * Governance end to end through Slack: the real Bolt app (HTTP, started by startPlatforms) against the loopback
 * Web API, a real threadql on the sample database with customers.email masked. The masked email never reaches
 * the thread, the CSV, the chart or the model; access by user group is enforced with a private, audited refusal;
 * results go privately (ephemeral message, files by DM, a note in the thread) for `visibility: requester` and for
 * a sensitive connection in a Slack Connect channel, and stay in the thread of a private channel.
 */
import { randomBytes } from 'node:crypto';
import { FakeAnthropicServer, toolUseReply } from '../fakes/fake-anthropic-server.ts';
import type { RecordedCall } from '../fakes/fake-slack-api.ts';
import { SlackHarness } from '../support/slack-harness.ts';
import { expectedCharts, leaked, sampleDatabase, sampleEmails } from './governance-support.ts';

const anthropic = new FakeAnthropicServer({ apiKey: 'sk-governance-slack' });
const run = randomBytes(3).toString('hex');
const SHOP = `shop${run}`;
const TEAM = `team${run}`;
const MINE = `mine${run}`;
const HR = `hr${run}`;
let h: SlackHarness;
let path: string;
let emails: string[];

beforeAll(async () => {
  const { url } = await anthropic.start();
  path = await sampleDatabase('gov-slack');
  emails = sampleEmails(path);
  const connection = (name: string, extra: string[]) => [
    `  - name: ${name}`,
    '    type: sqlite',
    `    url: ${path}`,
    '    maskedColumns: [customers.email]',
    ...extra.map((line) => `    ${line}`),
  ];
  const yaml = [
    'connections:',
    ...connection(SHOP, ['default: true']),
    ...connection(TEAM, ['access: {slack: [S0ANALYSTS]}']),
    ...connection(MINE, ['visibility: requester']),
    ...connection(HR, ['visibility: auto', 'sensitive: true']),
    'admins:',
    '  slack: [U0ADMIN]',
    '',
  ].join('\n');
  h = await SlackHarness.start('gov-slack', {
    env: { ANTHROPIC_API_KEY: 'sk-governance-slack', ANTHROPIC_BASE_URL: url },
    yaml,
  });
  h.fake.setUser('U0ALICE', { display_name: 'Alice' });
  h.fake.setUserGroup('S0ANALYSTS', ['U0CAROL']);
});

afterAll(async () => {
  await h?.close();
  await anthropic.close();
});

const text = (call: RecordedCall | undefined) =>
  JSON.stringify(call?.args.blocks ?? []) + String(call?.args.text ?? '');

function buttons(call: RecordedCall | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const block of (call?.args.blocks ?? []) as { type: string; elements?: Record<string, unknown>[] }[]) {
    if (block.type === 'actions')
      for (const el of block.elements ?? []) out[String(el.action_id)] = String(el.value);
  }
  return out;
}

/** Starts a thread on `connection` (`use`), asks, and clicks Run; returns the thread and the calls it caused. */
async function askAndRun(options: {
  connection: string;
  question: string;
  sql: string;
  title?: string;
  user?: string;
}) {
  const user = options.user ?? 'U0ALICE';
  const root = h.mention(`use ${options.connection}`, { user });
  const threadTs = String(root.ts);
  await h.event(root);
  await h.settle();
  const before = h.fake.calls.length;
  anthropic.enqueue(
    toolUseReply(options.sql, { explanation: 'Answers it.', title: options.title ?? options.question }),
  );
  await h.event(h.threadReply(options.question, threadTs, user));
  await h.settle();
  const progress = h.postsIn(threadTs).at(-1)!;
  const cardTs = h.tsOf(progress);
  const token = buttons(h.updatesOf(cardTs).at(-1))['threadql:run'];
  if (!token) throw new Error(`no Run button: ${text(h.updatesOf(cardTs).at(-1))}`);
  await h.click({ messageTs: cardTs, threadTs, actionId: 'threadql:run', value: token, user });
  await h.settle();
  return { threadTs, calls: h.fake.calls.slice(before) };
}

/** Everything a run showed: message blocks and texts, and the files uploaded (CSV text; PNGs as bytes). */
function shownBy(calls: RecordedCall[], uploadsBefore: number) {
  const messages = calls
    .filter((c) => ['chat.postMessage', 'chat.update', 'chat.postEphemeral'].includes(c.method))
    .map(text)
    .join('\n');
  const files = h.fake.uploads.slice(uploadsBefore);
  const csv = files
    .filter((f) => f.filename.endsWith('.csv'))
    .map((f) => f.data.toString('utf8'))
    .join('\n');
  return { messages, csv, pngs: files.filter((f) => f.filename.endsWith('.png')).map((f) => f.data) };
}

describe('masking through Slack', () => {
  it('shows no raw email in the thread, the CSV, the chart or the requests to the model', async () => {
    const uploads = h.fake.uploads.length;
    const sql =
      'SELECT c.email, count(*) AS orders FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.email ORDER BY orders DESC, c.email LIMIT 8';
    const { calls } = await askAndRun({
      connection: SHOP,
      question: 'who orders most?',
      sql,
      title: 'Top buyers',
    });
    const shown = shownBy(calls, uploads);
    expect(shown.messages).toContain('•••');
    expect(shown.messages).toContain('By policy: email masked');
    expect(shown.csv.split('\r\n')[0]).toBe('email,orders');
    expect(leaked(shown.messages + shown.csv, emails)).toEqual([]);
    const charts = await expectedCharts(path, sql, 'Top buyers');
    expect(shown.pngs).toHaveLength(1);
    expect(shown.pngs[0]!.equals(charts.masked)).toBe(true);
    expect(shown.pngs[0]!.equals(charts.raw)).toBe(false);
  });

  it('masks SELECT * and an alias the same way', async () => {
    for (const sql of [
      'SELECT * FROM customers ORDER BY id LIMIT 5',
      'SELECT email AS contact FROM customers LIMIT 5',
    ]) {
      const uploads = h.fake.uploads.length;
      const { calls } = await askAndRun({ connection: SHOP, question: 'customers and contacts', sql });
      const shown = shownBy(calls, uploads);
      expect(shown.csv).toContain('•••');
      expect(leaked(shown.messages + shown.csv, emails)).toEqual([]);
    }
  });

  it('sent the model the column marked MASKED and never a value of it', () => {
    const bodies = anthropic.requests.map((r) => JSON.stringify(r.body));
    expect(bodies.length).toBeGreaterThanOrEqual(3);
    expect(bodies.every((b) => b.includes('email TEXT MASKED'))).toBe(true);
    expect(leaked(bodies.join('\n'), emails)).toEqual([]);
  });
});

describe('who may query what, on Slack', () => {
  it('refuses someone outside the user group privately, audits it, and lets a member of the group in', async () => {
    const root = h.mention(`use ${TEAM}`, { user: 'U0BOB' });
    await h.event(root);
    await h.settle();
    const [refusal] = h.ephemeralsIn(String(root.ts));
    expect(refusal?.args.user).toBe('U0BOB');
    expect(text(refusal)).toContain(`You may not query *${TEAM}*`);
    expect(text(refusal)).toContain(
      'your Slack user id `U0BOB` or a user group you are in to `access.slack`',
    );
    expect(h.postsIn(String(root.ts))).toEqual([]);
    const audit = await h.threadql.store.models
      .AuditEvent!.find({ action: 'access.refused' })
      .lean<{ actor: string; outcome: string }[]>();
    expect(audit).toEqual([expect.objectContaining({ actor: 'slack:T0FAKE:U0BOB', outcome: 'denied' })]);

    const { threadTs } = await askAndRun({
      connection: TEAM,
      question: 'how many customers?',
      sql: 'SELECT count(*) AS n FROM customers',
      user: 'U0CAROL',
    });
    expect(h.postsIn(threadTs).map(text).join('\n')).toMatch(/\b\d{3,}\b/);
  });

  it('shows `access` to an admin privately, and refuses it to anyone else in a channel', async () => {
    const asked = h.mention(`access ${HR}`, { user: 'U0ADMIN' });
    await h.event(asked);
    await h.settle();
    const [view] = h.ephemeralsIn(String(asked.ts));
    expect(view?.args.user).toBe('U0ADMIN');
    expect(text(view)).toContain(
      'Results: privately to the person who asked when the channel is public or shared',
    );
    const other = h.mention('access', { user: 'U0BOB' });
    await h.event(other);
    await h.settle();
    expect(text(h.ephemeralsIn(String(other.ts))[0])).toContain(
      '`access` answers in a direct message with me',
    );
  });
});

describe('answers sized to the audience, on Slack', () => {
  it('visibility requester: an ephemeral answer, the files by DM, a note in the thread, nothing else in the channel', async () => {
    const uploads = h.fake.uploads.length;
    const { threadTs, calls } = await askAndRun({
      connection: MINE,
      question: 'customers per country',
      sql: 'SELECT country, count(*) AS customers FROM customers GROUP BY country ORDER BY customers DESC',
    });
    const ephemeral = calls.find(
      (c) => c.method === 'chat.postEphemeral' && text(c).includes('customers per country'),
    );
    expect(ephemeral?.args).toMatchObject({ user: 'U0ALICE', thread_ts: threadTs });
    const dm = calls.filter((c) => c.method === 'files.completeUploadExternal');
    expect(dm.map((c) => c.args.channel_id)).toEqual(['D0ALICE', 'D0ALICE']);
    expect(
      h.fake.uploads
        .slice(uploads)
        .map((u) => u.filename.split('.').pop())
        .sort(),
    ).toEqual(['csv', 'png']);
    const thread = h.postsIn(threadTs).map(text).join('\n');
    expect(thread).toContain('📬 Sent the result to Alice privately');
    // The table went to Alice alone: no table block, no code-block table, no row of it in the channel's thread.
    expect(text(ephemeral)).toContain('US');
    expect(thread).not.toContain('"type":"table"');
    expect(thread).not.toContain('```');
    expect(thread).not.toContain('US');
  });

  it('auto + sensitive: private in a Slack Connect channel, in the thread of a private channel', async () => {
    h.fake.setChannel(h.channel, { name: 'partners', is_ext_shared: true });
    const shared = await askAndRun({
      connection: HR,
      question: 'plans in use',
      sql: 'SELECT plan, count(*) AS n FROM customers GROUP BY plan ORDER BY plan',
    });
    expect(h.postsIn(shared.threadTs).map(text).join('\n')).toContain(
      'privately: *' + HR + '* is sensitive and this channel is shared with another organisation',
    );
    expect(
      shared.calls.some((c) => c.method === 'chat.postEphemeral' && text(c).includes('enterprise')),
    ).toBe(true);
    expect(h.postsIn(shared.threadTs).map(text).join('\n')).not.toContain('enterprise');

    h.fake.setChannel(h.channel, { name: 'hr-team', is_private: true });
    const inside = await askAndRun({
      connection: HR,
      question: 'plans in use',
      sql: 'SELECT plan, count(*) AS n FROM customers GROUP BY plan ORDER BY plan',
    });
    expect(h.postsIn(inside.threadTs).map(text).join('\n')).toContain('enterprise');
    expect(inside.calls.some((c) => c.method === 'chat.postEphemeral')).toBe(false);
  });
});
