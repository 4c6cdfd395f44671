import type { ThreadRef } from '../../core/conversation/chat-platform.ts';
import { threadKey } from '../../core/conversation/chat-platform.ts';
import { DiscordPlatform } from '../../bot/discord/discord-platform.ts';
import { FakeDiscord } from '../fakes/fake-discord.ts';
import { RecordingHandlers } from './recording-handlers.ts';

let fake: FakeDiscord;
let platform: DiscordPlatform;
const handlers = new RecordingHandlers();
/** Stands in for the engine's session store: the threads with a live QuerySession. */
const sessions = new Set<string>();
const asked: ThreadRef[] = [];

beforeAll(async () => {
  fake = await FakeDiscord.start();
  platform = new DiscordPlatform({
    token: fake.token,
    apiUrl: fake.apiUrl,
    commands: { mode: 'none', guildIds: [] },
    rest: { retries: 0 },
    isActiveThread: (ref) => {
      asked.push(ref);
      return sessions.has(threadKey(ref));
    },
  });
  await platform.start(handlers);
});

afterAll(async () => {
  await platform?.stop();
  await fake?.close();
});

test('the injected isActiveThread decides which threads continue without a mention', async () => {
  const alice = fake.user('alice');
  const live = fake.userThread(alice, 'a live session');
  const stale = fake.userThread(alice, 'an archived session');
  const liveRef: ThreadRef = {
    platform: 'discord',
    workspace: fake.guildId,
    channel: fake.channelId,
    thread: live,
  };
  sessions.add(threadKey(liveRef));

  fake.userMessage({ author: alice, content: 'ignored: no session here', channelId: stale });
  const kept = fake.userMessage({ author: alice, content: 'and by month?', channelId: live });
  await handlers.until(() => handlers.messages.some((m) => m.id === kept.id), 'the live follow-up');
  await platform.idle();

  expect(handlers.messages.map((m) => m.text)).toEqual(['and by month?']);
  expect(handlers.messages[0]!.thread).toEqual(liveRef);
  expect(asked.map((r) => r.thread).sort()).toEqual([live, stale].sort());
});
