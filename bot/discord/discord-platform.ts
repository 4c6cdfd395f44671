/**
 * threadql on Discord: the ChatPlatform port over a discord.js v14 gateway client.
 *
 * Triggers: a mention in a channel starts a thread on that message; messages in threads threadql owns
 * continue the session; DMs are their own thread; /ask, /schema and /help are deferred at once, get a thread
 * of their own, then flow like a mention. Clicks and modal submits are acknowledged within Discord's 3 s.
 * This class owns the client's lifecycle; DiscordIntake takes events in, DiscordPoster sends.
 */
import { Events } from './discord-js.ts';
import type { Client, RESTOptions } from 'discord.js';
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
import { PlatformError } from '../../core/errors.ts';
import { createLogger, type Logger } from '../../core/logger.ts';
import { createDiscordClient } from './create-discord-client.ts';
import { describeDiscordChannel } from './discord-channel-info.ts';
import { DiscordIntake } from './discord-intake.ts';
import { DISCORD_LIMITS } from './discord-limits.ts';
import { DiscordPoster } from './discord-poster.ts';
import { DiscordTrigger } from './discord-trigger.ts';
import { DiscordTriggers } from './discord-triggers.ts';
import { modalToDiscord } from './modal-to-discord.ts';
import { registerSlashCommands, type CommandRegistration } from './slash-commands.ts';
import { toPlatformError } from './to-platform-error.ts';

export interface DiscordPlatformOptions {
  /** Bot token (DISCORD_TOKEN). */
  token: string;
  /** Application id (DISCORD_APPLICATION_ID); taken from READY when absent. */
  applicationId?: string;
  /** REST base without version (DISCORD_API_URL); discord.js appends `/v10`. */
  apiUrl?: string;
  /** Where /ask, /schema, /help are registered (threadql.yml `discord.commands`, `discord.guildIds`). */
  commands?: { mode: CommandRegistration; guildIds: readonly string[] };
  /**
   * Whether a thread is a live threadql session, so its messages continue it without a mention. Default:
   * the thread was started by this bot (its owner), which survives restarts without a lookup.
   */
  isActiveThread?: (ref: ThreadRef) => boolean | Promise<boolean>;
  /**
   * How long a click or modal submit may stay unanswered so the handler can still open a modal (Discord's
   * only way to answer with one); after it, or when the handler returns, the adapter defers. Default 1,500 ms
   * (Discord's limit is 3 s).
   */
  ackAfterMs?: number;
  /** Characters per code-block line before Discord wraps (tables are laid out to fit). Default 72. */
  codeBlockWidth?: number;
  maxUploadBytes?: number;
  /** Extra REST options, e.g. `{ retries: 0 }` in tests or `{ rejectOnRateLimit: ['/channels'] }`. */
  rest?: Partial<RESTOptions>;
  logger?: Logger;
  now?: () => number;
}

export class DiscordPlatform implements ChatPlatform {
  readonly name = 'discord' as const;
  readonly capabilities: PlatformCapabilities;
  readonly #options: DiscordPlatformOptions;
  readonly #log: Logger;
  #client: Client | undefined;
  readonly #triggers = new DiscordTriggers();
  readonly #intake: DiscordIntake;
  readonly #poster: DiscordPoster;

