import { DiscordPlatform } from '../../bot/discord/discord-platform.ts';
import { FakeDiscord, type FakeUser } from '../fakes/fake-discord.ts';
import { RecordingHandlers } from './recording-handlers.ts';

let fake: FakeDiscord;
let platform: DiscordPlatform;
let handlers: RecordingHandlers;
let alice: FakeUser;

beforeAll(async () => {
  fake = await FakeDiscord.start();
  alice = fake.user('alice');
  handlers = new RecordingHandlers();
  platform = new DiscordPlatform({
    token: fake.token,
    applicationId: fake.applicationId,
    apiUrl: fake.apiUrl,
    commands: { mode: 'guild', guildIds: [fake.guildId] },
    rest: { retries: 0 },
  });
  await platform.start(handlers);
});

afterAll(async () => {
  await platform?.stop();
  await fake?.close();
});

test('start: identifies with the minimal intents and registers the slash commands per guild', () => {
  const identify = fake.gateway.payloads.find((p) => p.direction === 'from-client' && p.op === 2);
  // Guilds (1) | GuildMessages (512) | DirectMessages (4096) | MessageContent (32768)
  expect((identify?.d as { intents: number }).intents).toBe(1 | 512 | 4096 | 32768);
  const puts = fake.callsTo('PUT', /\/commands$/);
  expect(puts.map((c) => c.path)).toEqual([
    `/applications/${fake.applicationId}/guilds/${fake.guildId}/commands`,
  ]);
  expect(puts[0]!.body.map((c: { name: string }) => c.name)).toEqual(['ask', 'schema', 'help']);
  expect(puts[0]!.authorized).toBe(true);
});

test('a mention in a channel starts a thread on that message and the message carries the thread ref', async () => {
  const sent = fake.userMessage({
    author: alice,
    content: 'how many customers signed up each week?',
    mentionBot: true,
  });
  await handlers.until(() => handlers.messages.some((m) => m.id === sent.id), 'the mention');
  const incoming = handlers.messages.find((m) => m.id === sent.id)!;

  const start = fake.callsTo('POST', new RegExp(`^/channels/${fake.channelId}/messages/${sent.id}/threads$`));
  expect(start).toHaveLength(1);
  expect(start[0]!.body.name).toBe('how many customers signed up each week?');
  expect(incoming.thread).toEqual({
    platform: 'discord',
    workspace: fake.guildId,
    channel: fake.channelId,
    thread: sent.id,
  });
  expect(incoming.text).toBe('how many customers signed up each week?');
  expect(incoming.user).toMatchObject({
    platform: 'discord',
    workspace: fake.guildId,
    user: alice.id,
    displayName: 'alice',
  });
});

test('a follow-up in a thread threadql started continues the session without a mention', async () => {
  const root = fake.userMessage({ author: alice, content: 'signups by country', mentionBot: true });
  await handlers.until(() => handlers.messages.some((m) => m.id === root.id), 'the mention');
  const thread = handlers.messages.find((m) => m.id === root.id)!.thread;

  const followUp = fake.userMessage({
    author: alice,
    content: 'only Germany, and make it monthly',
    channelId: thread.thread,
  });
  await handlers.until(() => handlers.messages.some((m) => m.id === followUp.id), 'the follow-up');
  const incoming = handlers.messages.find((m) => m.id === followUp.id)!;
  expect(incoming.thread).toEqual(thread);
  expect(incoming.text).toBe('only Germany, and make it monthly');
  // No second thread: the follow-up stays in the first one.
  expect(
    fake.callsTo('POST', /\/threads$/).filter((c) => c.path.includes(followUp.id as string)),
  ).toHaveLength(0);
});

test('ignored: channel chatter without a mention, other threads, other bots and its own messages', async () => {
  const before = handlers.messages.length;
  const otherThread = fake.userThread(alice, 'lunch plans');
  const bot = { ...fake.user('otherbot'), bot: true };
  fake.userMessage({ author: alice, content: 'no mention here' });
  fake.userMessage({ author: alice, content: 'pizza?', channelId: otherThread });
  fake.userMessage({ author: bot, content: 'I am a bot', mentionBot: true });
  await platform.post(
    { platform: 'discord', workspace: fake.guildId, channel: fake.channelId, thread: fake.channelId },
    {
      parts: [{ type: 'text', text: `<@${fake.botUser.id}> talking to myself` }],
      fallback: 'self',
    },
  );
  // A marker message after the noise: once it arrives, everything before it was seen and dropped.
  const marker = fake.userMessage({ author: alice, content: 'marker', mentionBot: true });
  await handlers.until(() => handlers.messages.some((m) => m.id === marker.id), 'the marker');
  await platform.idle();
  expect(handlers.messages.slice(before).map((m) => m.text)).toEqual(['marker']);
});

