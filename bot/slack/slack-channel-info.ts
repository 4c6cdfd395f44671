/**
 * What conversations.info says about a channel, as the core's ChannelInfo: may the bot post there, and who can
 * read it. Said plainly when the bot cannot post, with the fix (invite it), since a scheduled report into a
 * channel the bot is not in would otherwise fail at its first tick.
 */
import type { webApi } from '@slack/bolt';
import type { ChannelInfo, ChannelRef } from '../../core/conversation/chat-platform.ts';
import { slackErrorCode, toPlatformError } from './slack-api-error.ts';

/** The conversations.info fields read here (a Slack conversation object). */
export interface SlackConversation {
  id?: string;
  name?: string;
  is_member?: boolean;
  is_private?: boolean;
  is_ext_shared?: boolean;
  is_pending_ext_shared?: boolean;
  is_im?: boolean;
  is_mpim?: boolean;
  is_archived?: boolean;
}

/** Maps a conversation to ChannelInfo. */
export function channelInfoFrom(conversation: SlackConversation): ChannelInfo {
  const name = conversation.name;
  const audience: ChannelInfo['audience'] = conversation.is_im
    ? 'direct'
    : conversation.is_ext_shared || conversation.is_pending_ext_shared
      ? 'shared'
      : conversation.is_private || conversation.is_mpim
        ? 'private'
        : 'public';
  const label = name ? `#${name}` : 'that channel';
  if (conversation.is_archived) {
    return {
      canPost: false,
      audience,
      ...(name ? { name } : {}),
      problem: `${label} is archived, so nothing can be posted there.`,
    };
  }
  if (!conversation.is_im && conversation.is_member === false) {
    return {
      canPost: false,
      audience,
      ...(name ? { name } : {}),
      problem: `I am not a member of ${label}, so I cannot post there. Invite me: type \`/invite @threadql\` in ${label}, then try again.`,
    };
  }
  return { canPost: true, audience, ...(name ? { name } : {}) };
}

/** ChannelInfo for a conversations.info failure, when the failure itself answers the question. */
export function channelInfoFromError(error: unknown): ChannelInfo | undefined {
  switch (slackErrorCode(error)) {
    case 'channel_not_found':
      // A private channel the bot is not in looks exactly like one that does not exist.
      return {
        canPost: false,
        audience: 'private',
        problem:
          'I cannot see that channel: it does not exist, or it is private and I am not in it. Invite me with `/invite @threadql` in the channel, then try again.',
      };
    case 'missing_scope':
      return {
        canPost: false,
        audience: 'private',
        problem:
          'The Slack app may not read channel details (it lacks the channels:read / groups:read scope). Update the app from manifest.yml and reinstall it.',
      };
    default:
      return undefined;
  }
}

/** Whether the bot can post into a channel and who reads it (conversations.info). */
export async function describeSlackChannel(
  client: Pick<webApi.WebClient, 'conversations'>,
  channel: ChannelRef,
): Promise<ChannelInfo> {
  try {
    const info = await client.conversations.info({ channel: channel.channel });
    return channelInfoFrom((info.channel ?? {}) as SlackConversation);
  } catch (error) {
    const known = channelInfoFromError(error);
    if (known) return known;
    throw toPlatformError('conversations.info', error);
  }
}
