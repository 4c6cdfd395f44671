/**
 * Scheduled-report delivery on Discord, through the real discord.js client against the loopback fake: a message in
 * a server channel with its files, a direct message, and the channel check (the bot's effective permissions from
 * its roles and the channel's overwrites, and whether @everyone can view the channel).
 */
import type { Reply } from '../../core/conversation/chat-platform.ts';
import { PlatformError } from '../../core/errors.ts';
import { DiscordPlatform } from '../../bot/discord/discord-platform.ts';
import { FakeDiscord } from '../fakes/fake-discord.ts';
import { RecordingHandlers } from './recording-handlers.ts';

let fake: FakeDiscord;
let platform: DiscordPlatform;

const VIEW = String(1 << 10);
const SEND = String(1 << 11);
const ATTACH = String(1 << 15);

beforeAll(async () => {
  fake = await FakeDiscord.start();
  platform = new DiscordPlatform({
    token: fake.token,
    applicationId: fake.applicationId,
    apiUrl: fake.apiUrl,
    commands: { mode: 'none', guildIds: [] },
    rest: { retries: 0 },
  });
  await platform.start(new RecordingHandlers());
});
afterAll(async () => {
  await platform?.stop();
  await fake?.close();
});

const report: Reply = {
  parts: [
    { type: 'text', text: '📊 *weekly-signups* · country=DE' },
    { type: 'file', file: { filename: 'weekly.csv', mimeType: 'text/csv', data: Buffer.from('n\n42\n') } },
    { type: 'context', text: 'shop · 1 row · tick Mon 9 Mar 2026, 09:00 CET' },
  ],
  fallback: 'weekly-signups: 1 row',
};

describe('DiscordPlatform channel posts', () => {
  it('posts a report as a new message in the channel, with its CSV attached', async () => {
    const channel = { platform: 'discord' as const, workspace: fake.guildId, channel: fake.channelId };
    const posted = await platform.postToChannel(channel, report);
    const [call] = fake.callsTo('POST', new RegExp(`^/channels/${fake.channelId}/messages$`));
    expect(call!.body.content).toContain('**weekly-signups** · country=DE');
    expect(call!.files.map((f) => [f.filename, f.data.toString()])).toEqual([['weekly.csv', 'n\n42\n']]);
    expect(posted).toEqual({
      thread: { ...channel, thread: fake.channelId },
      messageId: call ? posted.messageId : '',
    });
    expect(fake.messages.get(posted.messageId)?.channel_id).toBe(fake.channelId);
  });

  it('sends a direct message in the DM channel Discord opens', async () => {
    const bob = fake.user('bob');
    await platform.postDirect({ platform: 'discord', workspace: fake.guildId, user: bob.id }, report);
    const opened = fake.callsTo('POST', /^\/users\/@me\/channels$/).at(-1)!;
    expect(opened.body.recipient_id).toBe(bob.id);
    const dm = [...fake.channels.values()].find((c) => c.type === 1 && c.recipients?.[0]?.id === bob.id)!;
    expect(fake.callsTo('POST', new RegExp(`^/channels/${dm.id}/messages$`))).toHaveLength(1);
  });

  it('describes channels from the bot’s effective permissions and @everyone’s view', async () => {
    const describe = (id: string) =>
      platform.describeChannel({ platform: 'discord', workspace: fake.guildId, channel: id });
    expect(await describe(fake.channelId)).toEqual({ canPost: true, audience: 'public', name: 'growth' });

    // Private: @everyone may not view it, the bot's role may.
    const finance = fake.addChannel('finance', [
      { id: fake.guildId, type: 0, allow: '0', deny: VIEW },
      { id: fake.botRoleId, type: 0, allow: VIEW, deny: '0' },
    ]);
    expect(await describe(finance)).toEqual({ canPost: true, audience: 'private', name: 'finance' });

    // Visible but muted for the bot: said plainly with the permission to grant.
    const announcements = fake.addChannel('announcements', [
      { id: fake.botRoleId, type: 0, allow: '0', deny: `${BigInt(SEND) | BigInt(ATTACH)}` },
    ]);
    const muted = await describe(announcements);
    expect(muted).toMatchObject({ canPost: false, audience: 'public', name: 'announcements' });
    expect(muted.problem).toBe(
      "I cannot post in #announcements: I lack Send Messages, Attach Files there. In the channel's settings → Permissions, allow Send Messages, Attach Files for the threadql role, then try again.",
    );
    const refused = await platform
      .postToChannel({ platform: 'discord', workspace: fake.guildId, channel: announcements }, report)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PlatformError);
    expect((refused as PlatformError).message).toContain('Missing Permissions');

    // Hidden from the bot entirely.
    const secret = fake.addChannel('secret', [{ id: fake.guildId, type: 0, allow: '0', deny: VIEW }]);
    const hidden = await describe(secret);
    expect(hidden).toMatchObject({ canPost: false });
    expect(hidden.problem).toContain('I cannot see that channel');
  });
});
