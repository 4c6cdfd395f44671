/**
 * The pipeline end to end through Discord: the real discord.js client (started by startPlatforms) against the
 * loopback fake REST API and gateway, driving a real threadql (store over the MongoDB wire, Redis, the embedded
 * sample SQLite database) whose Claude is the real SDK against the fake Messages API. Assertions are on the
 * REST calls Discord received and the messages as Discord now stores them.
 */
import { FakeAnthropicServer, toolUseReply } from '../fakes/fake-anthropic-server.ts';
import type { JsonRecord, RestCall } from '../fakes/fake-discord.ts';
import { DiscordHarness } from '../support/discord-harness.ts';

const anthropic = new FakeAnthropicServer({ apiKey: 'sk-discord-e2e' });
let h: DiscordHarness;

beforeAll(async () => {
  const { url } = await anthropic.start();
  h = await DiscordHarness.start('discord-e2e', {
    env: { ANTHROPIC_API_KEY: 'sk-discord-e2e', ANTHROPIC_BASE_URL: url },
  });
});
afterAll(async () => {
  await h?.close();
  await anthropic.close();
});

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The embed description of a stored message (the card's text and SQL). */
function cardText(message: JsonRecord): string {
  return String(message.embeds?.[0]?.description ?? '');
}

function footerOf(message: JsonRecord): string {
  return String(message.embeds?.[0]?.footer?.text ?? '');
}

/** Every text a REST call carried (content and embeds), for "did it ever say…" checks. */
function textOf(call: RestCall): string {
  return JSON.stringify([call.body?.content ?? '', call.body?.embeds ?? []]);
}

/** Asks a question by mention and returns the thread and its card (the first bot message, edited in place). */
async function askForCard(question: string, options: { sql?: string } = {}) {
  if (options.sql)
    anthropic.enqueue(toolUseReply(options.sql, { explanation: `Answers: ${question}`, title: question }));
  const thread = await h.mention(question);
  const [card] = h.botMessagesIn(thread);
  return { thread, cardId: card!.id as string, card: card! };
}

describe('Discord end to end on the sample database', () => {
  let askerThread: string;

  it('mention → thread → progress edited into the confirm card → Run → table, CSV and chart PNG in the thread', async () => {
    const sql =
      'SELECT country, count(*) AS customers FROM customers GROUP BY country ORDER BY customers DESC';
    const { thread, cardId, card } = await askForCard('how many customers per country?', { sql });
    askerThread = thread;

    // A thread was started on the question's message, named after the question.
    const started = h.fake.callsTo(
      'POST',
      new RegExp(`^/channels/${h.fake.channelId}/messages/${thread}/threads$`),
    );
    expect(started).toHaveLength(1);
    expect(started[0]!.body.name).toBe('how many customers per country?');

    // The working message, posted in the thread, then turned into the card in place.
    const posts = h.postsIn(thread);
    expect(posts).toHaveLength(1);
    expect(textOf(posts[0]!)).toContain('Reading schema');
    const edits = h.editsOf(cardId);
    expect(edits.some((e) => textOf(e).includes('Writing SQL'))).toBe(true);
    expect(cardText(card)).toContain('```sql\nSELECT country, count(*) AS customers FROM customers');
    expect(cardText(card)).toContain('Answers: how many customers per country?');
    expect(footerOf(card)).toMatch(/^connection sample · read/);
    const buttons = h.buttonsOf(card);
    expect(Object.keys(buttons).sort()).toEqual(['cancel', 'edit', 'run']);
    const token = buttons.run!.slice('threadql:run:'.length);
    expect(buttons).toEqual({
      run: `threadql:run:${token}`,
      edit: `threadql:edit:${token}`,
      cancel: `threadql:cancel:${token}`,
    });
    // The question reached Claude with the schema.
    expect(JSON.stringify(anthropic.requests.at(-1)!.body.system)).toContain('customers');

    const click = await h.click(cardId, 'run');
    // Acknowledged as a deferred update (no token header: interaction callbacks carry their own token).
    const acks = h.callbacksOf(click);
    expect(acks.map((a) => a.body)).toEqual([{ type: 6 }]);
    expect(acks[0]!.authorized).toBe(false);

    // The result (table, CSV, provenance, feedback), then the chart in a message of its own.
    const [, resultPost, chartPost] = h.postsIn(thread);
    expect(h.postsIn(thread)).toHaveLength(3);
    const content = String(resultPost!.body.content);
    expect(content.length).toBeLessThanOrEqual(2000);
    // The table as a code block: header, then 14 rows in order.
    expect(content).toContain('**how many customers per country?**');
    const table = content.match(/```\n([\s\S]*?)\n```/)?.[1] ?? '';
    const lines = table.split('\n').filter((l) => /\w/.test(l));
    expect(lines[0]).toMatch(/country\s+\S?\s*customers/);
    expect(lines.filter((l) => /^\s*\S?\s*[A-Z]{2}\s/.test(l))).toHaveLength(14);
    expect(lines.find((l) => /[A-Z]{2}\s/.test(l))).toMatch(/US/);
    expect(content).toMatch(/-# sample · 14 rows · query \d+ ms/);
    // The CSV and the chart PNG as attachments (multipart uploads).
    expect(resultPost!.multipart).toBe(true);
    expect(resultPost!.files.map((f) => f.filename)).toEqual([
      expect.stringMatching(/^threadql-\d{4}-\d\d-\d\d-\d+\.csv$/),
    ]);
    const csv = resultPost!.files[0]!.data.toString('utf8');
    expect(csv.split(/\r?\n/)[0]).toBe('country,customers');
    expect(csv.trim().split(/\r?\n/)).toHaveLength(15);
    expect(chartPost!.multipart).toBe(true);
    expect(chartPost!.files.map((f) => f.filename)).toEqual([
      expect.stringMatching(/^threadql-\d{4}-\d\d-\d\d-\d+-chart\.png$/),
    ]);
    expect(chartPost!.files[0]!.data.subarray(0, 8)).toEqual(PNG_MAGIC);
    expect(chartPost!.body.attachments[0].description).toBe('Chart: how many customers per country?');
    const [, result, chart] = h.botMessagesIn(thread);
    expect((result!.attachments as { filename: string }[]).map((a) => a.filename)).toEqual([
      resultPost!.files[0]!.filename,
    ]);
    expect((chart!.attachments as { content_type: string }[]).map((a) => a.content_type)).toEqual([
      'image/png',
    ]);
    expect(Object.keys(h.buttonsOf(result!)).sort()).toEqual(['feedback_down', 'feedback_up']);

    // The card settled: no buttons, says who ran it.
    const settled = h.message(cardId);
    expect(footerOf(settled)).toMatch(/Run by alice · 14 rows/);
    expect(h.buttonsOf(settled)).toEqual({});

    // 👍 on the answer is stored against that turn and thanked privately (an ephemeral interaction reply).
    const vote = await h.click(result!.id as string, 'feedback_up');
    expect(h.callbacksOf(vote).map((c) => c.body)).toEqual([
      { type: 4, data: expect.objectContaining({ content: 'Thanks for the feedback!', flags: 64 }) },
    ]);
    const votes = await h.threadql.store.models
      .Feedback!.find({})
      .lean<{ session: string; rating: string; user: string }[]>();
    expect(votes).toEqual([
      expect.objectContaining({
        session: `discord:${h.fake.guildId}:${h.fake.channelId}:${thread}`,
        rating: 'up',
        user: `discord:${h.fake.guildId}:${h.alice.id}`,
      }),
    ]);
  });

  it('a message in the thread without a mention continues the session with the earlier question as context', async () => {
    anthropic.enqueue(
      toolUseReply("SELECT plan, count(*) AS customers FROM customers WHERE country = 'DE' GROUP BY plan"),
    );
    const before = anthropic.requests.length;
    await h.say(askerThread, 'only Germany, split by plan');

    expect(anthropic.requests.length).toBe(before + 1);
    const prompt = JSON.stringify(anthropic.requests.at(-1)!.body.messages);
    expect(prompt).toContain('how many customers per country?');
    expect(prompt).toContain('only Germany, split by plan');
    const messages = h.botMessagesIn(askerThread);
    expect(messages).toHaveLength(4); // card, result, chart, and the new card
    expect(cardText(messages[3]!)).toContain("country = 'DE'");
    expect(h.buttonsOf(messages[3]!).run).toBeDefined();
  });

  it('a message in a thread threadql is not in is ignored; a mention there is answered (help, bold as **…**)', async () => {
    const other = h.fake.userThread(h.alice, 'coffee');
    h.fake.userMessage({ author: h.alice, content: 'what about France?', channelId: other });
    // Gateway events are handled in order: once the mention after it is answered, the first was seen.
    h.fake.userMessage({ author: h.alice, content: 'help', channelId: other, mentionBot: true });
    await h.until(() => h.botMessagesIn(other).length > 0, 'the help answer');

    const posts = h.postsIn(other);
    expect(posts).toHaveLength(1);
    expect(String(posts[0]!.body.content)).toMatch(/^\*\*threadql\*\* turns questions into SQL/);
    expect(
      anthropic.requests.some((r) => JSON.stringify(r.body.messages).includes('what about France?')),
    ).toBe(false);
  });

  it('/ask is deferred, gets a thread of its own and is answered there end to end', async () => {
    anthropic.enqueue(toolUseReply('SELECT count(*) AS products FROM products', { title: 'products' }));
    const command = h.fake.slashCommand({
      name: 'ask',
      options: { question: 'how many products do we sell?' },
      user: h.alice,
    });
    await h.until(() => h.callbacksOf(command).length > 0, 'the deferral');
    expect(h.callbacksOf(command).map((c) => c.body)).toEqual([expect.objectContaining({ type: 5 })]);
    // The deferred reply says what was asked; a thread is started on it and the card lands there.
    const edits = h.fake.callsTo(
      'PATCH',
      new RegExp(`^/webhooks/${h.fake.applicationId}/${command.token}/messages/@original$`),
    );
    expect(String(edits[0]?.body.content)).toBe(`<@${h.alice.id}> asked: how many products do we sell?`);
    const replyId = h.fake.interactions.get(command.id)!.originalId!;
    const thread = h.fake.channels.get(replyId);
    expect(thread).toMatchObject({
      type: 11,
      parent_id: h.fake.channelId,
      name: 'how many products do we sell?',
    });
    await h.until(() => h.buttonsOf(h.botMessagesIn(replyId)[0] ?? {}).run, 'the card in the thread');
    const [card] = h.botMessagesIn(replyId);
    expect(cardText(card!)).toContain('SELECT count(*) AS products FROM products');
    expect(JSON.stringify(anthropic.requests.at(-1)!.body.messages)).toContain(
      'how many products do we sell?',
    );

    await h.click(card!.id as string, 'run');
    const result = h.botMessagesIn(replyId)[1]!;
    expect(String(result.content)).toMatch(/```[\s\S]*products[\s\S]*```/);
    expect(String(result.content)).toMatch(/-# sample · 1 row · query/);
  });

  it('Edit SQL opens a modal; submitting new SQL updates the card, and the new card runs the new SQL', async () => {
    const { thread, cardId } = await askForCard('SELECT count(*) AS n FROM orders');
    const requestsBefore = anthropic.requests.length;
    const oldRun = h.customIdOf(cardId, 'run');
    const token = oldRun.slice('threadql:run:'.length);

    const edit = await h.click(cardId, 'edit');
    const [modal] = h.callbacksOf(edit);
    expect(modal!.body).toMatchObject({
      type: 9,
      data: {
        custom_id: `threadql:edit_sql:${token}`,
        title: 'Edit SQL',
        components: [{ component: { custom_id: 'sql', value: 'SELECT count(*) AS n FROM orders' } }],
      },
    });
    expect(h.callbacksOf(edit)).toHaveLength(1); // the modal is the answer: no deferral after it

    const edited = 'SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status';
    const submit = h.fake.submitModal({
      customId: `threadql:edit_sql:${token}`,
      fields: { sql: edited },
      user: h.alice,
      messageId: cardId,
    });
    await h.until(() => h.callbacksOf(submit).length > 0, 'the submit acknowledgement');
    expect(h.callbacksOf(submit).map((c) => c.body)).toEqual([{ type: 6 }]);
    const card = h.message(cardId);
    expect(cardText(card)).toContain('GROUP BY status');
    expect(cardText(card)).toContain('Edited by alice');
    const newRun = h.customIdOf(cardId, 'run');
    expect(newRun).not.toBe(oldRun);

    // The old token died with the old SQL.
    const stale = await h.click(cardId, 'run', h.alice, token);
    expect(String(h.callbacksOf(stale)[0]!.body.data?.content)).toContain('expired or was already used');

    await h.click(cardId, 'run');
    const messages = h.botMessagesIn(thread);
    expect(messages).toHaveLength(3); // card, result, chart (status × count is a bar chart)
    // The sample database is generated relative to the day it is created: the expectation comes from it.
    const { driver } = await h.threadql.connections.resolveByName('sample');
    const truth = await driver.executeRead("SELECT count(*) AS n FROM orders WHERE status = 'delivered'", {
      timeoutMs: 5000,
      maxRows: 1,
    });
    const delivered = Number(truth.rows[0]![0]);
    expect(delivered).toBeGreaterThan(1000);
    expect(String(messages[1]!.content)).toMatch(new RegExp(`delivered\\s*│\\s*${delivered}\\b`));
    expect(anthropic.requests.length).toBe(requestsBefore);
  });

  it("a stranger's Run click gets the ephemeral refusal and nothing runs", async () => {
    const { thread, cardId } = await askForCard('SELECT name FROM products ORDER BY name');
    const editsBefore = h.editsOf(cardId).length;
    const postsBefore = h.postsIn(thread).length;

    const click = await h.click(cardId, 'run', h.mallory);
    const [answer] = h.callbacksOf(click);
    expect(answer!.body).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(String(answer!.body.data.content)).toMatch(/^Only the person who asked/);
    expect(h.callbacksOf(click)).toHaveLength(1);
    expect(h.postsIn(thread)).toHaveLength(postsBefore);
    expect(h.editsOf(cardId)).toHaveLength(editsBefore);
    expect(h.buttonsOf(h.message(cardId)).run).toBeDefined();

    // The asker can still run it: the refusal did not use the token up.
    await h.click(cardId, 'run');
    expect(h.postsIn(thread)).toHaveLength(postsBefore + 1);
  });

  it('a double click (two interactions, same button, concurrently) runs the query exactly once', async () => {
    const { thread, cardId } = await askForCard('SELECT id, total_cents FROM orders ORDER BY id LIMIT 5');
    const customId = h.customIdOf(cardId, 'run');
    const clicks = [
      h.fake.clickButton({ messageId: cardId, customId, user: h.alice }),
      h.fake.clickButton({ messageId: cardId, customId, user: h.alice }),
    ];
    await h.until(() => clicks.every((c) => h.callbacksOf(c).length > 0), 'both answers');

    const results = h.botMessagesIn(thread).filter((m) => /sample · 5 rows/.test(String(m.content)));
    expect(results).toHaveLength(1);
    expect(h.editsOf(cardId).filter((e) => textOf(e).includes('Running…'))).toHaveLength(1);
    const answers = clicks.map((c) => h.callbacksOf(c)[0]!.body);
    expect(answers).toContainEqual({ type: 6 });
    expect(answers).toContainEqual({
      type: 4,
      data: expect.objectContaining({
        flags: 64,
        content: expect.stringContaining('expired or was already used'),
      }),
    });
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
    const { thread, card } = await askForCard('move inactive customers to the free plan', { sql });
    expect(cardText(card)).toContain('UPDATE customers');
    expect(footerOf(card)).toContain(`connection sample · write · dry run: would change ${affected} rows`);
    expect(Object.keys(h.buttonsOf(card)).sort()).toEqual(['approval_request', 'cancel', 'edit']);
    expect(h.botMessagesIn(thread)).toHaveLength(1);
    expect(await count("plan = 'free'")).toBe(before);
  });

  it('a gateway drop between the confirm card and the Run click is RESUMEd and loses nothing', async () => {
    const { thread, cardId } = await askForCard(
      'SELECT country FROM customers GROUP BY country ORDER BY country',
    );
    const identifies = h.fake.gateway.identifies;
    const resumes = h.fake.gateway.resumes;

    await h.fake.gateway.disconnect(4000); // 4000 "unknown error": the client resumes
    // Clicked while the bot is disconnected: Discord keeps the dispatch for the resumed session.
    const click = h.fake.clickButton({
      messageId: cardId,
      customId: h.customIdOf(cardId, 'run'),
      user: h.alice,
    });
    await h.until(() => h.callbacksOf(click).length > 0, 'the click after the resume');

    expect(h.fake.gateway.identifies).toBe(identifies);
    expect(h.fake.gateway.resumes).toBe(resumes + 1);
    const wire = h.fake.gateway.payloads;
    const resumeAt = wire.findLastIndex((p) => p.direction === 'from-client' && p.op === 6);
    const clickAt = wire.findIndex(
      (p) =>
        p.t === 'INTERACTION_CREATE' && (p.d as JsonRecord).id === click.id && p.direction === 'to-client',
    );
    expect(clickAt).toBeGreaterThan(resumeAt);
    expect(h.callbacksOf(click).map((c) => c.body)).toEqual([{ type: 6 }]);
    const results = h.botMessagesIn(thread).filter((m) => /sample · 14 rows/.test(String(m.content)));
    expect(results).toHaveLength(1);

    // The session survived too: a follow-up in the thread still continues it.
    anthropic.enqueue(toolUseReply("SELECT count(*) AS n FROM customers WHERE country = 'FR'"));
    await h.say(thread, 'and how many in France?');
    expect(JSON.stringify(anthropic.requests.at(-1)!.body.messages)).toContain(
      'SELECT country FROM customers GROUP BY country ORDER BY country',
    );
    expect(cardText(h.botMessagesIn(thread).at(-1)!)).toContain("country = 'FR'");
  });
});
