/**
 * SlackPlatform.postPrivate with the real Bolt WebClient against the loopback Slack fake: a result only the asker
 * sees, as an ephemeral message in the thread and its files in a direct message; nothing lands in the channel.
 */
import type { Reply, ThreadRef, UserRef } from '../../core/conversation/chat-platform.ts';
import type { QueryResult } from '../../core/db/database-dialect.ts';
import { SlackPlatform } from '../../bot/slack/slack-platform.ts';
import { FAKE_TEAM_ID, FakeSlackApi } from '../fakes/fake-slack-api.ts';
import { CapturingLogger, RecordingHandlers } from './slack-payloads.ts';

const fake = new FakeSlackApi();
const logger = new CapturingLogger();
let platform: SlackPlatform;

const thread: ThreadRef = {
  platform: 'slack',
  workspace: FAKE_TEAM_ID,
  channel: 'C0GROWTH',
  thread: '1700000000.000100',
};
const ana: UserRef = { platform: 'slack', workspace: FAKE_TEAM_ID, user: 'U0ANA' };
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
const reply: Reply = {
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

beforeAll(async () => {
  await fake.start();
  platform = new SlackPlatform({
    botToken: 'xoxb-test-token',
    signingSecret: 'private-secret',
    port: 0,
    host: '127.0.0.1',
    processBeforeResponse: true,
    apiUrl: fake.apiUrl,
    retryConfig: { retries: 0 },
    isActiveThread: async () => false,
    displayNames: false,
    logger,
  });
  await platform.start(new RecordingHandlers());
});

afterAll(async () => {
  await platform?.stop();
  await fake.stop();
});

beforeEach(() => fake.reset());

describe('SlackPlatform.postPrivate', () => {
  it('shows the table in an ephemeral message in the thread and sends the files by direct message', async () => {
    await platform.postPrivate(thread, ana, reply);
    const [ephemeral] = fake.callsOf('chat.postEphemeral');
    expect(ephemeral?.args).toMatchObject({ channel: 'C0GROWTH', user: 'U0ANA', thread_ts: thread.thread });
    const blocks = JSON.stringify(ephemeral?.args.blocks);
    expect(blocks).toContain('3400');
    expect(blocks).not.toContain('"type":"table"');
    expect(fake.callsOf('conversations.open')[0]?.args).toMatchObject({ users: 'U0ANA' });
    const complete = fake.callsOf('files.completeUploadExternal')[0]?.args;
    expect(complete).toMatchObject({ channel_id: 'D0ANA' });
    expect(String(complete?.initial_comment)).toContain('<#C0GROWTH>');
    expect(fake.uploads.map((u) => u.filename).sort()).toEqual(['chart.png', 'result.csv']);
    // Nothing was posted where the channel could see it.
    expect(fake.callsOf('chat.postMessage')).toEqual([]);
  });

  it('sends a reply without files as one ephemeral message, no direct message', async () => {
    await platform.postPrivate(thread, ana, {
      parts: [{ type: 'text', text: 'only for you' }],
      fallback: 'only for you',
    });
    expect(fake.callsOf('chat.postEphemeral')).toHaveLength(1);
    expect(fake.callsOf('conversations.open')).toEqual([]);
  });

  it('sends everything by direct message when Slack refuses the ephemeral message', async () => {
    fake.failNext('chat.postEphemeral', { error: 'user_not_in_channel' });
    await platform.postPrivate(thread, ana, reply);
    const [dm] = fake.callsOf('chat.postMessage');
    expect(dm?.args.channel).toBe('D0ANA');
    expect(JSON.stringify(dm?.args.blocks)).toContain('3400');
    expect(JSON.stringify(dm?.args.blocks)).toContain('only you see this');
    expect(fake.uploads).toHaveLength(2);
    expect(fake.callsOf('chat.postMessage').some((c) => c.args.channel === 'C0GROWTH')).toBe(false);
  });
});
