import type { QueryResult } from '../../core/db/database-dialect.ts';
import type { Reply, ThreadRef } from '../../core/conversation/chat-platform.ts';
import { PlatformError } from '../../core/errors.ts';
import { DiscordPlatform } from '../../bot/discord/discord-platform.ts';
import { FakeDiscord } from '../fakes/fake-discord.ts';
import { RecordingHandlers } from './recording-handlers.ts';

let fake: FakeDiscord;
let platform: DiscordPlatform;
let thread: ThreadRef;

function result(rows: number, wide = false): QueryResult {
  return {
    columns: [
      { name: 'week', type: 'date', kind: 'date' },
      { name: 'country', type: 'text', kind: 'string' },
      { name: 'signups', type: 'int8', kind: 'number' },
    ],
    rows: Array.from({ length: rows }, (_, i) => [
      `2026-${String((i % 12) + 1).padStart(2, '0')}-01`,
      wide ? `Country number ${i} with a rather long name indeed` : ['DE', 'FR', 'US'][i % 3],
      1000 + i,
    ]),
    rowCount: rows,
    truncated: false,
    durationMs: 12,
  };
}

const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

beforeAll(async () => {
  fake = await FakeDiscord.start();
  platform = new DiscordPlatform({
    token: fake.token,
    applicationId: fake.applicationId,
    apiUrl: fake.apiUrl,
    commands: { mode: 'none', guildIds: [] },
    rest: { retries: 0 },
  });
  const handlers = new RecordingHandlers();
  await platform.start(handlers);
  const alice = fake.user('alice');
  const root = fake.userMessage({ author: alice, content: 'results please', mentionBot: true });
  await handlers.until(() => handlers.messages.length === 1, 'the mention');
  thread = handlers.messages[0]!.thread;
  expect(thread.thread).toBe(root.id);
});

afterAll(async () => {
  await platform?.stop();
  await fake?.close();
});

test('no slash commands are registered when discord.commands is none', () => {
  expect(fake.callsTo('PUT', /commands$/)).toHaveLength(0);
});

test('a result: titled table and provenance in the content, feedback buttons, CSV and chart PNG as multipart files', async () => {
  const reply: Reply = {
    parts: [
      { type: 'table', result: result(3), previewRows: 20, title: 'signups per week' },
      { type: 'context', text: 'shop · 3 rows · 12 ms' },
      {
        type: 'buttons',
        buttons: [
          { action: 'feedback_up', label: '👍', value: 'session1:1' },
          { action: 'feedback_down', label: '👎', value: 'session1:1' },
        ],
      },
      {
        type: 'file',
        file: { filename: 'signups.csv', mimeType: 'text/csv', data: Buffer.from('week,country,signups\n') },
      },
      {
        type: 'image',
        image: { filename: 'chart.png', mimeType: 'image/png', data: png },
        alt: 'Signups per week',
      },
    ],
    fallback: '3 rows',
  };
  const posted = await platform.post(thread, reply);
  const call = fake.callsTo('POST', new RegExp(`^/channels/${thread.thread}/messages$`)).at(-1)!;
  expect(call.multipart).toBe(true);
  expect(call.files.map((f) => [f.field, f.filename, f.contentType, f.data.length])).toEqual([
    ['files[0]', 'signups.csv', 'text/csv', 21],
    ['files[1]', 'chart.png', 'image/png', png.length],
  ]);
  expect(call.files[1]!.data.equals(png)).toBe(true);
  expect(call.body.attachments).toEqual([
    { id: '0', filename: 'signups.csv' },
    { id: '1', filename: 'chart.png', description: 'Signups per week' },
  ]);
  const content: string = call.body.content;
  expect(content.startsWith('**signups per week**\n```\nweek')).toBe(true);
  expect(content).toContain('```\n3 rows\n');
  expect(call.body.embeds).toEqual([]);
  expect(call.body.components[0].components.map((b: { custom_id: string }) => b.custom_id)).toEqual([
    'threadql:feedback_up:session1:1',
    'threadql:feedback_down:session1:1',
  ]);
  expect(content).toContain('│ DE');
  expect(content).toContain('\n-# shop · 3 rows · 12 ms');
  expect(call.body.allowed_mentions).toEqual({ parse: [] });
  expect(
    fake.messages.get(posted.messageId)!.attachments.map((a: { filename: string }) => a.filename),
  ).toEqual(['signups.csv', 'chart.png']);
});

test('upload sends files with a comment, ten per message', async () => {
  const files = Array.from({ length: 12 }, (_, i) => ({
    filename: `part ${i + 1}.csv`,
    mimeType: 'text/csv',
    data: Buffer.from(`row ${i}\n`),
  }));
  const before = fake.callsTo('POST', new RegExp(`^/channels/${thread.thread}/messages$`)).length;
  await platform.upload(thread, files, 'Full result as CSV: 12 parts.');
  const calls = fake.callsTo('POST', new RegExp(`^/channels/${thread.thread}/messages$`)).slice(before);
  expect(calls.map((c) => c.files.length)).toEqual([10, 2]);
  expect(calls.every((c) => c.multipart)).toBe(true);
  expect(calls[0]!.body.content).toBe('Full result as CSV: 12 parts.');
  expect(calls[0]!.files[0]!.filename).toBe('part_1.csv');
  expect(calls[1]!.files[1]!.data.toString()).toBe('row 11\n');
});

