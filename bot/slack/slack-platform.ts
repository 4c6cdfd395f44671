/**
 * The Slack adapter: a Bolt app (HTTP Events API or Socket Mode, one seam, chosen by the options) that turns
 * mentions, DMs, replies in active threads and `/threadql` into IncomingMessages, clicks and modal submits into
 * ButtonClick / ModalSubmit, and neutral Replies into Block Kit. It assembles the pieces and owns their lifecycle:
 * createSlackApp builds the Bolt app, SlackIntake takes events in (acknowledging before any work), SlackPoster sends.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SocketModeReceiver, type App, type HTTPReceiver, type Logger } from '@slack/bolt';
import type {
  ChannelInfo,
  ChannelRef,
  ChatPlatform,
  FileAttachment,
  ModalSpec,
  PlatformCapabilities,
  PlatformHandlers,
  PostedMessage,
  Reply,
  ThreadRef,
  UserRef,
} from '../../core/conversation/chat-platform.ts';
import { createSlackApp, DEFAULT_EVENTS_PATH } from './create-slack-app.ts';
import { memoryOnce } from './event-dedupe.ts';
import { toPlatformError } from './slack-api-error.ts';
import { describeSlackChannel } from './slack-channel-info.ts';
import { SlackDirectory } from './slack-directory.ts';
import { SlackIntake } from './slack-intake.ts';
import type { SlackPlatformOptions } from './slack-platform-options.ts';
import { SlackPoster } from './slack-poster.ts';
import { slackTableRenderers } from './slack-tables.ts';

/** ChatPlatform for Slack on Bolt. Construct, then `start(handlers)`; `stop()` drains in-flight work. */
export class SlackPlatform implements ChatPlatform {
  readonly name = 'slack' as const;
  readonly capabilities: PlatformCapabilities = {
    modals: true,
    ephemeral: true,
    ephemeralScope: 'anywhere',
    tableBlocks: true,
    maxMessageChars: 40_000,
    codeBlockWidth: 80,
  };
  readonly mode: 'http' | 'socket';
  private readonly app: App;
  private readonly options: SlackPlatformOptions;
  private readonly receiver: HTTPReceiver | SocketModeReceiver;
  private readonly intake: SlackIntake;
  private readonly poster: SlackPoster;
  private server: Server | undefined;
  private socketClosed = false;

  constructor(options: SlackPlatformOptions) {
    this.options = options;
    const now = options.now ?? (() => new Date());
    const { app, receiver, mode } = createSlackApp(options, now);
    this.app = app;
    this.receiver = receiver;
    this.mode = mode;
    const directory = new SlackDirectory({
      client: this.app.client,
      ...(options.userGroups ? { userGroups: options.userGroups } : {}),
      ...(options.displayNames !== undefined ? { displayNames: options.displayNames } : {}),
      ...options.directory,
      warn: (message) => this.logger.warn(message),
    });
    this.poster = new SlackPoster({
      client: this.app.client,
      tables: options.tables ?? slackTableRenderers(this.capabilities.codeBlockWidth),
      ...(options.tableBlocks !== undefined ? { tableBlocks: options.tableBlocks } : {}),
      ...(options.nativeFeedback ? { nativeFeedback: options.nativeFeedback } : {}),
      logger: this.logger,
    });
    this.intake = new SlackIntake({
      app: this.app,
      directory,
      once: options.once ?? memoryOnce(),
      now,
      isActiveThread: options.isActiveThread,
      ...(options.commandName ? { commandName: options.commandName } : {}),
      ...(options.helpText ? { helpText: options.helpText } : {}),
      ...(options.assistant ? { assistant: options.assistant } : {}),
      assistantThread: (channel, threadTs) => this.poster.noteAssistantThread(channel, threadTs),
    });
  }

  /** The Bolt logger (the adapter logs through it, so one logger configuration covers both). */
  get logger(): Logger {
    return this.app.logger;
  }

