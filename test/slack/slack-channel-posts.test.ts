/**
 * Scheduled-report delivery on Slack, through the real Bolt WebClient against the loopback fake: a new top-level
 * message in a channel (no thread_ts) with its files uploaded into the channel, a direct message opened with
 * conversations.open, and conversations.info read as "may the bot post here, and who reads it".
 */
import type { Reply } from '../../core/conversation/chat-platform.ts';
import { PlatformError } from '../../core/errors.ts';
import { SlackPlatform } from '../../bot/slack/slack-platform.ts';
import { FAKE_TEAM_ID, FakeSlackApi } from '../fakes/fake-slack-api.ts';
import { RecordingHandlers } from './slack-payloads.ts';

const fake = new FakeSlackApi();
let platform: SlackPlatform;

beforeAll(async () => {
  await fake.start();
  platform = new SlackPlatform({
    botToken: 'xoxb-test-token',
    signingSecret: 'secret',
    port: 0,
    host: '127.0.0.1',
    apiUrl: fake.apiUrl,
    retryConfig: { retries: 0 },
    isActiveThread: async () => false,
  });
  await platform.start(new RecordingHandlers());
});
afterAll(async () => {
  await platform?.stop();
  await fake.stop();
});
beforeEach(() => fake.reset());

const report: Reply = {
  parts: [
    { type: 'text', text: '📊 *weekly-signups* · country=DE' },
    {
      type: 'table',
      result: {
        columns: [{ name: 'n', type: 'integer', kind: 'number' }],
        rows: [[42]],
        rowCount: 1,
        truncated: false,
        durationMs: 3,
      },
      previewRows: 20,
    },
    { type: 'file', file: { filename: 'weekly.csv', mimeType: 'text/csv', data: Buffer.from('n\n42\n') } },
    { type: 'context', text: 'shop · 1 row · tick Mon 9 Mar 2026, 09:00 CET' },
  ],
  fallback: 'weekly-signups: 1 row',
};
const channel = { platform: 'slack' as const, workspace: FAKE_TEAM_ID, channel: 'C0GROWTH' };

describe('SlackPlatform channel posts', () => {
  it('posts a report as a new channel message (no thread_ts) and uploads its CSV into the channel', async () => {
    const posted = await platform.postToChannel(channel, report);
    const [call] = fake.callsOf('chat.postMessage');
    expect(call!.args.channel).toBe('C0GROWTH');
    expect(call!.args).not.toHaveProperty('thread_ts');
    expect(JSON.stringify(call!.args.blocks)).toContain('weekly-signups');
    expect(posted).toEqual({ thread: { ...channel, thread: posted.messageId }, messageId: posted.messageId });
    const [complete] = fake.callsOf('files.completeUploadExternal');
    expect(complete!.args.channel_id).toBe('C0GROWTH');
    expect(complete!.args).not.toHaveProperty('thread_ts');
    expect(fake.uploads.map((u) => [u.filename, u.data.toString()])).toEqual([['weekly.csv', 'n\n42\n']]);
  });

  it('says plainly when the bot is not in the channel', async () => {
    fake.setChannel('C0OUTSIDE', { name: 'outside', is_member: false });
    const error = await platform
      .postToChannel({ ...channel, channel: 'C0OUTSIDE' }, report)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlatformError);
    expect((error as PlatformError).message).toBe('Slack refused chat.postMessage: not_in_channel');
    expect((error as PlatformError).hint).toContain('/invite @threadql');
  });

  it('sends a direct message: conversations.open, then the message and files in the DM', async () => {
    await platform.postDirect({ platform: 'slack', workspace: FAKE_TEAM_ID, user: 'U0OWNER' }, report);
    expect(fake.callsOf('conversations.open')[0]!.args.users).toBe('U0OWNER');
    expect(fake.callsOf('chat.postMessage')[0]!.args.channel).toBe(fake.dmChannelOf('U0OWNER'));
    expect(fake.callsOf('files.completeUploadExternal')[0]!.args.channel_id).toBe(
      fake.dmChannelOf('U0OWNER'),
    );
  });

  it('describes channels: member or not, public, private, shared, DM, unknown', async () => {
    fake.setChannel('C0PUBLIC', { name: 'growth' });
    fake.setChannel('C0PRIVATE', { name: 'finance', is_private: true });
    fake.setChannel('C0SHARED', { name: 'partners', is_ext_shared: true });
    fake.setChannel('C0NOTIN', { name: 'random', is_member: false });
    const describe = (id: string) => platform.describeChannel({ ...channel, channel: id });
    expect(await describe('C0PUBLIC')).toEqual({ canPost: true, audience: 'public', name: 'growth' });
    expect(await describe('C0PRIVATE')).toEqual({ canPost: true, audience: 'private', name: 'finance' });
    expect(await describe('C0SHARED')).toEqual({ canPost: true, audience: 'shared', name: 'partners' });
    expect(await describe('D0OWNER')).toEqual({ canPost: true, audience: 'direct' });
    const notIn = await describe('C0NOTIN');
    expect(notIn).toMatchObject({ canPost: false, audience: 'public', name: 'random' });
    expect(notIn.problem).toBe(
      'I am not a member of #random, so I cannot post there. Invite me: type `/invite @threadql` in #random, then try again.',
    );
    const unknown = await describe('C0SECRET');
    expect(unknown).toMatchObject({ canPost: false });
    expect(unknown.problem).toContain('it is private and I am not in it');
    expect(fake.callsOf('conversations.info').map((c) => c.args.channel)).toContain('C0SECRET');
  });
});
