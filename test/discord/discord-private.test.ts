/**
 * DiscordPlatform.postPrivate with the real discord.js client against the loopback Discord fake: a result only
 * the asker sees, as an ephemeral answer (files included) to their own click, else as a direct message.
 */
import type { Reply } from '../../core/conversation/chat-platform.ts';
import type { QueryResult } from '../../core/db/database-dialect.ts';
import { DiscordPlatform } from '../../bot/discord/discord-platform.ts';
import { FakeDiscord, type FakeUser } from '../fakes/fake-discord.ts';
import { RecordingHandlers } from './recording-handlers.ts';

let fake: FakeDiscord;
let platform: DiscordPlatform;
let handlers: RecordingHandlers;
let alice: FakeUser;

const result: QueryResult = {
  columns: [
    { name: 'country', type: 'text', kind: 'string' },
    { name: 'revenue', type: 'numeric', kind: 'number' },
  ],
  rows: [
    ['DE', 1200],
    ['US', 3400],
  ],
  rowCount: 2,
  truncated: false,
  durationMs: 4,
};
const answer: Reply = {
  parts: [
    { type: 'table', result, previewRows: 20, title: 'revenue by country' },
    {
      type: 'file',
      file: {
        filename: 'result.csv',
        mimeType: 'text/csv',
        data: Buffer.from('country,revenue\r\nDE,1200\r\n'),
      },
    },
    {
      type: 'image',
      image: { filename: 'chart.png', mimeType: 'image/png', data: Buffer.from([0x89, 0x50, 0x4e, 0x47]) },
      alt: 'Chart',
    },
    { type: 'context', text: 'hr · 2 rows' },
  ],
  fallback: '2 rows from hr',
};
const card: Reply = {
  parts: [
    { type: 'code', code: 'SELECT 1', language: 'sql' },
    { type: 'buttons', buttons: [{ action: 'run', label: 'Run', style: 'primary', value: 'tok' }] },
  ],
  fallback: 'card',
};

async function cardInThread() {
  const root = fake.userMessage({ author: alice, content: 'revenue by country', mentionBot: true });
  await handlers.until(() => handlers.messages.some((m) => m.id === root.id), 'the mention');
  const thread = handlers.messages.find((m) => m.id === root.id)!.thread;
  const posted = await platform.post(thread, card);
  return { thread, messageId: posted.messageId };
}

beforeAll(async () => {
  fake = await FakeDiscord.start();
  alice = fake.user('alice');
  handlers = new RecordingHandlers();
  platform = new DiscordPlatform({
    token: fake.token,
    apiUrl: fake.apiUrl,
    commands: { mode: 'none', guildIds: [] },
    ackAfterMs: 200,
    rest: { retries: 0 },
  });
  await platform.start(handlers);
});

afterEach(() => {
  handlers.onClick = undefined;
});

afterAll(async () => {
  await platform?.stop();
  await fake?.close();
});

test('answers the asker’s own click with an ephemeral message carrying the table and the files', async () => {
  const { thread, messageId } = await cardInThread();
  const threadPostsBefore = fake.callsTo('POST', new RegExp(`^/channels/${thread.thread}/messages$`)).length;
  handlers.onClick = (click) => platform.postPrivate(click.thread, click.user, answer);
  const click = fake.clickButton({ messageId, customId: 'threadql:run:tok', user: alice });
  await handlers.until(() => handlers.clicks.some((c) => c.id === click.id), 'the click');
  await platform.idle();
  const [callback] = fake.callsTo('POST', new RegExp(`^/interactions/${click.id}/[^/]+/callback$`));
  expect(callback?.body).toMatchObject({ type: 4, data: { flags: 64 } });
  expect(callback?.body.data.content).toContain('3400');
  expect(callback?.files.map((f) => f.filename).sort()).toEqual(['chart.png', 'result.csv']);
  expect(fake.callsTo('POST', new RegExp(`^/channels/${thread.thread}/messages$`))).toHaveLength(
    threadPostsBefore,
  );

  // The click is answered now: a second private reply is an ephemeral follow-up.
  const c = handlers.clicks.find((x) => x.id === click.id)!;
  await platform.postPrivate(c.thread, c.user, answer);
  const [followUp] = fake.callsTo('POST', new RegExp(`^/webhooks/${fake.applicationId}/${click.token}$`));
  expect(followUp?.body).toMatchObject({ flags: 64 });
  expect(followUp?.files).toHaveLength(2);
  expect(followUp?.authorized).toBe(false);
});

test('sends the reply by direct message, naming the thread, when the user has no interaction to answer', async () => {
  const { thread } = await cardInThread();
  const carol = fake.user('carol');
  await platform.postPrivate(
    thread,
    { platform: 'discord', workspace: fake.guildId, user: carol.id },
    answer,
  );
  const dm = [...fake.channels.values()].find((ch) => ch.type === 1 && ch.recipients?.[0]?.id === carol.id)!;
  const sent = fake.callsTo('POST', new RegExp(`^/channels/${dm.id}/messages$`));
  expect(sent.map((s) => s.body.content)).toEqual([
    `From your question in <#${thread.thread}> (only you see this):`,
    expect.stringContaining('3400'),
  ]);
  expect(sent[1]!.files.map((f) => f.filename).sort()).toEqual(['chart.png', 'result.csv']);
});
