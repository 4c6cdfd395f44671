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
