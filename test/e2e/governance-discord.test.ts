/**
 * Governance end to end through Discord: the real discord.js client (started by startPlatforms) against the
 * loopback REST API and gateway, a real threadql on the sample database with customers.email masked. The masked
 * email never reaches the thread, the files, the chart or the model; access by role is enforced with a private,
 * audited refusal; a sensitive connection's results go to the asker as an ephemeral answer to their Run click
 * (files included) while the channel is one everyone can read, and stay in the thread once it is private.
 */
import { randomBytes } from 'node:crypto';
import { FakeAnthropicServer, toolUseReply } from '../fakes/fake-anthropic-server.ts';
import { snowflake, type FakeUser, type RestCall } from '../fakes/fake-discord.ts';
import { DiscordHarness } from '../support/discord-harness.ts';
import { expectedCharts, leaked, sampleDatabase, sampleEmails } from './governance-support.ts';

const anthropic = new FakeAnthropicServer({ apiKey: 'sk-governance-discord' });
const run = randomBytes(3).toString('hex');
const SHOP = `shop${run}`;
const TEAM = `team${run}`;
const HR = `hr${run}`;
const ANALYSTS = snowflake();
let h: DiscordHarness;
let path: string;
let emails: string[];

beforeAll(async () => {
  const { url } = await anthropic.start();
  path = await sampleDatabase('gov-discord');
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
    ...connection(TEAM, [`access: {discord: ["${ANALYSTS}"]}`]),
    ...connection(HR, ['visibility: auto', 'sensitive: true']),
    '',
  ].join('\n');
  h = await DiscordHarness.start('gov-discord', {
    env: { ANTHROPIC_API_KEY: 'sk-governance-discord', ANTHROPIC_BASE_URL: url },
    yaml,
    // The guild's `analysts` role, which threadql.yml lets query the team connection.
    fake: { memberRoleId: ANALYSTS },
  });
});

afterAll(async () => {
  await h?.close();
  await anthropic.close();
});

const textOf = (call: RestCall) =>
  JSON.stringify([call.body?.content ?? '', call.body?.embeds ?? [], call.body?.data ?? {}]);

/** `user` mentions the bot (with roles) and waits until threadql has handled it; returns the thread id. */
async function mention(text: string, user: FakeUser, roles: string[] = []): Promise<string> {
  const before = h.fake.calls.length;
  const root = h.fake.userMessage({ author: user, content: text, mentionBot: true, roles });
  await h.until(
    () => h.fake.calls.slice(before).some((c) => c.method === 'POST' && /\/messages$/.test(c.path)),
    `an answer to "${text}"`,
  );
  return root.id as string;
}

/** A private text channel in the guild (@everyone may not view it; the threadql role may), known to the client. */
async function privateChannel(name: string): Promise<string> {
  const id = h.fake.addChannel(name, [
    { id: h.fake.guildId, type: 0, allow: '0', deny: String(1n << 10n) },
    { id: h.fake.botRoleId, type: 0, allow: String(1n << 10n), deny: '0' },
  ]);
  while (!h.discord.client.channels.cache.has(id)) await new Promise((r) => setImmediate(r));
  return id;
}

/** In a thread on `connection`: asks, clicks Run, and returns the REST calls the run caused and the click. */
async function askAndRun(
  connection: string,
  question: string,
  sql: string,
  title = question,
  channelId = h.fake.channelId,
) {
  const root = h.fake.userMessage({
    author: h.alice,
    content: `use ${connection}`,
    mentionBot: true,
    channelId,
  });
  const thread = root.id as string;
  await h.until(() => h.botMessagesIn(thread).length > 0, `an answer to "use ${connection}"`);
  anthropic.enqueue(toolUseReply(sql, { explanation: 'Answers it.', title }));
  await h.say(thread, question);
  await h.until(() => h.botMessagesIn(thread).some((m) => h.buttonsOf(m).run), 'the card');
  const card = h.botMessagesIn(thread).find((m) => h.buttonsOf(m).run)!;
  const before = h.fake.calls.length;
  const click = await h.click(card.id as string, 'run');
  await h.until(
    () => h.editsOf(card.id as string).some((e) => textOf(e).includes('Run by')),
    'the settled card',
  );
  return { thread, click, calls: h.fake.calls.slice(before) };
}

