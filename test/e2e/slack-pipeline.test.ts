/**
 * The pipeline end to end through Slack: the real Bolt app (HTTP mode, started by startPlatforms) against the
 * loopback fake Web API, driving a real threadql (store over the MongoDB wire, Redis, the embedded sample SQLite
 * database) whose Claude is the real SDK against the fake Messages API. Assertions are on the calls Slack received.
 */
import { FakeAnthropicServer, toolUseReply } from '../fakes/fake-anthropic-server.ts';
import type { RecordedCall } from '../fakes/fake-slack-api.ts';
import { SlackHarness } from '../support/slack-harness.ts';

type Block = { type: string; text?: { text?: string }; elements?: Record<string, unknown>[] } & Record<
  string,
  unknown
>;

const anthropic = new FakeAnthropicServer({ apiKey: 'sk-slack-e2e' });
let h: SlackHarness;

beforeAll(async () => {
  const { url } = await anthropic.start();
  h = await SlackHarness.start('slack-e2e', {
    env: { ANTHROPIC_API_KEY: 'sk-slack-e2e', ANTHROPIC_BASE_URL: url },
    // Approvers by Slack user group: members of S0APPROVERS may run anyone's card.
    yaml: 'connections: []\napprovers:\n  slack: ["S0APPROVERS"]\n',
  });
  // The workspace as users.info and usergroups.users.list see it; U0MALLORY is unknown to users.info.
  h.fake.setUser('U0ALICE', { display_name: 'Alice', real_name: 'Alice Liddell' });
  h.fake.setUser('U0CAROL', { real_name: 'Carol Danvers' });
  h.fake.setUserGroup('S0APPROVERS', ['U0CAROL', 'U0DAVE']);
});
afterAll(async () => {
  await h?.close();
  await anthropic.close();
});

function blocksOf(call: RecordedCall): Block[] {
  return (call.args.blocks as Block[] | undefined) ?? [];
}

/** Every text in a message's blocks, joined (sections, contexts, table cells). */
function textOf(call: RecordedCall): string {
  return JSON.stringify(blocksOf(call));
}

/** The threadql buttons of a message: action_id → value. */
function buttonsOf(call: RecordedCall): Record<string, string> {
  const buttons: Record<string, string> = {};
  for (const block of blocksOf(call)) {
    if (block.type !== 'actions') continue;
    for (const el of block.elements ?? []) buttons[String(el.action_id)] = String(el.value);
  }
  return buttons;
}

/**
 * The bot's messages in a thread that carry blocks (the progress/card message and results); a chart posted on its
 * own is an upload, not counted here.
 */
function repliesIn(threadTs: string): RecordedCall[] {
  return h.postsIn(threadTs).filter((c) => blocksOf(c).length > 0);
}

/** Asks a question in a new thread and returns the thread, the card message's ts and its last update. */
async function askForCard(question: string, options: { sql?: string; user?: string } = {}) {
  if (options.sql)
    anthropic.enqueue(toolUseReply(options.sql, { explanation: `Answers: ${question}`, title: question }));
  const mention = h.mention(question, options.user ? { user: options.user } : {});
  const threadTs = String(mention.ts);
  expect(await h.event(mention)).toBe(200);
  await h.settle();
  const [progress] = h.postsIn(threadTs);
  expect(progress).toBeDefined();
  const cardTs = h.tsOf(progress!);
  const card = h.updatesOf(cardTs).at(-1)!;
  return { threadTs, cardTs, progress: progress!, card };
}

