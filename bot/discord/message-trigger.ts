import type { Message } from 'discord.js';
import type { IncomingMessage, ThreadRef } from '../../core/conversation/chat-platform.ts';
import { DISCORD_LIMITS } from './discord-limits.ts';
import { startedThreadRef, threadRefFor, userRefFor } from './discord-refs.ts';
import { truncateText } from './discord-text.ts';
import { toPlatformError } from './to-platform-error.ts';

export interface MessageTriggerContext {
  botUserId: string;
  isActiveThread?: ((ref: ThreadRef) => boolean | Promise<boolean>) | undefined;
  autoArchiveMinutes: number;
}

/** Removes the bot's user and managed-role mentions (`<@id>`, `<@!id>`, `<@&role>`) from message text. */
export function stripBotMentions(
  text: string,
  botUserId: string,
  botRoleIds: readonly string[] = [],
): string {
  let out = text.replace(new RegExp(`<@!?${botUserId}>`, 'g'), ' ');
  for (const role of botRoleIds) out = out.replaceAll(`<@&${role}>`, ' ');
  return out.replace(/[ \t]+/g, ' ').trim();
}

/** A thread name from the question: one line, within Discord's 100 characters. */
export function threadName(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return truncateText(line || 'threadql question', DISCORD_LIMITS.threadName);
}

/**
 * Decides whether a gateway message is addressed to threadql and, if so, where its conversation lives:
 * a DM is its own thread; a mention in a channel starts a thread on that message; in a thread, a mention
 * or any message in a thread threadql owns continues it. Bots (threadql included) and system messages are
 * ignored.
 */
export async function messageTrigger(
  message: Message,
  ctx: MessageTriggerContext,
): Promise<IncomingMessage | undefined> {
  if (message.author.bot || message.webhookId || message.system || message.author.id === ctx.botUserId)
    return undefined;
  const botRoles = message.mentions.roles
    .filter((role) => role.tags?.botId === ctx.botUserId)
    .map((role) => role.id);
  const mentioned = message.mentions.users.has(ctx.botUserId) || botRoles.length > 0;
  const text = stripBotMentions(message.content, ctx.botUserId, botRoles);
  const base = { id: message.id, text, receivedAt: message.createdAt };

  if (!message.inGuild()) {
    const thread = threadRefFor(null, null, message.channelId);
    return { ...base, thread, user: userRefFor(null, message.author) };
  }
  const user = userRefFor(message.guildId, message.author, message.member);
  const channel = message.channel;
  if (channel.isThread()) {
    const thread = threadRefFor(message.guildId, channel, message.channelId);
    const active = ctx.isActiveThread ? await ctx.isActiveThread(thread) : channel.ownerId === ctx.botUserId;
    return mentioned || active ? { ...base, thread, user } : undefined;
  }
  if (!mentioned) return undefined;
  try {
    const started = await message.startThread({
      name: threadName(text),
      autoArchiveDuration: ctx.autoArchiveMinutes,
    });
    return { ...base, thread: startedThreadRef(message.guildId, channel.id, started.id), user };
  } catch (error) {
    throw toPlatformError(error, 'start a thread for the question');
  }
}
