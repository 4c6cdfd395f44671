import { ChannelType, escapeMarkdown, Message, Routes } from './discord-js.ts';
import type { APIChannel, ChatInputCommandInteraction } from 'discord.js';
import type { ThreadRef } from '../../core/conversation/chat-platform.ts';
import { DM_WORKSPACE, startedThreadRef, threadRefFor } from './discord-refs.ts';
import { threadName } from './message-trigger.ts';
import { toPlatformError } from './to-platform-error.ts';

/** The engine's words for a slash command: the same text a mention would carry (see core/conversation/chat-grammar.ts). */
export function commandText(interaction: ChatInputCommandInteraction): { text: string; header: string } {
  const who = `<@${interaction.user.id}>`;
  if (interaction.commandName === 'ask') {
    const question = interaction.options.getString('question', true).trim();
    return { text: `ask ${question}`, header: `${who} asked: ${escapeMarkdown(question)}` };
  }
  if (interaction.commandName === 'schema') {
    const focus = interaction.options.getString('focus')?.trim();
    return {
      text: focus ? `schema ${focus}` : 'schema',
      header: focus
        ? `${who} asked for the schema around \`${focus.replaceAll('`', "'")}\``
        : `${who} asked for the schema`,
    };
  }
  return { text: 'help', header: `${who} asked for help` };
}

/**
 * Gives a (deferred) slash command its thread: the deferred reply is edited to show the question, and a
 * thread is started on that reply (or, failing that, on the channel). In a thread or a DM the command stays
 * where it was used.
 */
export async function commandThread(
  interaction: ChatInputCommandInteraction,
  autoArchiveMinutes: number,
): Promise<{ thread: ThreadRef; text: string }> {
  const { text, header } = commandText(interaction);
  let reply: Awaited<ReturnType<ChatInputCommandInteraction['editReply']>>;
  try {
    reply = await interaction.editReply({ content: header, allowedMentions: { parse: [] } });
  } catch (error) {
    throw toPlatformError(error, 'answer the command');
  }
  if (!interaction.guildId) {
    return {
      thread: {
        platform: 'discord',
        workspace: DM_WORKSPACE,
        channel: interaction.channelId,
        thread: interaction.channelId,
      },
      text,
    };
  }
  const channel = interaction.channel;
  if (channel?.isThread())
    return { thread: threadRefFor(interaction.guildId, channel, interaction.channelId), text };

  const name = threadName(text.replace(/^ask /, ''));
  const rest = interaction.client.rest;
  const body = { name, auto_archive_duration: autoArchiveMinutes };
  try {
    const started =
      reply instanceof Message
        ? await reply.startThread({ name, autoArchiveDuration: autoArchiveMinutes })
        : ((await rest.post(Routes.threads(interaction.channelId, (reply as { id: string }).id), {
            body,
          })) as APIChannel);
    return { thread: startedThreadRef(interaction.guildId, interaction.channelId, started.id), text };
  } catch (fromMessage) {
    try {
      const started = (await rest.post(Routes.threads(interaction.channelId), {
        body: { ...body, type: ChannelType.PublicThread },
      })) as APIChannel;
      return { thread: startedThreadRef(interaction.guildId, interaction.channelId, started.id), text };
    } catch {
      throw toPlatformError(fromMessage, 'start a thread for the command');
    }
  }
}