describe('Slack end to end on the sample database', () => {
  let askerThread: string;

  it('mention → progress → confirm card → Run → table, CSV and chart PNG in the thread', async () => {
    const sql =
      'SELECT country, count(*) AS customers FROM customers GROUP BY country ORDER BY customers DESC';
    const { threadTs, cardTs, progress, card } = await askForCard('how many customers per country?', { sql });
    askerThread = threadTs;

    // The working message, posted in the thread, then turned into the card in place.
    expect(textOf(progress)).toContain('Reading schema');
    const updates = h.updatesOf(cardTs);
    expect(updates.map((u) => textOf(u).includes('Writing SQL'))).toContain(true);
    expect(textOf(card)).toContain('GROUP BY country');
    expect(textOf(card)).toContain('Answers: how many customers per country?');
    expect(textOf(card)).toMatch(/connection \*sample\* · read/);
    const buttons = buttonsOf(card);
    expect(Object.keys(buttons).sort()).toEqual(['threadql:cancel', 'threadql:edit', 'threadql:run']);
    const token = buttons['threadql:run']!;
    expect(new Set(Object.values(buttons))).toEqual(new Set([token]));
    // The question reached Claude with the schema.
    expect(JSON.stringify(anthropic.requests.at(-1)!.body.system)).toContain('customers');

    expect(await h.click({ messageTs: cardTs, threadTs, actionId: 'threadql:run', value: token })).toBe(200);
    await h.settle();

    const posts = repliesIn(threadTs);
    expect(posts).toHaveLength(2);
    const result = posts[1]!;
    const resultText = textOf(result);
    // 14 rows × 2 columns fits Slack's native table block: header, then the rows in order.
    const table = blocksOf(result).find((b) => b.type === 'table') as
      { rows: { text: string }[][] } | undefined;
    expect(table?.rows.map((row) => row.map((cell) => cell.text))[0]).toEqual(['country', 'customers']);
    expect(table?.rows).toHaveLength(15);
    expect(table?.rows[1]![0]!.text).toBe('US');
    expect(resultText).toContain('how many customers per country?');
    expect(resultText).toMatch(/sample · 14 rows · query \d+ ms/);
    expect(Object.keys(buttonsOf(result)).sort()).toEqual(['threadql:feedback_down', 'threadql:feedback_up']);

    // Files: the three-step upload, into this thread (the chart with the result or in a message of its own).
    const uploadUrls = h.fake.callsOf('files.getUploadURLExternal');
    expect(uploadUrls.map((c) => String(c.args.filename)).sort()).toEqual([
      expect.stringMatching(/^threadql-\d{4}-\d\d-\d\d-\d+-chart\.png$/),
      expect.stringMatching(/^threadql-\d{4}-\d\d-\d\d-\d+\.csv$/),
    ]);
    const completes = h.fake.callsOf('files.completeUploadExternal');
    for (const complete of completes)
      expect(complete.args).toMatchObject({ channel_id: h.channel, thread_ts: threadTs });
    expect(completes.flatMap((c) => c.args.files as unknown[])).toHaveLength(2);
    const csv = h.fake.uploads.find((u) => u.filename.endsWith('.csv'))!;
    const png = h.fake.uploads.find((u) => u.filename.endsWith('.png'))!;
    expect(csv.data.toString('utf8').split(/\r?\n/)[0]).toBe('country,customers');
    expect(csv.data.toString('utf8').trim().split(/\r?\n/)).toHaveLength(15);
    expect(png.data.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

    // The card settled: no buttons, says who ran it.
    const settled = h.updatesOf(cardTs).at(-1)!;
    // users.info gave the asker's display name, so the card names a person, not an id.
    expect(textOf(settled)).toMatch(/Run by Alice · 14 rows/);
    expect(buttonsOf(settled)).toEqual({});

    // 👍 on the answer is stored against that turn and thanked privately.
    const feedback = buttonsOf(result)['threadql:feedback_up']!;
    expect(
      await h.click({
        messageTs: h.tsOf(result),
        threadTs,
        actionId: 'threadql:feedback_up',
        value: feedback,
      }),
    ).toBe(200);
    await h.settle();
    expect(String(h.ephemeralsIn(threadTs).at(-1)?.args.text)).toBe('Thanks for the feedback!');
    const votes = await h.threadql.store.models
      .Feedback!.find({})
      .lean<{ session: string; rating: string; user: string }[]>();
    expect(votes).toEqual([
      expect.objectContaining({
        session: `slack:T0FAKE:${h.channel}:${threadTs}`,
        rating: 'up',
        user: 'slack:T0FAKE:U0ALICE',
      }),
    ]);

    // Slack's native feedback buttons (AI-app surface) send one action_id with the side in the value; the
    // engine sees feedback_down with the same value, and Alice's vote changes.
    expect(
      await h.click({
        messageTs: h.tsOf(result),
        threadTs,
        actionId: 'threadql:feedback',
        type: 'feedback_buttons',
        value: `feedback_down:${feedback}`,
      }),
    ).toBe(200);
    await h.settle();
    const changed = await h.threadql.store.models
      .Feedback!.find({})
      .lean<{ session: string; rating: string; user: string }[]>();
    expect(changed).toEqual([expect.objectContaining({ rating: 'down', user: 'slack:T0FAKE:U0ALICE' })]);
  });

  it('a reply in the thread without a mention continues the session with the earlier question as context', async () => {
    anthropic.enqueue(
      toolUseReply("SELECT plan, count(*) AS customers FROM customers WHERE country = 'DE' GROUP BY plan"),
    );
    const before = anthropic.requests.length;
    expect(await h.event(h.threadReply('only Germany, split by plan', askerThread))).toBe(200);
    await h.settle();

    expect(anthropic.requests.length).toBe(before + 1);
    const prompt = JSON.stringify(anthropic.requests.at(-1)!.body.messages);
    expect(prompt).toContain('how many customers per country?');
    expect(prompt).toContain('only Germany, split by plan');
    const posts = repliesIn(askerThread);
    expect(posts).toHaveLength(3);
    const card = h.updatesOf(h.tsOf(posts[2]!)).at(-1)!;
    expect(textOf(card)).toContain("country = 'DE'");
    expect(buttonsOf(card)['threadql:run']).toBeDefined();
  });

  it('a reply in a thread threadql is not in is ignored', async () => {
    const rootTs = h.nextTs();
    const before = h.fake.calls.length;
    expect(await h.event(h.threadReply('what about France?', rootTs))).toBe(200);
    await h.settle();
    expect(h.fake.calls.slice(before).filter((c) => c.method.startsWith('chat.'))).toEqual([]);
  });

  it('Edit SQL opens a modal; submitting new SQL updates the card, and the new card runs the new SQL', async () => {
    const { threadTs, cardTs, card } = await askForCard('SELECT count(*) AS n FROM orders');
    const token = buttonsOf(card)['threadql:edit']!;
    const requestsBefore = anthropic.requests.length;

    expect(await h.click({ messageTs: cardTs, threadTs, actionId: 'threadql:edit', value: token })).toBe(200);
    await h.settle();
    const open = h.fake.callsOf('views.open').at(-1)!;
    const view = open.args.view as { callback_id: string; blocks: { element: { initial_value?: string } }[] };
    expect(view.callback_id).toBe('threadql:edit_sql');
    expect(view.blocks[0]!.element.initial_value).toBe('SELECT count(*) AS n FROM orders');
    expect(String(open.args.trigger_id)).toMatch(/\.trigger$/);

    const edited = 'SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status';
    expect(await h.submitView(open, { sql: edited })).toBe(200);
    await h.settle();
    const newCard = h.updatesOf(cardTs).at(-1)!;
    expect(textOf(newCard)).toContain('GROUP BY status');
    expect(textOf(newCard)).toContain('Edited by Alice');
    const newToken = buttonsOf(newCard)['threadql:run']!;
    expect(newToken).not.toBe(token);

    // The old token died with the old SQL.
    expect(await h.click({ messageTs: cardTs, threadTs, actionId: 'threadql:run', value: token })).toBe(200);
    await h.settle();
    expect(textOf(h.ephemeralsIn(threadTs).at(-1)!)).toContain('expired or was already used');

    expect(await h.click({ messageTs: cardTs, threadTs, actionId: 'threadql:run', value: newToken })).toBe(
      200,
    );
    await h.settle();
    const posts = repliesIn(threadTs);
    expect(posts).toHaveLength(2);
    expect(textOf(posts[1]!)).toContain('delivered');
    expect(anthropic.requests.length).toBe(requestsBefore);
  });

  it("a stranger's Run click gets an ephemeral refusal and nothing runs", async () => {
    const { threadTs, cardTs, card } = await askForCard('SELECT name FROM products ORDER BY name');
    const token = buttonsOf(card)['threadql:run']!;
    const updatesBefore = h.updatesOf(cardTs).length;
    const uploadsBefore = h.fake.uploads.length;

    expect(
      await h.click({
        messageTs: cardTs,
        threadTs,
        actionId: 'threadql:run',
        value: token,
        user: 'U0MALLORY',
      }),
    ).toBe(200);
    await h.settle();

    const [refusal] = h.ephemeralsIn(threadTs);
    expect(refusal?.args).toMatchObject({ user: 'U0MALLORY', channel: h.channel });
    expect(String(refusal?.args.text)).toMatch(/^Only the person who asked/);
    expect(repliesIn(threadTs)).toHaveLength(1);
    expect(h.updatesOf(cardTs)).toHaveLength(updatesBefore);
    expect(h.fake.uploads.length).toBe(uploadsBefore);

    // The asker can still run it: the refusal did not use the token up.
    expect(await h.click({ messageTs: cardTs, threadTs, actionId: 'threadql:run', value: token })).toBe(200);
    await h.settle();
    expect(repliesIn(threadTs)).toHaveLength(2);
  });

  it("a member of an approver user group may run someone else's card", async () => {
    const { threadTs, cardTs, card } = await askForCard('SELECT count(*) AS n FROM customers');
    const token = buttonsOf(card)['threadql:run']!;

    expect(
      await h.click({ messageTs: cardTs, threadTs, actionId: 'threadql:run', value: token, user: 'U0CAROL' }),
    ).toBe(200);
    await h.settle();

    expect(h.ephemeralsIn(threadTs)).toEqual([]);
    const posts = repliesIn(threadTs);
    expect(posts).toHaveLength(2);
    expect(textOf(posts[1]!)).toMatch(/sample · 1 row/);
    // Carol has no display name, so her real name is used.
    expect(textOf(h.updatesOf(cardTs).at(-1)!)).toMatch(/Run by Carol Danvers · 1 row/);
    expect(h.fake.callsOf('usergroups.users.list').map((c) => c.args.usergroup)).toContain('S0APPROVERS');
  });

  it('a double click (two clicks, same token, concurrently) runs the query exactly once', async () => {
    const { threadTs, cardTs, card } = await askForCard(
      'SELECT id, total_cents FROM orders ORDER BY id LIMIT 5',
    );
    const token = buttonsOf(card)['threadql:run']!;
    const statuses = await Promise.all([
      h.click({ messageTs: cardTs, threadTs, actionId: 'threadql:run', value: token }),
      h.click({ messageTs: cardTs, threadTs, actionId: 'threadql:run#1', value: token }),
    ]);
    expect(statuses).toEqual([200, 200]);
    await h.settle();

    const posts = repliesIn(threadTs);
    expect(posts).toHaveLength(2); // the card, and one result
    expect(textOf(posts[1]!)).toMatch(/sample · 5 rows/);
    expect(h.updatesOf(cardTs).filter((u) => textOf(u).includes('Running…'))).toHaveLength(1);
    const ephemerals = h.ephemeralsIn(threadTs);
    expect(ephemerals).toHaveLength(1);
    expect(String(ephemerals[0]!.args.text)).toContain('expired or was already used');
  });

  it('a retried event (X-Slack-Retry-Num: 1) is answered once', async () => {
    anthropic.enqueue(toolUseReply('SELECT count(*) AS n FROM products'));
    const mention = h.mention('how many products do we sell?');
    const eventId = `EvRETRY${h.nextTs().replace('.', '')}`;
    const statuses = await Promise.all([
      h.event(mention, { eventId }),
      h.event(mention, { eventId, retryNum: 1 }),
    ]);
    expect(statuses).toEqual([200, 200]);
    await h.settle();
    const again = await h.event(mention, { eventId, retryNum: 2 });
    expect(again).toBe(200);
    await h.settle();

    const threadTs = String(mention.ts);
    expect(repliesIn(threadTs)).toHaveLength(1);
    expect(
      anthropic.requests.filter((r) =>
        JSON.stringify(r.body.messages).includes('how many products do we sell?'),
      ),
    ).toHaveLength(1);
    expect(anthropic.pending).toBe(0);
  });

  it('a write gets a write card with its measured dry run and Request approval (never Run), and the data stays', async () => {
    const { driver } = await h.threadql.connections.resolveByName('sample');
    const count = async (where: string) =>
      Number(
        (
          await driver.executeRead(`SELECT count(*) FROM customers WHERE ${where}`, {
            timeoutMs: 5000,
            maxRows: 1,
          })
        ).rows[0]![0],
      );
    const before = await count("plan = 'free'");
    const affected = await count("last_login_at IS NULL AND plan <> 'free'");

    const sql = "UPDATE customers SET plan = 'free' WHERE last_login_at IS NULL AND plan <> 'free'";
    const { threadTs, card } = await askForCard('move inactive customers to the free plan', { sql });
    expect(textOf(card)).toContain('UPDATE customers');
    expect(textOf(card)).toContain(`connection *sample* · write · dry run: would change ${affected} rows`);
    expect(Object.keys(buttonsOf(card)).sort()).toEqual([
      'threadql:approval_request',
      'threadql:cancel',
      'threadql:edit',
    ]);
    expect(repliesIn(threadTs)).toHaveLength(1);
    expect(await count("plan = 'free'")).toBe(before);
  });
});