test('a DM is its own thread in workspace @me', async () => {
  const dm = fake.dmChannel(alice);
  const sent = fake.userMessage({ author: alice, content: 'what tables are there?', channelId: dm });
  await handlers.until(() => handlers.messages.some((m) => m.id === sent.id), 'the DM');
  const incoming = handlers.messages.find((m) => m.id === sent.id)!;
  expect(incoming.thread).toEqual({ platform: 'discord', workspace: '@me', channel: dm, thread: dm });
  expect(incoming.user).toMatchObject({ workspace: '@me', user: alice.id });

  const posted = await platform.post(incoming.thread, {
    parts: [{ type: 'text', text: 'orders, customers' }],
    fallback: 'x',
  });
  expect(fake.messages.get(posted.messageId)).toMatchObject({ channel_id: dm, content: 'orders, customers' });
});

test('/ask is deferred at once, gets a thread on its reply, and arrives as a message in that thread', async () => {
  const interaction = fake.slashCommand({
    name: 'ask',
    options: { question: 'top 5 products by revenue' },
    user: alice,
  });
  await handlers.until(() => handlers.messages.some((m) => m.id === interaction.id), 'the command');
  const incoming = handlers.messages.find((m) => m.id === interaction.id)!;

  const callbacks = fake.callsTo('POST', new RegExp(`^/interactions/${interaction.id}/`));
  expect(callbacks).toHaveLength(1);
  expect(callbacks[0]!.body.type).toBe(5); // DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
  expect(callbacks[0]!.authorized).toBe(false);
  const edit = fake.callsTo('PATCH', /\/messages\/@original$/).at(-1)!;
  expect(edit.body.content).toBe(`<@${alice.id}> asked: top 5 products by revenue`);
  expect(edit.body.allowed_mentions).toEqual({ parse: [] });

  const original = interaction.originalId!;
  expect(fake.callsTo('POST', new RegExp(`/messages/${original}/threads$`))).toHaveLength(1);
  expect(incoming.thread).toEqual({
    platform: 'discord',
    workspace: fake.guildId,
    channel: fake.channelId,
    thread: original,
  });
  expect(incoming.text).toBe('ask top 5 products by revenue');
  expect(incoming.user.user).toBe(alice.id);
});

test('/schema and /help become the words the engine parses', async () => {
  const schema = fake.slashCommand({ name: 'schema', options: { focus: 'orders' }, user: alice });
  const help = fake.slashCommand({ name: 'help', user: alice });
  await handlers.until(
    () => [schema.id, help.id].every((id) => handlers.messages.some((m) => m.id === id)),
    'both commands',
  );
  expect(handlers.messages.find((m) => m.id === schema.id)!.text).toBe('schema orders');
  expect(handlers.messages.find((m) => m.id === help.id)!.text).toBe('help');
});

test('a slash command inside a thread stays in that thread', async () => {
  const root = fake.userMessage({ author: alice, content: 'start', mentionBot: true });
  await handlers.until(() => handlers.messages.some((m) => m.id === root.id), 'the mention');
  const thread = handlers.messages.find((m) => m.id === root.id)!.thread;
  const threadsBefore = fake.callsTo('POST', /\/threads$/).length;
  const interaction = fake.slashCommand({
    name: 'ask',
    options: { question: 'and by month?' },
    user: alice,
    channelId: thread.thread,
  });
  await handlers.until(() => handlers.messages.some((m) => m.id === interaction.id), 'the command');
  expect(handlers.messages.find((m) => m.id === interaction.id)!.thread).toEqual(thread);
  expect(fake.callsTo('POST', /\/threads$/)).toHaveLength(threadsBefore);
});

test('when a thread cannot be started on the command reply, the command gets a thread on the channel', async () => {
  fake.failNext('POST', /^\/channels\/\d+\/messages\/\d+\/threads$/, {
    status: 403,
    code: 50013,
    message: 'Missing Permissions',
  });
  const interaction = fake.slashCommand({
    name: 'ask',
    options: { question: 'revenue by month' },
    user: alice,
  });
  await handlers.until(() => handlers.messages.some((m) => m.id === interaction.id), 'the command');
  const created = fake.callsTo('POST', new RegExp(`^/channels/${fake.channelId}/threads$`)).at(-1)!;
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ name: 'revenue by month', type: 11 });
  const thread = handlers.messages.find((m) => m.id === interaction.id)!.thread;
  expect(fake.channels.get(thread.thread)).toMatchObject({ type: 11, parent_id: fake.channelId });
});
