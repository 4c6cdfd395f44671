/**
 * Everything the Slack adapter sends: neutral Replies rendered as Block Kit and posted, updated, sent privately or
 * into a channel or DM, their files uploaded beside them, modals opened. Every Web API failure becomes a
 * PlatformError naming the method.
 */
import type { Logger, webApi } from '@slack/bolt';
import type {
  ChannelRef,
  FileAttachment,
  ModalSpec,
  PostedMessage,
  Reply,
  ThreadRef,
  UserRef,
} from '../../core/conversation/chat-platform.ts';
import { PlatformError } from '../../core/errors.ts';
import { modalView } from './modal-view.ts';
import {
  replyToBlocks,
  type PendingFile,
  type ReplyToBlocksOptions,
  type SlackTableRenderers,
} from './reply-to-blocks.ts';
import { callSlack } from './slack-api-error.ts';
import type { SlackModalTrigger } from './slack-incoming.ts';
import type { SlackPlatformOptions } from './slack-platform-options.ts';

/** Assistant threads remembered for native feedback; past this the set starts over (plain buttons still work). */
const MAX_ASSISTANT_THREADS = 5000;

export interface SlackPosterOptions extends Pick<SlackPlatformOptions, 'tableBlocks' | 'nativeFeedback'> {
  client: webApi.WebClient;
  tables: SlackTableRenderers;
  logger: Logger;
}

/** Renders Replies for Slack and sends them through the Web API. */
export class SlackPoster {
  private readonly client: webApi.WebClient;
  private readonly options: SlackPosterOptions;
  private readonly assistantThreads = new Set<string>();

  constructor(options: SlackPosterOptions) {
    this.options = options;
    this.client = options.client;
  }

  /** A thread is an assistant thread: replies there may use the AI-app's native feedback buttons. */
  noteAssistantThread(channel: string, threadTs: string): void {
    if (this.assistantThreads.size >= MAX_ASSISTANT_THREADS) this.assistantThreads.clear();
    this.assistantThreads.add(`${channel}:${threadTs}`);
  }

