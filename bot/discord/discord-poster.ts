/**
 * Everything the Discord adapter sends over REST: replies posted and edited in threads, files in batches Discord
 * accepts, private replies (an ephemeral answer to the user's own interaction, else a DM), channel reports and DMs.
 */
import type { APIMessage, Client } from 'discord.js';
import { Routes } from './discord-js.ts';
import type {
  ChannelRef,
  FileAttachment,
  PostedMessage,
  Reply,
  ThreadRef,
  UserRef,
} from '../../core/conversation/chat-platform.ts';
import type { Logger } from '../../core/logger.ts';
import { DISCORD_LIMITS } from './discord-limits.ts';
import { toDiscordMarkdown } from './discord-markdown.ts';
import { truncateText } from './discord-text.ts';
import type { DiscordTriggers } from './discord-triggers.ts';
import { attachmentsFor, replyToDiscord } from './reply-to-discord.ts';
import { toPlatformError } from './to-platform-error.ts';

export interface DiscordPosterOptions {
  /** The started client (throws when the adapter is not started). */
  client: () => Client;
  /** True when `id` is a role of the thread's guild (mentions of roles and users differ). */
  isRole: (id: string, thread: ThreadRef) => boolean;
  triggers: DiscordTriggers;
  codeBlockWidth: number;
  maxUploadBytes?: number | undefined;
  log: Logger;
}

/** Renders Replies for Discord and sends them through the REST API. */
export class DiscordPoster {
  readonly #options: DiscordPosterOptions;

  constructor(options: DiscordPosterOptions) {
    this.#options = options;
  }

  get #client(): Client {
    return this.#options.client();
  }

  /** A reply in the thread, files attached. */
  async post(thread: ThreadRef, reply: Reply): Promise<PostedMessage> {
    const { body, files } = replyToDiscord(reply, this.#replyOptions(thread));
    try {
      const sent = (await this.#client.rest.post(Routes.channelMessages(thread.thread), {
        body,
        files,
      })) as APIMessage;
      return { thread, messageId: sent.id };
    } catch (error) {
      throw toPlatformError(error, 'post a message');
    }
  }

  /** Replaces a posted message. */
  async update(message: PostedMessage, reply: Reply): Promise<void> {
    const { body, files } = replyToDiscord(reply, this.#replyOptions(message.thread));
    try {
      await this.#client.rest.patch(Routes.channelMessage(message.thread.thread, message.messageId), {
        body,
        files,
      });
    } catch (error) {
      throw toPlatformError(error, 'update a message');
    }
  }

  /** Files into the thread, the comment on the first message. */
  async upload(thread: ThreadRef, files: FileAttachment[], comment?: string): Promise<void> {
    // Discord takes 10 files a message: larger sets go out in several messages, the comment on the first.
    for (let i = 0; i < Math.max(files.length, 1); i += DISCORD_LIMITS.attachmentsPerMessage) {
      const notes: string[] = [];
      const chunk = files.slice(i, i + DISCORD_LIMITS.attachmentsPerMessage);
      const { attachments, files: raw } = attachmentsFor(
        chunk.map((file) => ({ file, ...(file.title ? { description: file.title } : {}) })),
        notes,
        this.#options.maxUploadBytes,
      );
      const text = [
        i === 0 && comment ? toDiscordMarkdown(comment) : undefined,
        ...notes.map((n) => `-# ${n}`),
      ]
        .filter(Boolean)
        .join('\n');
      if (!raw.length && !text) continue;
      const body = {
        content: truncateText(text, DISCORD_LIMITS.messageContent),
        attachments,
        allowed_mentions: { parse: [] },
      };
      try {
        await this.#client.rest.post(Routes.channelMessages(thread.thread), { body, files: raw });
      } catch (error) {
        throw toPlatformError(error, 'upload files');
      }
    }
  }

  /**
   * Ephemeral on Discord exists only as an answer to an interaction. When `user` interacted in `thread`
   * within the last 15 minutes (click, modal submit, slash command), the message answers that interaction
   * and only they see it; otherwise it goes to them as a direct message naming the thread.
   */
  async postEphemeral(thread: ThreadRef, user: UserRef, text: string): Promise<void> {
    text = toDiscordMarkdown(text);
    const trigger = this.#options.triggers.live(thread, user);
    if (trigger) {
      await trigger.ephemeral(truncateText(text, DISCORD_LIMITS.messageContent));
      return;
    }
    const where = thread.workspace === '@me' ? '' : `(about <#${thread.thread}>)\n`;
    try {
      const dm = await this.#client.users.createDM(user.user);
      await this.#client.rest.post(Routes.channelMessages(dm.id), {
        body: {
          content: truncateText(where + text, DISCORD_LIMITS.messageContent),
          allowed_mentions: { parse: [] },
        },
      });
    } catch (error) {
      throw toPlatformError(error, 'send a private message');
    }
  }

  /**
   * A whole reply only `user` sees: an ephemeral answer (files included) to their own interaction in `thread`
   * within the last 15 minutes; otherwise, or when Discord refuses that, a direct message naming the thread.
   */
  async postPrivate(thread: ThreadRef, user: UserRef, reply: Reply): Promise<void> {
    const { body, files } = replyToDiscord(reply, this.#replyOptions());
    const trigger = this.#options.triggers.live(thread, user);
    if (trigger) {
      try {
        await trigger.ephemeralMessage(body, files);
        return;
      } catch (error) {
        this.#options.log.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'ephemeral reply refused; sending it by direct message',
        );
      }
    }
    try {
      const dm = await this.#client.users.createDM(user.user);
      if (thread.workspace !== '@me') {
        await this.#client.rest.post(Routes.channelMessages(dm.id), {
          body: {
            content: `From your question in <#${thread.thread}> (only you see this):`,
            allowed_mentions: { parse: [] },
          },
        });
      }
      await this.#client.rest.post(Routes.channelMessages(dm.id), { body, files });
    } catch (error) {
      throw toPlatformError(error, 'send a private message');
    }
  }

  /**
   * A new message in a server channel (scheduled reports), files attached. The returned thread is the channel
   * itself, so update() edits the message where it is.
   */
  async postToChannel(channel: ChannelRef, reply: Reply): Promise<PostedMessage> {
    const { body, files } = replyToDiscord(reply, this.#replyOptions());
    try {
      const sent = (await this.#client.rest.post(Routes.channelMessages(channel.channel), {
        body,
        files,
      })) as APIMessage;
      return { thread: { ...channel, platform: 'discord', thread: channel.channel }, messageId: sent.id };
    } catch (error) {
      throw toPlatformError(error, 'post in the channel');
    }
  }

  /** A direct message (files attached) in the DM channel Discord opens for the user. */
  async postDirect(user: UserRef, reply: Reply): Promise<void> {
    const { body, files } = replyToDiscord(reply, this.#replyOptions());
    try {
      const dm = await this.#client.users.createDM(user.user);
      await this.#client.rest.post(Routes.channelMessages(dm.id), { body, files });
    } catch (error) {
      throw toPlatformError(error, 'send a direct message');
    }
  }

  #replyOptions(thread?: ThreadRef) {
    return {
      codeBlockWidth: this.#options.codeBlockWidth,
      maxUploadBytes: this.#options.maxUploadBytes,
      ...(thread ? { isRole: (id: string) => this.#options.isRole(id, thread) } : {}),
    };
  }
}