  constructor(options: DiscordPlatformOptions) {
    this.#options = options;
    this.#log = options.logger ?? createLogger('silent');
    this.capabilities = {
      modals: true,
      ephemeral: true,
      ephemeralScope: 'interaction',
      tableBlocks: false,
      maxMessageChars: DISCORD_LIMITS.messageContent,
      codeBlockWidth: options.codeBlockWidth ?? 72,
    };
    this.#intake = new DiscordIntake({
      client: () => this.client,
      isActiveThread: options.isActiveThread,
      ackAfterMs: options.ackAfterMs,
      triggers: this.#triggers,
      now: options.now ?? Date.now,
      log: this.#log,
    });
    this.#poster = new DiscordPoster({
      client: () => this.client,
      isRole: (id, thread) => this.#isRole(id, thread),
      triggers: this.#triggers,
      codeBlockWidth: this.capabilities.codeBlockWidth,
      maxUploadBytes: options.maxUploadBytes,
      log: this.#log,
    });
  }

  /** The discord.js client once started (for the integrator's health checks and tests). */
  get client(): Client {
    if (!this.#client) throw new PlatformError('platform_failed', 'The Discord adapter is not started.');
    return this.#client;
  }

  /** Resolves when every event handler started so far has finished (tests, graceful shutdown). */
  async idle(): Promise<void> {
    await this.#intake.idle();
  }

  async start(handlers: PlatformHandlers): Promise<void> {
    if (this.#client) throw new PlatformError('platform_failed', 'The Discord adapter is already started.');
    this.#intake.serve(handlers);
    const client = createDiscordClient({ apiUrl: this.#options.apiUrl, rest: this.#options.rest });
    this.#client = client;
    this.#intake.listen(client);
    client.on(Events.Error, (error) => this.#log.error({ err: error.message }, 'discord client error'));
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    try {
      await client.login(this.#options.token);
      await ready;
    } catch (error) {
      await client.destroy();
      this.#client = undefined;
      throw toPlatformError(error, 'connect to the gateway');
    }
    const commands = this.#options.commands ?? { mode: 'global', guildIds: [] };
    if (commands.mode !== 'none') {
      const applicationId = this.#options.applicationId ?? client.application?.id;
      if (!applicationId)
        throw new PlatformError('platform_failed', 'Discord did not report the application id.');
      await registerSlashCommands(client.rest, applicationId, commands.mode, commands.guildIds);
    }
  }

  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    await client.destroy();
    await this.idle();
    this.#triggers.clear();
  }

  post(thread: ThreadRef, reply: Reply): Promise<PostedMessage> {
    return this.#poster.post(thread, reply);
  }

  update(message: PostedMessage, reply: Reply): Promise<void> {
    return this.#poster.update(message, reply);
  }

  upload(thread: ThreadRef, files: FileAttachment[], comment?: string): Promise<void> {
    return this.#poster.upload(thread, files, comment);
  }

  /** Answers the user's latest interaction in the thread when there is one, else a DM (see DiscordPoster). */
  postEphemeral(thread: ThreadRef, user: UserRef, text: string): Promise<void> {
    return this.#poster.postEphemeral(thread, user, text);
  }

  /** A whole reply only `user` sees: ephemeral to their latest interaction, else a DM (see DiscordPoster). */
  postPrivate(thread: ThreadRef, user: UserRef, reply: Reply): Promise<void> {
    return this.#poster.postPrivate(thread, user, reply);
  }

  /** A new message in a server channel (scheduled reports); update() edits it where it is. */
  postToChannel(channel: ChannelRef, reply: Reply): Promise<PostedMessage> {
    return this.#poster.postToChannel(channel, reply);
  }

  /** A direct message (files attached) in the DM channel Discord opens for the user. */
  postDirect(user: UserRef, reply: Reply): Promise<void> {
    return this.#poster.postDirect(user, reply);
  }

  /** Whether the bot can post a report into a channel (its permissions there) and whether @everyone can view it. */
  async describeChannel(channel: ChannelRef): Promise<ChannelInfo> {
    try {
      return await describeDiscordChannel(this.client, channel.channel);
    } catch (error) {
      throw toPlatformError(error, 'look up the channel');
    }
  }

  /** Opens a modal; `trigger` is the ButtonClick's trigger, and this must be its first answer. */
  async openModal(trigger: unknown, modal: ModalSpec): Promise<void> {
    if (!(trigger instanceof DiscordTrigger)) {
      throw new PlatformError('platform_failed', 'A Discord modal needs the click that asked for it.');
    }
    await trigger.showModal(modalToDiscord(modal));
  }

  /** True when `id` is a role of the thread's guild (roles and users share the snowflake space). */
  #isRole(id: string, thread: ThreadRef): boolean {
    return this.#client?.guilds.cache.get(thread.workspace)?.roles.cache.has(id) ?? false;
  }

  /** `<@&id>` for a role of the thread's guild, `<@id>` for a user. */
  mention(id: string, thread: ThreadRef): string {
    return this.#isRole(id, thread) ? `<@&${id}>` : `<@${id}>`;
  }

  /** The thread's URL (`https://discord.com/channels/<guild>/<thread>`; `@me` for DMs). */
  async threadLink(thread: ThreadRef): Promise<string | undefined> {
    return `https://discord.com/channels/${thread.workspace}/${thread.thread}`;
  }
}
