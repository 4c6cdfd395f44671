import { DiscordPlatform } from '../../bot/discord/discord-platform.ts';
import { FakeDiscord, type FakeUser } from '../fakes/fake-discord.ts';
import { RecordingHandlers } from './recording-handlers.ts';

let fake: FakeDiscord;
let platform: DiscordPlatform;
let handlers: RecordingHandlers;
let alice: FakeUser;

beforeAll(async () => {
  // A short heartbeat interval so heartbeats and their ACKs happen within the test.
  fake = await FakeDiscord.start({ heartbeatIntervalMs: 100 });
  alice = fake.user('alice');
  handlers = new RecordingHandlers();
  platform = new DiscordPlatform({
    token: fake.token,
    apiUrl: fake.apiUrl,
    commands: { mode: 'none', guildIds: [] },
    rest: { retries: 0 },
  });
  await platform.start(handlers);
});

afterAll(async () => {
  await platform?.stop();
  await fake?.close();
});

test('the gateway: HELLO, IDENTIFY with the token, READY with the application, then GUILD_CREATE', () => {
  const wire = fake.gateway.payloads;
  expect(wire[0]).toMatchObject({ direction: 'to-client', op: 10 });
  const identify = wire.find((p) => p.direction === 'from-client' && p.op === 2)!;
  expect((identify.d as { token: string }).token).toBe(fake.token);
  const dispatches = wire.filter((p) => p.direction === 'to-client' && p.op === 0).map((p) => [p.t, p.s]);
  expect(dispatches.slice(0, 2)).toEqual([
    ['READY', 1],
    ['GUILD_CREATE', 2],
  ]);
  expect(platform.client.application?.id).toBe(fake.applicationId);
});

test('heartbeats carry the last sequence number and are ACKed', async () => {
  await fake.waitFor(
    () => fake.gateway.payloads.filter((p) => p.op === 11).length >= 2,
    'two heartbeat ACKs',
  );
  const beats = fake.gateway.payloads.filter((p) => p.direction === 'from-client' && p.op === 1);
  expect(beats.length).toBeGreaterThanOrEqual(2);
  expect(beats.at(-1)!.d).toBeGreaterThanOrEqual(2);
  expect(platform.client.ws.ping).toBeGreaterThanOrEqual(0);
});

test('a dropped connection mid-session is RESUMEd: a message sent while disconnected is delivered once', async () => {
  const root = fake.userMessage({ author: alice, content: 'signups by week', mentionBot: true });
  await handlers.until(() => handlers.messages.some((m) => m.id === root.id), 'the mention');
  const thread = handlers.messages.find((m) => m.id === root.id)!.thread;
  const sessionId = fake.gateway.sessionId;

  // 4000 "unknown error": resumable. The session stops being live at once, so the message below waits in the log
  // whether or not the client has reconnected by the time the old socket's close is seen (it may, under load).
  const dropped = fake.gateway.disconnect(4000);
  const missed = fake.userMessage({ author: alice, content: 'only Germany', channelId: thread.thread });
  await dropped;

  await handlers.until(() => handlers.messages.some((m) => m.id === missed.id), 'the missed follow-up');
  await fake.waitFor(() => fake.gateway.payloads.some((p) => p.t === 'RESUMED'), 'RESUMED');
  const resume = fake.gateway.payloads.find((p) => p.direction === 'from-client' && p.op === 6)!;
  const d = resume.d as { token: string; session_id: string; seq: number };
  expect(d.token).toBe(fake.token);
  expect(d.session_id).toBe(sessionId);
  // The client resumed from the last sequence it saw, which is before the missed dispatch.
  const missedSeq = fake.gateway.payloads.find(
    (p) => p.t === 'MESSAGE_CREATE' && (p.d as { id: string }).id === missed.id,
  )!.s!;
  expect(d.seq).toBeLessThan(missedSeq);
  // It went out only once the client was back: after its RESUME, before RESUMED.
  const wire = fake.gateway.payloads;
  const sentAt = wire.findIndex((p) => p.t === 'MESSAGE_CREATE' && (p.d as { id: string }).id === missed.id);
  expect(sentAt).toBeGreaterThan(wire.indexOf(resume));
  expect(sentAt).toBeLessThan(wire.findIndex((p) => p.t === 'RESUMED'));
  expect(fake.gateway.identifies).toBe(1);
  expect(fake.gateway.resumes).toBe(1);

  // Still working after the resume, and the missed message arrived exactly once, in its thread.
  const after = fake.userMessage({ author: alice, content: 'and monthly', channelId: thread.thread });
  await handlers.until(() => handlers.messages.some((m) => m.id === after.id), 'a message after the resume');
  await platform.idle();
  expect(handlers.messages.filter((m) => m.id === missed.id)).toHaveLength(1);
  expect(handlers.messages.find((m) => m.id === missed.id)!.thread).toEqual(thread);
  expect(handlers.messages.map((m) => m.text).slice(-2)).toEqual(['only Germany', 'and monthly']);
});