test('update edits the message in place: the card turns into a plain message without buttons', async () => {
  const posted = await platform.post(thread, {
    parts: [
      { type: 'code', code: 'SELECT 1', language: 'sql' },
      { type: 'buttons', buttons: [{ action: 'run', label: 'Run', value: 't1' }] },
    ],
    fallback: 'card',
  });
  await platform.update(posted, { parts: [{ type: 'text', text: 'Cancelled.' }], fallback: 'Cancelled.' });
  const edit = fake
    .callsTo('PATCH', new RegExp(`^/channels/${thread.thread}/messages/${posted.messageId}$`))
    .at(-1)!;
  expect(edit.body).toMatchObject({ content: 'Cancelled.', embeds: [], components: [], attachments: [] });
  expect(fake.messages.get(posted.messageId)).toMatchObject({
    content: 'Cancelled.',
    embeds: [],
    components: [],
  });
});

test('message limits: long text, a wide 100-row table and 10,000 characters of SQL are cut with a visible note', async () => {
  const long = await platform.post(thread, {
    parts: [{ type: 'text', text: 'x'.repeat(5000) }],
    fallback: 'long',
  });
  const longContent: string = fake.messages.get(long.messageId)!.content;
  expect(longContent.length).toBeLessThanOrEqual(2000);
  expect(longContent).toMatch(/cut to fit Discord's 2,000-character message limit\*$/);

  const table = await platform.post(thread, {
    parts: [{ type: 'table', result: result(100, true), previewRows: 100 }],
    fallback: 't',
  });
  const tableContent: string = fake.messages.get(table.messageId)!.content;
  expect(tableContent.length).toBeLessThanOrEqual(2000);
  expect(tableContent).toMatch(/```\nshowing \d+ of 100 rows$/);
  expect(tableContent.split('\n').every((line) => line.length <= 72)).toBe(true);

  const sql = Array.from({ length: 400 }, (_, i) => `  SELECT ${i} AS column_number_${i} UNION ALL`).join(
    '\n',
  );
  const card = await platform.post(thread, {
    parts: [
      { type: 'code', code: sql, language: 'sql' },
      { type: 'buttons', buttons: [{ action: 'run', label: 'Run', value: 't' }] },
    ],
    fallback: 'c',
  });
  const description: string = fake.messages.get(card.messageId)!.embeds[0].description;
  expect(description.length).toBeLessThanOrEqual(4096);
  expect(description.startsWith('```sql\n  SELECT 0')).toBe(true);
  expect(description).toMatch(
    /\n```\n\*… \d+ more lines not shown\*\n\*… cut to fit Discord's 4,096-character embed limit\*$/,
  );
});

test('Discord refusing a call surfaces as a PlatformError with a clear, token-free message', async () => {
  fake.failNext('POST', /^\/channels\/\d+\/messages$/, {
    status: 403,
    code: 50013,
    message: 'Missing Permissions',
  });
  const error = await platform
    .post(thread, { parts: [{ type: 'text', text: 'hi' }], fallback: 'hi' })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(PlatformError);
  const e = error as PlatformError;
  expect(e.code).toBe('platform_failed');
  expect(e.message).toBe('Discord refused to post a message: Missing Permissions (HTTP 403, code 50013).');
  expect(e.hint).toMatch(/Send Messages in Threads/);
  expect(JSON.stringify({ m: e.message, d: e.detail })).not.toContain(fake.token);
});

test('a 429 is waited out by discord.js and retried: the message still arrives', async () => {
  fake.failNext('POST', /^\/channels\/\d+\/messages$/, { status: 429, retryAfter: 0.05 });
  const before = fake.callsTo('POST', /^\/channels\/\d+\/messages$/).length;
  const posted = await platform.post(thread, {
    parts: [{ type: 'text', text: 'after the limit' }],
    fallback: 'x',
  });
  const calls = fake.callsTo('POST', /^\/channels\/\d+\/messages$/).slice(before);
  expect(calls.map((c) => c.status)).toEqual([429, 200]);
  expect(fake.messages.get(posted.messageId)!.content).toBe('after the limit');
});

test('with rejectOnRateLimit, a 429 becomes a PlatformError naming the rate limit', async () => {
  // Its own fake: the fake gateway holds one bot session, as Discord does per token and shard.
  const own = await FakeDiscord.start();
  const strict = new DiscordPlatform({
    token: own.token,
    apiUrl: own.apiUrl,
    commands: { mode: 'none', guildIds: [] },
    rest: { retries: 0, rejectOnRateLimit: () => true },
  });
  try {
    await strict.start(new RecordingHandlers());
    const where: ThreadRef = {
      platform: 'discord',
      workspace: own.guildId,
      channel: own.channelId,
      thread: own.channelId,
    };
    own.failNext('POST', /^\/channels\/\d+\/messages$/, { status: 429, retryAfter: 2 });
    const error = await strict
      .post(where, { parts: [{ type: 'text', text: 'x' }], fallback: 'x' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlatformError);
    expect((error as PlatformError).message).toBe(
      'Discord rate limit hit while trying to post a message; retry in 2s.',
    );
  } finally {
    await strict.stop();
    await own.close();
  }
});