  /** A reply in the thread (chat.postMessage), its files uploaded into the thread after it. */
  async post(thread: ThreadRef, reply: Reply): Promise<PostedMessage> {
    const message = replyToBlocks(reply, this.blockOptions(thread));
    const result = await callSlack('chat.postMessage', () =>
      this.client.chat.postMessage({
        channel: thread.channel,
        thread_ts: thread.thread,
        text: message.text,
        // A reply with only files (a chart on its own) has no blocks; Slack shows the text instead.
        ...(message.blocks.length ? { blocks: message.blocks } : {}),
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    if (message.files.length) await this.uploadFiles(thread, message.files);
    return { thread, messageId: String(result.ts) };
  }

  /** Replaces a posted message (chat.update). */
  async update(message: PostedMessage, reply: Reply): Promise<void> {
    const rendered = replyToBlocks(reply, this.blockOptions(message.thread));
    await callSlack('chat.update', () =>
      this.client.chat.update({
        channel: message.thread.channel,
        ts: message.messageId,
        text: rendered.text,
        blocks: rendered.blocks,
      }),
    );
    // A message cannot gain files by update, so they go into the thread beside it.
    if (rendered.files.length) await this.uploadFiles(message.thread, rendered.files);
  }

  /** Files into the thread (files.uploadV2). */
  async upload(thread: ThreadRef, files: FileAttachment[], comment?: string): Promise<void> {
    await this.uploadFiles(thread, files, comment);
  }

  /** A text only `user` sees, in the thread (chat.postEphemeral). */
  async postEphemeral(thread: ThreadRef, user: UserRef, text: string): Promise<void> {
    const rendered = replyToBlocks(
      { parts: [{ type: 'text', text }], fallback: text },
      this.blockOptions(thread),
    );
    await callSlack('chat.postEphemeral', () =>
      this.client.chat.postEphemeral({
        channel: thread.channel,
        user: user.user,
        thread_ts: thread.thread,
        text: rendered.text,
        blocks: rendered.blocks,
      }),
    );
  }

  /**
   * A whole reply only `user` sees: an ephemeral message in the thread (tables as text: ephemeral messages take
   * no files), and the files (CSV, chart) in a direct message, since ephemeral messages are gone after a reload.
   * When Slack refuses the ephemeral message (the user is not in the channel), all of it goes by direct message.
   */
  async postPrivate(thread: ThreadRef, user: UserRef, reply: Reply): Promise<void> {
    const message = replyToBlocks(reply, { ...this.blockOptions(thread), tableBlocks: false });
    let dmAll = false;
    try {
      await callSlack('chat.postEphemeral', () =>
        this.client.chat.postEphemeral({
          channel: thread.channel,
          user: user.user,
          thread_ts: thread.thread,
          text: message.text,
          blocks: message.blocks,
        }),
      );
    } catch (error) {
      if (!(error instanceof PlatformError)) throw error;
      this.options.logger.warn(
        `threadql: ephemeral reply refused (${error.message}); sending it by direct message`,
      );
      dmAll = true;
    }
    if (!dmAll && message.files.length === 0) return;
    const dm = await this.openDirect(user);
    const where = `<#${thread.channel}>`;
    if (dmAll) {
      const note = `From your question in ${where} (only you see this):`;
      await callSlack('chat.postMessage', () =>
        this.client.chat.postMessage({
          channel: dm,
          text: `${note} ${message.text}`,
          blocks: [{ type: 'context', elements: [{ type: 'mrkdwn', text: note }] }, ...message.blocks],
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
    }
    await this.uploadFiles(
      { ...thread, channel: dm, thread: '' },
      message.files,
      `Files of your result in ${where} (only you see them).`,
    );
  }

  /** `<!subteam^S…>` for a user-group id, `<@U…>` for a user id, as threadql.yml lists them. */
  mention(id: string): string {
    return /^S[A-Z0-9]+$/.test(id) ? `<!subteam^${id}>` : `<@${id}>`;
  }

  /** The thread's permalink (chat.getPermalink). */
  async threadLink(thread: ThreadRef): Promise<string | undefined> {
    const result = await callSlack('chat.getPermalink', () =>
      this.client.chat.getPermalink({ channel: thread.channel, message_ts: thread.thread }),
    );
    return typeof result.permalink === 'string' ? result.permalink : undefined;
  }

  /** Opens a modal for the button click whose trigger is given (views.open). */
  async openModal(trigger: unknown, modal: ModalSpec): Promise<void> {
    const t = trigger as Partial<SlackModalTrigger> | undefined;
    if (!t || typeof t.triggerId !== 'string' || !t.thread) {
      throw new PlatformError(
        'platform_failed',
        'openModal needs the trigger of a Slack button click (ButtonClick.trigger)',
      );
    }
    const view = modalView(modal, t.thread);
    await callSlack('views.open', () => this.client.views.open({ trigger_id: t.triggerId as string, view }));
  }

  /** A new top-level message in a channel (scheduled reports); files follow in the channel, not in a thread. */
  async postToChannel(channel: ChannelRef, reply: Reply): Promise<PostedMessage> {
    const message = replyToBlocks(reply, this.blockOptions({ ...channel, thread: '' }));
    const result = await callSlack('chat.postMessage', () =>
      this.client.chat.postMessage({
        channel: channel.channel,
        text: message.text,
        ...(message.blocks.length ? { blocks: message.blocks } : {}),
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    const ts = String(result.ts);
    const thread: ThreadRef = { ...channel, platform: 'slack', thread: ts };
    if (message.files.length) await this.uploadFiles({ ...thread, thread: '' }, message.files);
    return { thread, messageId: ts };
  }

  /** A direct message (conversations.open, then the message and its files in that DM). */
  async postDirect(user: UserRef, reply: Reply): Promise<void> {
    const dm = await this.openDirect(user);
    const message = replyToBlocks(reply, this.blockOptions({ ...user, channel: dm, thread: '' }));
    await callSlack('chat.postMessage', () =>
      this.client.chat.postMessage({
        channel: dm,
        text: message.text,
        ...(message.blocks.length ? { blocks: message.blocks } : {}),
        unfurl_links: false,
      }),
    );
    if (message.files.length) await this.uploadFiles({ ...user, channel: dm, thread: '' }, message.files);
  }

  /** The id of the bot's direct-message channel with `user` (conversations.open; needs im:write). */
  private async openDirect(user: UserRef): Promise<string> {
    const opened = await callSlack('conversations.open', () =>
      this.client.conversations.open({ users: user.user }),
    );
    const id = opened.channel?.id;
    if (!id) throw new PlatformError('platform_failed', 'Slack did not open a direct message channel.');
    return id;
  }

  private blockOptions(thread: ThreadRef): ReplyToBlocksOptions {
    const feedback = this.options.nativeFeedback ?? 'assistant-threads';
    const nativeFeedback =
      feedback === 'everywhere' ||
      (feedback === 'assistant-threads' && this.assistantThreads.has(`${thread.channel}:${thread.thread}`));
    return {
      tables: this.options.tables,
      tableBlocks: this.options.tableBlocks ?? true,
      nativeFeedback,
      mention: (id) => this.mention(id),
    };
  }

  private async uploadFiles(thread: ThreadRef, files: PendingFile[], comment?: string): Promise<void> {
    if (files.length === 0) return;
    const uploads = files.map((f) => ({
      file: f.data,
      filename: f.filename,
      title: f.title ?? f.filename,
      ...(f.altText ? { alt_text: f.altText } : {}),
    }));
    await callSlack('files.uploadV2', () =>
      this.client.filesUploadV2({
        channel_id: thread.channel,
        ...(thread.thread ? { thread_ts: thread.thread } : {}),
        ...(comment ? { initial_comment: comment } : {}),
        file_uploads: uploads,
      }),
    );
  }
}