describe('masking through Discord', () => {
  it('shows no raw email in the thread, the CSV, the chart or the requests to the model', async () => {
    const sql =
      'SELECT c.email, count(*) AS orders FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.email ORDER BY orders DESC, c.email LIMIT 8';
    const { calls } = await askAndRun(SHOP, 'who orders most?', sql, 'Top buyers');
    const files = calls.flatMap((c) => c.files);
    const csv = files
      .filter((f) => f.filename.endsWith('.csv'))
      .map((f) => f.data.toString('utf8'))
      .join('\n');
    const pngs = files.filter((f) => f.filename.endsWith('.png')).map((f) => f.data);
    const messages = calls.map(textOf).join('\n');
    expect(messages).toContain('•••');
    expect(csv.split('\r\n')[0]).toBe('email,orders');
    expect(leaked(messages + csv, emails)).toEqual([]);
    const charts = await expectedCharts(path, sql, 'Top buyers');
    expect(pngs).toHaveLength(1);
    expect(pngs[0]!.equals(charts.masked)).toBe(true);
    expect(pngs[0]!.equals(charts.raw)).toBe(false);

    const star = await askAndRun(SHOP, 'the first customers', 'SELECT * FROM customers ORDER BY id LIMIT 5');
    expect(leaked(star.calls.map(textOf).join('\n'), emails)).toEqual([]);
    const bodies = anthropic.requests.map((r) => JSON.stringify(r.body));
    expect(bodies.every((b) => b.includes('email TEXT MASKED'))).toBe(true);
    expect(leaked(bodies.join('\n'), emails)).toEqual([]);
  });
});

describe('who may query what, on Discord', () => {
  it('refuses a member without the role privately (a DM, no interaction to answer), audits it, and lets the role in', async () => {
    const thread = await mention(`use ${TEAM}`, h.alice);
    const dm = [...h.fake.channels.values()].find(
      (c) => c.type === 1 && c.recipients?.[0]?.id === h.alice.id,
    );
    const sent = h.fake
      .callsTo('POST', new RegExp(`^/channels/${dm?.id}/messages$`))
      .map(textOf)
      .join('\n');
    expect(sent).toContain(`You may not query **${TEAM}**`);
    expect(sent).toContain(
      `your Discord user id \`${h.alice.id}\` or one of your roles to \`access.discord\``,
    );
    expect(h.botMessagesIn(thread)).toEqual([]);
    const audit = await h.threadql.store.models
      .AuditEvent!.find({ action: 'access.refused' })
      .lean<{ actor: string; outcome: string }[]>();
    expect(audit).toEqual([
      expect.objectContaining({ actor: `discord:${h.fake.guildId}:${h.alice.id}`, outcome: 'denied' }),
    ]);

    const analyst = h.fake.user('analyst');
    const allowed = await mention(`use ${TEAM}`, analyst, [ANALYSTS]);
    expect(h.botMessagesIn(allowed).map((m) => String(m.content))).toEqual([
      `This thread now uses **${TEAM}**.`,
    ]);
  });
});

describe('answers sized to the audience, on Discord', () => {
  it('auto + sensitive in a channel everyone can read: an ephemeral answer with the files, a note in the thread', async () => {
    const { thread, click } = await askAndRun(
      HR,
      'plans in use',
      'SELECT plan, count(*) AS n FROM customers GROUP BY plan ORDER BY plan',
    );
    await h.until(() => h.callbacksOf(click).length + h.followUpsOf(click).length > 0, 'the private answer');
    const privately = [...h.callbacksOf(click), ...h.followUpsOf(click)].filter((c) =>
      textOf(c).includes('enterprise'),
    );
    expect(privately).toHaveLength(1);
    expect(JSON.stringify(privately[0]!.body)).toMatch(/"flags":64/);
    const files = [...h.callbacksOf(click), ...h.followUpsOf(click)].flatMap((c) =>
      c.files.map((f) => f.filename),
    );
    expect(files.some((f) => f.endsWith('.csv'))).toBe(true);
    const visible = h
      .botMessagesIn(thread)
      .map((m) => JSON.stringify([m.content, m.embeds]))
      .join('\n');
    expect(visible).toContain(
      `📬 Sent the result to alice privately: **${HR}** is sensitive and this channel is public`,
    );
    expect(visible).not.toContain('enterprise');
  });

  it('auto + sensitive in a private channel: the result stays in the thread', async () => {
    const hrTeam = await privateChannel('hr-team');
    const { thread } = await askAndRun(
      HR,
      'plans in use',
      'SELECT plan, count(*) AS n FROM customers GROUP BY plan ORDER BY plan',
      'plans in use',
      hrTeam,
    );
    const visible = h
      .botMessagesIn(thread)
      .map((m) => String(m.content))
      .join('\n');
    expect(visible).toContain('enterprise');
    expect(visible).not.toContain('📬');
  });
});