  /** HTTP mode, after start: where the receiver listens (for tests and benches using port 0). */
  get httpAddress(): { host: string; port: number; url: string } | undefined {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) return undefined;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return {
      host: address.address,
      port: address.port,
      url: `http://${host}:${address.port}${this.options.path ?? DEFAULT_EVENTS_PATH}`,
    };
  }

  async start(handlers: PlatformHandlers): Promise<void> {
    this.intake.serve(handlers);
    try {
      await this.app.init();
    } catch (error) {
      throw toPlatformError('auth.test', error);
    }
    if (this.mode === 'http') {
      const listen = this.options.host
        ? { port: this.options.port ?? 3000, host: this.options.host }
        : (this.options.port ?? 3000);
      this.server = (await this.app.start(listen)) as Server;
    } else {
      try {
        await this.app.start();
      } catch (error) {
        throw toPlatformError('apps.connections.open', error);
      }
    }
  }

  /** True while Slack can reach threadql: the HTTP server listens, or the Socket Mode connection is open. */
  isReady(): boolean {
    if (this.receiver instanceof SocketModeReceiver)
      return this.receiver.client.websocket?.isActive() === true;
    return this.server?.listening === true;
  }

  async stop(): Promise<void> {
    await this.stopAccepting();
    await this.idle();
  }

  /**
   * Stops taking events (closes the HTTP listener or the Socket Mode connection) while replies still go out:
   * the first step of a graceful shutdown, so a load balancer sends new events to another replica.
   */
  async stopAccepting(): Promise<void> {
    if (this.receiver instanceof SocketModeReceiver) {
      if (this.socketClosed) return;
      this.socketClosed = true;
      await this.receiver.client.disconnect();
    } else if (this.server) {
      this.server = undefined;
      await this.app.stop();
    }
  }

  /** Resolves once every piece of work handed to the handlers has settled (tests, graceful shutdown). */
  async idle(): Promise<void> {
    await this.intake.idle();
  }

  post(thread: ThreadRef, reply: Reply): Promise<PostedMessage> {
    return this.poster.post(thread, reply);
  }

  update(message: PostedMessage, reply: Reply): Promise<void> {
    return this.poster.update(message, reply);
  }

  upload(thread: ThreadRef, files: FileAttachment[], comment?: string): Promise<void> {
    return this.poster.upload(thread, files, comment);
  }

  postEphemeral(thread: ThreadRef, user: UserRef, text: string): Promise<void> {
    return this.poster.postEphemeral(thread, user, text);
  }

  /** A whole reply only `user` sees: ephemeral in the thread, files by DM (see SlackPoster.postPrivate). */
  postPrivate(thread: ThreadRef, user: UserRef, reply: Reply): Promise<void> {
    return this.poster.postPrivate(thread, user, reply);
  }

  /** `<!subteam^S…>` for a user-group id, `<@U…>` for a user id, as threadql.yml lists them. */
  mention(id: string): string {
    return this.poster.mention(id);
  }

  /** The thread's permalink (chat.getPermalink). */
  threadLink(thread: ThreadRef): Promise<string | undefined> {
    return this.poster.threadLink(thread);
  }

  openModal(trigger: unknown, modal: ModalSpec): Promise<void> {
    return this.poster.openModal(trigger, modal);
  }

  /** A new top-level message in a channel (scheduled reports); files follow in the channel, not in a thread. */
  postToChannel(channel: ChannelRef, reply: Reply): Promise<PostedMessage> {
    return this.poster.postToChannel(channel, reply);
  }

  /** A direct message (conversations.open, then the message and its files in that DM). */
  postDirect(user: UserRef, reply: Reply): Promise<void> {
    return this.poster.postDirect(user, reply);
  }

  /** Whether the bot can post into a channel and who reads it (conversations.info). */
  describeChannel(channel: ChannelRef): Promise<ChannelInfo> {
    return describeSlackChannel(this.app.client, channel);
  }
}
