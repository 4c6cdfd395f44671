/**
 * Discord locations and people as neutral refs. A thread's ref names its guild (`@me` in DMs), its parent
 * channel and the thread channel itself; a message outside any thread (a DM, a channel) uses the channel id
 * as its thread id, so `post(ref)` always targets `ref.thread`.
 */
import type { Channel, GuildMember, User } from 'discord.js';
import type { APIInteractionGuildMember } from 'discord.js';
import type { ThreadRef, UserRef } from '../../core/conversation/chat-platform.ts';

/** The workspace id of direct messages (as vercel/chat and Discord's own URLs spell it). */
export const DM_WORKSPACE = '@me';

/** Minimal view of a channel the refs need; works for cached and partial channels alike. */
export interface ChannelLike {
  id: string;
  isThread(): boolean;
  parentId?: string | null;
}

/** The ThreadRef of a message or interaction in `channel`. */
export function threadRefFor(
  guildId: string | null,
  channel: ChannelLike | Channel | null,
  channelId: string,
): ThreadRef {
  const workspace = guildId ?? DM_WORKSPACE;
  if (channel && channel.isThread() && 'parentId' in channel && channel.parentId) {
    return { platform: 'discord', workspace, channel: channel.parentId, thread: channel.id };
  }
  return { platform: 'discord', workspace, channel: channelId, thread: channelId };
}

/** The ThreadRef of a thread threadql started under a channel message. */
export function startedThreadRef(guildId: string, parentId: string, threadId: string): ThreadRef {
  return { platform: 'discord', workspace: guildId, channel: parentId, thread: threadId };
}

function roleIds(
  member: GuildMember | APIInteractionGuildMember | null | undefined,
  guildId: string | null,
): string[] {
  if (!member) return [];
  const ids = Array.isArray(member.roles) ? member.roles : [...member.roles.cache.keys()];
  // The @everyone role has the guild's id; it says nothing about who may approve.
  return ids.filter((id) => id !== guildId);
}

/** The UserRef of `user`, with their display name and (in a guild) role ids for approver checks. */
export function userRefFor(
  guildId: string | null,
  user: User,
  member?: GuildMember | APIInteractionGuildMember | null,
): UserRef {
  const nick = member && 'displayName' in member ? member.displayName : (member?.nick ?? undefined);
  return {
    platform: 'discord',
    workspace: guildId ?? DM_WORKSPACE,
    user: user.id,
    displayName: nick ?? user.globalName ?? user.username,
    roles: roleIds(member, guildId),
  };
}
