/**
 * The real Bolt app in HTTP mode against the loopback Slack fake: signed Events API requests in, Web API calls out.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { threadKey, type ThreadRef } from '../../core/conversation/chat-platform.ts';
import { PlatformError } from '../../core/errors.ts';
import { redisOnce } from '../../bot/slack/event-dedupe.ts';
import { SlackPlatform } from '../../bot/slack/slack-platform.ts';
import {
  FAKE_TEAM_ID,
  FakeSlackApi,
  eventCallback,
  postEvent,
  postInteraction,
  postSlashCommand,
} from '../fakes/fake-slack-api.ts';
import { services } from '../support/services.ts';
import {
  CapturingLogger,
  RecordingHandlers,
  appMention,
  blockActions,
  channelMessage,
  nextTs,
  ownMessage,
  slashCommand,
  viewSubmission,
} from './slack-payloads.ts';

const SECRET = 'test-signing-secret-http';
const sign = { signingSecret: SECRET };
const fake = new FakeSlackApi();
const handlers = new RecordingHandlers();
const logger = new CapturingLogger();
const active = new Set<string>();
let redis: Redis;
let platform: SlackPlatform;
let url: string;
let authTestsAtStart = 0;

function thread(channel: string, ts: string): ThreadRef {
  return { platform: 'slack', workspace: FAKE_TEAM_ID, channel, thread: ts };
}

beforeAll(async () => {
  await fake.start();
  redis = new Redis(services.redisUrl, { lazyConnect: true });
  await redis.connect();
  platform = new SlackPlatform({
    botToken: 'xoxb-test-token',
    signingSecret: SECRET,
    port: 0,
    host: '127.0.0.1',
    processBeforeResponse: true,
    apiUrl: fake.apiUrl,
    retryConfig: { retries: 0 },
    isActiveThread: async (t) => active.has(threadKey(t)),
    once: redisOnce(redis, { prefix: `threadql:test:slack-http:${randomUUID()}:`, ttlSeconds: 600 }),
    // threadql.yml's approvers.slack: a user id (no lookup) and a user group (members get it as a role).
    userGroups: ['U0ROOT', 'S0DBA'],
    logger,
  });
  fake.setUser('U0DANA', { display_name: 'Dana', real_name: 'Dana Scully' });
  fake.setUserGroup('S0DBA', ['U0DANA']);
  await platform.start(handlers);
  url = platform.httpAddress!.url;
  authTestsAtStart = fake.callsOf('auth.test').length;
});

afterAll(async () => {
  await platform?.stop();
  await redis?.quit();
  await fake.stop();
});

beforeEach(() => {
  handlers.reset();
  fake.reset();
});

async function deliver(
  event: Record<string, unknown>,
  options: { retryNum?: number; eventId?: string } = {},
) {
  const body = eventCallback(event, options.eventId);
  const res = await postEvent(url, body, {
    ...sign,
    ...(options.retryNum ? { retryNum: options.retryNum } : {}),
  });
  await platform.idle();
  return { res, body };
}

describe('SlackPlatform over HTTP: triggers', () => {
  it('verifies the bot token with auth.test at start', () => {
    expect(authTestsAtStart).toBeGreaterThanOrEqual(1);
    expect(platform.mode).toBe('http');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/slack\/events$/);
  });

  it('turns a channel app_mention into an IncomingMessage in a new thread, mention stripped', async () => {
    const event = appMention('how many customers signed up each week?');
    const { res } = await deliver(event);
    expect(res.status).toBe(200);
    expect(handlers.messages).toHaveLength(1);
    const m = handlers.messages[0]!;
    expect(m.thread).toEqual(thread('C0GROWTH', event.ts));
    expect(m.user).toEqual({ platform: 'slack', workspace: FAKE_TEAM_ID, user: 'U0ALICE' });
    expect(m.text).toBe('how many customers signed up each week?');
    expect(m.id).toBe(event.ts);
  });

  it("gives the engine the text as typed: Slack's &amp; &lt; &gt; escapes and link wrapping undone", async () => {
    const event = appMention(
      "SELECT * FROM orders WHERE total &gt; 10 AND note &lt;&gt; 'a &amp; b' AND email = '<mailto:x@y.io|x@y.io>' -- <https://docs.example.com|docs> <#C0GROWTH|growth>",
    );
    await deliver(event);
    expect(handlers.messages[0]!.text).toBe(
      "SELECT * FROM orders WHERE total > 10 AND note <> 'a & b' AND email = 'x@y.io' -- docs <#C0GROWTH|growth>",
    );
  });

  it('answers a mention inside an existing thread in that thread', async () => {
    const root = nextTs();
    await deliver(appMention('only Germany', { thread_ts: root }));
    expect(handlers.messages[0]!.thread).toEqual(thread('C0GROWTH', root));
  });

  it('delivers a reply in an active thread without a mention, and ignores inactive threads', async () => {
    const root = nextTs();
    active.add(threadKey(thread('C0GROWTH', root)));
    await deliver(channelMessage('and make it monthly', { thread_ts: root }));
    await deliver(channelMessage('chatting among ourselves', { thread_ts: nextTs() }));
    await deliver(channelMessage('a top-level message'));
    expect(handlers.messages.map((m) => m.text)).toEqual(['and make it monthly']);
    expect(handlers.messages[0]!.thread).toEqual(thread('C0GROWTH', root));
  });

  it('delivers a reply in an active group-DM thread (message.mpim) like one in a channel', async () => {
    const root = nextTs();
    active.add(threadKey(thread('G0GROUPDM', root)));
    await deliver(
      channelMessage('and by month', { channel: 'G0GROUPDM', channel_type: 'mpim', thread_ts: root }),
    );
    expect(handlers.messages.map((m) => [m.text, m.thread])).toEqual([
      ['and by month', thread('G0GROUPDM', root)],
    ]);
  });

  it('does not answer a mention twice when it also arrives as a thread message', async () => {
    const root = nextTs();
    active.add(threadKey(thread('C0GROWTH', root)));
    const mention = appMention('again please', { thread_ts: root });
    await deliver(mention);
    await deliver({ ...channelMessage(mention.text, { thread_ts: root }), ts: mention.ts });
    expect(handlers.messages).toHaveLength(1);
  });

  it('ignores its own messages, other bots, and edits', async () => {
    const root = nextTs();
    active.add(threadKey(thread('C0GROWTH', root)));
    await deliver(ownMessage(root));
    await deliver(channelMessage('beep', { thread_ts: root, bot_id: 'B0OTHER', user: 'U0OTHERBOT' }));
    await deliver(channelMessage('edited', { thread_ts: root, subtype: 'message_changed' }));
    await deliver({ ...appMention('from a bot'), bot_id: 'B0OTHER' });
    expect(handlers.messages).toHaveLength(0);
  });

  it('answers a direct message', async () => {
    const dm = channelMessage('top customers?', { channel: 'D0ALICE', channel_type: 'im' });
    await deliver(dm);
    expect(handlers.messages).toHaveLength(1);
    expect(handlers.messages[0]!.thread).toEqual(thread('D0ALICE', dm.ts));
  });

  it('answers a retried event once (same event_id, X-Slack-Retry-Num: 1)', async () => {
    const event = appMention('count orders');
    const eventId = `Ev${randomUUID().slice(0, 8)}`;
    const first = await deliver(event, { eventId });
    const retry = await deliver(event, { eventId, retryNum: 1 });
    expect([first.res.status, retry.res.status]).toEqual([200, 200]);
    expect(handlers.messages).toHaveLength(1);
  });

  it('refuses a bad signature and a stale timestamp with 401, before any handler', async () => {
    const body = eventCallback(appMention('sneaky'));
    const bad = await postEvent(url, body, { ...sign, signWith: 'not-the-secret' });
    const stale = await postEvent(url, body, { ...sign, timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    await platform.idle();
    expect(bad.status).toBe(401);
    expect(stale.status).toBe(401);
    expect(handlers.messages).toHaveLength(0);
  });

  it('refuses a request stamped more than five minutes in the future; four minutes of clock skew pass', async () => {
    const now = Math.floor(Date.now() / 1000);
    const ahead = await postEvent(url, eventCallback(appMention('from the future')), {
      ...sign,
      timestamp: now + 6 * 60,
    });
    await platform.idle();
    expect(ahead.status).toBe(401);
    expect(handlers.messages).toHaveLength(0);
    expect(logger.warnings.some((l) => /stamped 3\d\d s in the future/.test(l))).toBe(true);

    const skewed = await postEvent(url, eventCallback(appMention('slightly ahead')), {
      ...sign,
      timestamp: now + 4 * 60,
    });
    await platform.idle();
    expect(skewed.status).toBe(200);
    expect(handlers.messages.map((m) => m.text)).toEqual(['slightly ahead']);
  });

  it('acknowledges before the handler finishes', async () => {
    let release!: () => void;
    handlers.gate = new Promise<void>((r) => (release = r));
    const res = await postEvent(url, eventCallback(appMention('slow question')), sign);
    expect(res.status).toBe(200);
    expect(handlers.messages).toHaveLength(0);
    release();
    await platform.idle();
    expect(handlers.messages).toHaveLength(1);
  });

  it('keeps serving after a handler throws', async () => {
    handlers.failNext = true;
    await deliver(appMention('first'));
    await deliver(appMention('second'));
    expect(handlers.messages.map((m) => m.text)).toEqual(['first', 'second']);
    expect(logger.errors.some((e) => e.includes('handler exploded'))).toBe(true);
  });
});

describe('SlackPlatform over HTTP: /threadql', () => {
  it('ask: posts a root message in the channel and delivers the question in its thread', async () => {
    const res = await postSlashCommand(
      url,
      slashCommand('ask top 5 products by revenue', fake.responseUrl()),
      sign,
    );
    await platform.idle();
    expect(res.status).toBe(200);
    const [root] = fake.callsOf('chat.postMessage');
    expect(root!.args.channel).toBe('C0GROWTH');
    expect(root!.args.thread_ts).toBeUndefined();
    expect(root!.args.text).toBe('<@U0ALICE> asked: top 5 products by revenue');
    const m = handlers.messages[0]!;
    // The engine gets the command text verbatim: its chat-command parser owns `ask`, `schema`, `use`.
    expect(m.text).toBe('ask top 5 products by revenue');
    expect(m.thread.channel).toBe('C0GROWTH');
    expect(m.thread.thread).toMatch(/^1700000000\.\d{6}$/);
    expect(m.user.displayName).toBe('alice');
  });

  it('schema: starts a thread and hands the command to the engine', async () => {
    await postSlashCommand(url, slashCommand('schema orders', fake.responseUrl()), sign);
    await platform.idle();
    expect(fake.callsOf('chat.postMessage')[0]!.args.text).toBe('<@U0ALICE> used `/threadql schema orders`');
    expect(handlers.messages[0]!.text).toBe('schema orders');
  });

  it('help: answers privately in the ack, without a thread', async () => {
    const res = await postSlashCommand(url, slashCommand('help', fake.responseUrl()), sign);
    await platform.idle();
    const body = (await res.json()) as { response_type: string; text: string };
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain('/threadql ask <question>');
    expect(body.text).toContain('turns questions into SQL');
    expect(fake.callsOf('chat.postMessage')).toHaveLength(0);
    expect(handlers.messages).toHaveLength(0);
  });

  it('tells the user privately when the bot cannot post in the channel', async () => {
    fake.failNext('chat.postMessage', { error: 'not_in_channel' });
    await postSlashCommand(url, slashCommand('ask anything', fake.responseUrl('r1'), 'C0PRIVATE'), sign);
    await platform.idle();
    expect(handlers.messages).toHaveLength(0);
    expect(fake.responses).toHaveLength(1);
    expect(fake.responses[0]!.body.response_type).toBe('ephemeral');
    expect(String(fake.responses[0]!.body.text)).toContain('/invite @threadql');
  });
});

describe('SlackPlatform over HTTP: replies', () => {
  const t = thread('C0GROWTH', '1699999999.000100');

  it('posts a confirm card as Block Kit in the thread, long SQL split under 3,000 chars per block', async () => {
    const sql = Array.from(
      { length: 300 },
      (_, i) => `  SUM(CASE WHEN week = ${i} THEN amount END) AS w${i},`,
    ).join('\n');
    const posted = await platform.post(t, {
      fallback: 'Confirm: weekly signups',
      parts: [
        { type: 'text', text: 'Counts signups per week & country <this quarter>' },
        { type: 'code', code: `SELECT\n${sql}\nFROM orders`, language: 'sql' },
        { type: 'context', text: 'shop · read · EXPLAIN estimates ~12k rows' },
        {
          type: 'buttons',
          buttons: [
            { action: 'run', label: 'Run', style: 'primary', value: 'tok-1' },
            { action: 'edit', label: 'Edit SQL', value: 'tok-1' },
            { action: 'cancel', label: 'Cancel', style: 'danger', value: 'tok-1' },
          ],
        },
      ],
    });
    const [call] = fake.callsOf('chat.postMessage');
    expect(posted).toEqual({ thread: t, messageId: expect.stringMatching(/^1700000000\.\d{6}$/) });
    expect(call!.token).toBe('xoxb-test-token');
    expect(call!.args.channel).toBe('C0GROWTH');
    expect(call!.args.thread_ts).toBe(t.thread);
    expect(call!.args.text).toBe('Confirm: weekly signups');
    const blocks = call!.args.blocks as {
      type: string;
      text?: { text: string };
      elements?: { action_id: string }[];
    }[];
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(blocks[0]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: 'Counts signups per week &amp; country &lt;this quarter&gt;' },
    });
    const code = blocks.filter((b) => b.text?.text.startsWith('```'));
    expect(code.length).toBeGreaterThan(1);
    for (const b of code) expect(b.text!.text.length).toBeLessThanOrEqual(3000);
    expect(blocks.at(-1)!.elements!.map((e) => e.action_id)).toEqual([
      'threadql:run',
      'threadql:edit',
      'threadql:cancel',
    ]);
  });

  it('updates a posted message in place with chat.update', async () => {
    await platform.update(
      { thread: t, messageId: '1700000000.000777' },
      { fallback: 'Reading schema…', parts: [{ type: 'text', text: 'Reading schema…' }] },
    );
    const [call] = fake.callsOf('chat.update');
    expect(call!.args).toMatchObject({
      channel: 'C0GROWTH',
      ts: '1700000000.000777',
      text: 'Reading schema…',
    });
  });

  it('posts an ephemeral message to one user in the thread', async () => {
    await platform.postEphemeral(
      t,
      { platform: 'slack', workspace: FAKE_TEAM_ID, user: 'U0BOB' },
      'You cannot approve your own change.',
    );
    const [call] = fake.callsOf('chat.postEphemeral');
    expect(call!.args).toMatchObject({
      channel: 'C0GROWTH',
      user: 'U0BOB',
      thread_ts: t.thread,
      text: 'You cannot approve your own change.',
    });
  });

  it('uploads an image and a file into the thread with the three-step upload', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]);
    const csv = Buffer.from('week,signups\n2024-01-01,12\n');
    await platform.post(t, {
      fallback: 'result',
      parts: [
        { type: 'context', text: '2 rows' },
        {
          type: 'image',
          image: { filename: 'chart.png', mimeType: 'image/png', data: png, title: 'Signups' },
          alt: 'line chart of signups',
        },
        { type: 'file', file: { filename: 'result.csv', mimeType: 'text/csv', data: csv } },
      ],
    });
    const urls = fake.callsOf('files.getUploadURLExternal');
    expect(urls.map((c) => [c.args.filename, Number(c.args.length)])).toEqual(
      expect.arrayContaining([
        ['chart.png', png.length],
        ['result.csv', csv.length],
      ]),
    );
    expect(
      fake.uploads.map((u) => [u.filename, u.data.equals(u.filename === 'chart.png' ? png : csv)]),
    ).toEqual(
      expect.arrayContaining([
        ['chart.png', true],
        ['result.csv', true],
      ]),
    );
    const [complete] = fake.callsOf('files.completeUploadExternal');
    expect(complete!.args.channel_id).toBe('C0GROWTH');
    expect(complete!.args.thread_ts).toBe(t.thread);
    const files = complete!.args.files as { id: string; title: string }[];
    expect(files.map((f) => f.id).sort()).toEqual(fake.uploads.map((u) => u.fileId).sort());
    expect(files.map((f) => f.title)).toEqual(expect.arrayContaining(['Signups', 'result.csv']));
  });

  it('uploads files with a comment through upload()', async () => {
    await platform.upload(
      t,
      [{ filename: 'erd.png', mimeType: 'image/png', data: Buffer.from('png') }],
      'Schema around orders',
    );
    const [complete] = fake.callsOf('files.completeUploadExternal');
    expect(complete!.args.initial_comment).toBe('Schema around orders');
    expect(fake.uploads).toHaveLength(1);
  });
});

describe('SlackPlatform over HTTP: buttons and modals', () => {
  it('turns a button click into a ButtonClick, opens the Edit SQL modal, and maps its submit', async () => {
    const root = nextTs();
    const cardTs = nextTs();
    const res = await postInteraction(
      url,
      blockActions({
        channel: 'C0GROWTH',
        messageTs: cardTs,
        threadTs: root,
        action: 'edit',
        value: 'tok-9',
        user: 'U0BOB',
      }),
      sign,
    );
    await platform.idle();
    expect(res.status).toBe(200);
    const click = handlers.clicks[0]!;
    expect(click).toMatchObject({
      thread: thread('C0GROWTH', root),
      message: { thread: thread('C0GROWTH', root), messageId: cardTs },
      user: { platform: 'slack', workspace: FAKE_TEAM_ID, user: 'U0BOB' },
      action: 'edit',
      value: 'tok-9',
    });

    await platform.openModal(click.trigger, {
      id: 'edit_sql',
      title: 'Edit SQL',
      submitLabel: 'Run',
      value: 'tok-9',
      fields: [{ id: 'sql', label: 'SQL', value: 'SELECT 1', multiline: true }],
    });
    const [open] = fake.callsOf('views.open');
    const view = open!.args.view as {
      callback_id: string;
      private_metadata: string;
      blocks: { element: { type: string; multiline: boolean; initial_value: string } }[];
    };
    expect(open!.args.trigger_id).toBe((click.trigger as { triggerId: string }).triggerId);
    expect(view.callback_id).toBe('threadql:edit_sql');
    expect(view.blocks[0]!.element).toMatchObject({
      type: 'plain_text_input',
      multiline: true,
      initial_value: 'SELECT 1',
    });

    const submitRes = await postInteraction(url, viewSubmission(view, { sql: 'SELECT 2' }, 'U0BOB'), sign);
    await platform.idle();
    expect(submitRes.status).toBe(200);
    expect(handlers.submits[0]).toMatchObject({
      thread: thread('C0GROWTH', root),
      user: { platform: 'slack', workspace: FAKE_TEAM_ID, user: 'U0BOB' },
      modalId: 'edit_sql',
      value: 'tok-9',
      fields: { sql: 'SELECT 2' },
    });
  });

  it("a click on Slack's native feedback buttons reaches onButton as feedback_up / feedback_down with the value", async () => {
    const root = nextTs();
    const resultTs = nextTs();
    const click = (value: string) => {
      const payload = blockActions({
        channel: 'C0GROWTH',
        messageTs: resultTs,
        threadTs: root,
        action: 'feedback',
        value,
      });
      // What Slack sends for a feedback_buttons element: its action_id, the clicked side's value.
      payload.actions = [
        {
          type: 'feedback_buttons',
          action_id: 'threadql:feedback',
          block_id: 'fb',
          value,
          action_ts: `${Date.now() / 1000}`,
          text: { type: 'plain_text', text: '👎' },
        },
      ];
      return postInteraction(url, payload, sign);
    };
    expect((await click('feedback_down:slack:T0FAKE:C0GROWTH:1.2:4')).status).toBe(200);
    expect((await click('feedback_up:slack:T0FAKE:C0GROWTH:1.2:4')).status).toBe(200);
    expect((await click('something_else:1')).status).toBe(200);
    await platform.idle();
    expect(handlers.clicks.map((c) => [c.action, c.value])).toEqual([
      ['feedback_down', 'slack:T0FAKE:C0GROWTH:1.2:4'],
      ['feedback_up', 'slack:T0FAKE:C0GROWTH:1.2:4'],
    ]);
    expect(handlers.clicks[0]!.message).toEqual({ thread: thread('C0GROWTH', root), messageId: resultTs });
  });

  it('fills the display name (users.info) and approver-group roles on clicks, messages, commands and submits', async () => {
    const root = nextTs();
    await postInteraction(
      url,
      blockActions({
        channel: 'C0GROWTH',
        messageTs: nextTs(),
        threadTs: root,
        action: 'run',
        value: 'tok-d',
        user: 'U0DANA',
      }),
      sign,
    );
    await deliver(appMention('who am I?', { user: 'U0DANA' }));
    await postInteraction(
      url,
      viewSubmission(
        {
          callback_id: 'threadql:edit_sql',
          private_metadata: JSON.stringify({ v: 'tok-d', t: threadKey(thread('C0GROWTH', root)) }),
        },
        { sql: 'SELECT 1' },
        'U0DANA',
      ),
      sign,
    );
    await platform.idle();
    const dana = {
      platform: 'slack',
      workspace: FAKE_TEAM_ID,
      user: 'U0DANA',
      displayName: 'Dana',
      roles: ['S0DBA'],
    };
    expect(handlers.clicks[0]!.user).toEqual(dana);
    expect(handlers.messages[0]!.user).toEqual(dana);
    expect(handlers.submits[0]!.user).toEqual(dana);
    // Looked up once for all three: both lookups are cached.
    expect(fake.callsOf('users.info').filter((c) => c.args.user === 'U0DANA')).toHaveLength(1);
    expect(fake.callsOf('usergroups.users.list').length).toBeLessThanOrEqual(1);
  });

  it("keeps the payload's name when Slack refuses users.info (no users:read), and says which scope is missing", async () => {
    fake.failNext('users.info', { error: 'missing_scope' });
    await postInteraction(
      url,
      blockActions({
        channel: 'C0GROWTH',
        messageTs: nextTs(),
        threadTs: nextTs(),
        action: 'cancel',
        value: 'tok-n',
        user: 'U0NOSCOPE',
      }),
      sign,
    );
    await platform.idle();
    expect(handlers.clicks[0]!.user).toEqual({
      platform: 'slack',
      workspace: FAKE_TEAM_ID,
      user: 'U0NOSCOPE',
      displayName: 'alice',
    });
    expect(logger.warnings.some((w) => w.includes('missing_scope') && w.includes('users:read'))).toBe(true);
  });

  it('refuses to open a modal without a Slack trigger', async () => {
    await expect(
      platform.openModal(undefined, { id: 'x', title: 'x', submitLabel: 'x', value: 'v', fields: [] }),
    ).rejects.toBeInstanceOf(PlatformError);
  });
});

describe('SlackPlatform over HTTP: Slack API errors', () => {
  const t = thread('C0GONE', '1699999999.000200');
  const reply = { fallback: 'hi', parts: [{ type: 'text' as const, text: 'hi' }] };

  it('channel_not_found becomes a PlatformError that says what to do, and the adapter keeps serving', async () => {
    fake.failNext('chat.postMessage', { error: 'channel_not_found' });
    const error = (await platform.post(t, reply).catch((e: unknown) => e)) as PlatformError;
    expect(error).toBeInstanceOf(PlatformError);
    expect(error.code).toBe('platform_failed');
    expect(error.message).toBe('Slack refused chat.postMessage: channel_not_found');
    expect(error.hint).toContain('invite');
    expect(error.detail).toMatchObject({ method: 'chat.postMessage', slackError: 'channel_not_found' });
    expect(error.message).not.toContain('xoxb');
    await expect(platform.post(t, reply)).resolves.toMatchObject({ thread: t });
  });

  it('ratelimited (HTTP 429, Retry-After) with retries off becomes a PlatformError', async () => {
    fake.failNext('chat.update', { error: 'ratelimited', retryAfter: 0 });
    const error = (await platform
      .update({ thread: t, messageId: '1.2' }, reply)
      .catch((e: unknown) => e)) as PlatformError;
    expect(error).toBeInstanceOf(PlatformError);
    expect(error.detail).toMatchObject({ slackError: 'ratelimited', retryAfter: 0 });
    expect(error.hint).toContain('rate-limiting');
  });

  it('with retries on, the WebClient waits Retry-After and retries by itself', async () => {
    const retrying = new SlackPlatform({
      botToken: 'xoxb-test-token',
      signingSecret: SECRET,
      port: 0,
      host: '127.0.0.1',
      apiUrl: fake.apiUrl,
      retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 20 },
      isActiveThread: async () => false,
      logger: new CapturingLogger(),
    });
    await retrying.start(new RecordingHandlers());
    try {
      fake.failNext('chat.postMessage', { error: 'ratelimited', retryAfter: 0 });
      await expect(retrying.post(t, reply)).resolves.toMatchObject({ thread: t });
      expect(fake.callsOf('chat.postMessage')).toHaveLength(2);
    } finally {
      await retrying.stop();
    }
  });

  it('an invalid bot token fails start() with a PlatformError naming the fix', async () => {
    fake.failNext('auth.test', { error: 'invalid_auth' });
    const broken = new SlackPlatform({
      botToken: 'xoxb-revoked',
      signingSecret: SECRET,
      port: 0,
      apiUrl: fake.apiUrl,
      retryConfig: { retries: 0 },
      isActiveThread: async () => false,
      logger: new CapturingLogger(),
    });
    const error = (await broken.start(new RecordingHandlers()).catch((e: unknown) => e)) as PlatformError;
    expect(error).toBeInstanceOf(PlatformError);
    expect(error.hint).toContain('SLACK_BOT_TOKEN');
  });

  it('rejects options that cannot work, naming the missing setting', () => {
    expect(() => new SlackPlatform({ botToken: 'xoxb-x', isActiveThread: async () => false })).toThrow(
      /SLACK_SIGNING_SECRET/,
    );
    expect(
      () => new SlackPlatform({ botToken: 'xoxb-x', mode: 'socket', isActiveThread: async () => false }),
    ).toThrow(/SLACK_APP_TOKEN/);
  });
});
