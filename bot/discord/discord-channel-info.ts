/**
 * Whether the bot can post a report into a Discord channel, and who can read it: the channel fetched over REST,
 * the bot's effective permissions there (role permissions and the channel's overwrites, as discord.js computes
 * them) and whether @everyone may view it. Said plainly, with the permission to grant, when it cannot post.
 */
import type { Client } from 'discord.js';
import type { ChannelInfo } from '../../core/conversation/chat-platform.ts';
import { DiscordAPIError, PermissionFlagsBits } from './discord-js.ts';

/** What a report needs: to see the channel, to post in it, and to attach the CSV and chart. */
const NEEDED: [bigint, string][] = [
  [PermissionFlagsBits.ViewChannel, 'View Channel'],
  [PermissionFlagsBits.SendMessages, 'Send Messages'],
  [PermissionFlagsBits.AttachFiles, 'Attach Files'],
];

/** ChannelInfo for a channel id; a channel the bot cannot see is canPost false with the fix. */
export async function describeDiscordChannel(client: Client, channelId: string): Promise<ChannelInfo> {
  let channel;
  try {
    channel = await client.channels.fetch(channelId, { force: true });
  } catch (error) {
    if (error instanceof DiscordAPIError && (error.code === 10003 || error.code === 50001)) {
      return {
        canPost: false,
        audience: 'private',
        problem:
          'I cannot see that channel: it does not exist, or it is private and I was not given access. Add the threadql role to the channel (View Channel, Send Messages, Attach Files), then try again.',
      };
    }
    throw error;
  }
  if (!channel) return { canPost: false, audience: 'private', problem: 'That channel does not exist.' };
  if (channel.isDMBased()) return { canPost: true, audience: 'direct' };
  if (!('guild' in channel) || !('permissionsFor' in channel)) {
    return { canPost: false, audience: 'private', problem: 'Reports can only go to a server text channel.' };
  }
  const name = 'name' in channel && typeof channel.name === 'string' ? channel.name : undefined;
  const me = channel.guild.members.me ?? (await channel.guild.members.fetchMe());
  const mine = channel.permissionsFor(me);
  const everyone = channel.permissionsFor(channel.guild.roles.everyone);
  const audience = everyone?.has(PermissionFlagsBits.ViewChannel) ? 'public' : 'private';
  const missing = NEEDED.filter(([flag]) => !mine?.has(flag)).map(([, label]) => label);
  if (!channel.isTextBased() || channel.isThread()) {
    return {
      canPost: false,
      audience,
      ...(name ? { name } : {}),
      problem: 'Reports go to a text channel, not a thread or voice channel.',
    };
  }
  if (missing.length) {
    const list = missing.join(', ');
    return {
      canPost: false,
      audience,
      ...(name ? { name } : {}),
      problem: `I cannot post in #${name ?? channelId}: I lack ${list} there. In the channel's settings → Permissions, allow ${list} for the threadql role, then try again.`,
    };
  }
  return { canPost: true, audience, ...(name ? { name } : {}) };
}
