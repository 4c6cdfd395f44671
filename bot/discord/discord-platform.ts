/**
 * threadql on Discord: the ChatPlatform port over a discord.js v14 gateway client.
 *
 * Triggers: a mention in a channel starts a thread on that message; messages in threads threadql owns
 * continue the session; DMs are their own thread; /ask, /schema and /help are deferred at once, get a thread
 * of their own, then flow like a mention. Clicks and modal submits are acknowledged within Discord's 3 s.
 */
import { Events, Routes } from './discord-js.ts';
import type {
  APIMessage,
  ButtonInteraction,
  Client,
  Interaction,
  Message,
  ModalSubmitInteraction,
  RESTOptions,
} from 'discord.js';
import type {
  ChannelInfo,
  ChannelRef,
  ChatPlatform,
  FileAttachment,
  IncomingMessage,
  ModalSpec,
  PlatformCapabilities,
  PlatformHandlers,
  PostedMessage,
  Reply,
  ThreadRef,
  UserRef,
} from '../../core/conversation/chat-platform.ts';
import { threadKey, userKey } from '../../core/conversation/chat-platform.ts';
import { PlatformError } from '../../core/errors.ts';
import { createLogger, type Logger } from '../../core/logger.ts';
import { commandThread } from './command-thread.ts';
import { createDiscordClient } from './create-discord-client.ts';
import { decodeCustomId } from './custom-id.ts';
import { describeDiscordChannel } from './discord-channel-info.ts';
import { DISCORD_LIMITS } from './discord-limits.ts';
import { toDiscordMarkdown } from './discord-markdown.ts';
import { threadRefFor, userRefFor } from './discord-refs.ts';
import { truncateText } from './discord-text.ts';
import { DiscordTrigger } from './discord-trigger.ts';
import { messageTrigger, type MessageTriggerContext } from './message-trigger.ts';
import { modalToDiscord } from './modal-to-discord.ts';
import { attachmentsFor, replyToDiscord } from './reply-to-discord.ts';
import { isSlashCommand, registerSlashCommands, type CommandRegistration } from './slash-commands.ts';
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

const AUTO_ARCHIVE_MINUTES = 1440;

export class DiscordPlatform implements ChatPlatform {
  readonly name = 'discord' as const;
  readonly capabilities: PlatformCapabilities;
  readonly #options: DiscordPlatformOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  #client: Client | undefined;
  #handlers: PlatformHandlers | undefined;
  /** The newest interaction per (thread, user): where an ephemeral message for them can go. */
  readonly #triggers = new Map<string, DiscordTrigger>();
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: DiscordPlatformOptions) {
    this.#options = options;
    this.#log = options.logger ?? createLogger('silent');
    this.#now = options.now ?? Date.now;
    this.capabilities = {
      modals: true,
      ephemeral: true,
      ephemeralScope: 'interaction',
      tableBlocks: false,
      maxMessageChars: DISCORD_LIMITS.messageContent,
      codeBlockWidth: options.codeBlockWidth ?? 72,
    };
  }

  /** The discord.js client once started (for the integrator's health checks and tests). */
  get client(): Client {
    if (!this.#client) throw new PlatformError('platform_failed', 'The Discord adapter is not started.');
    return this.#client;
  }

  /** Resolves when every event handler started so far has finished (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.#inFlight.size) await Promise.allSettled([...this.#inFlight]);
  }

  async start(handlers: PlatformHandlers): Promise<void> {
    if (this.#client) throw new PlatformError('platform_failed', 'The Discord adapter is already started.');
    this.#handlers = handlers;
    const client = createDiscordClient({ apiUrl: this.#options.apiUrl, rest: this.#options.rest });
    this.#client = client;
    client.on(Events.MessageCreate, (message) => this.#track(this.#onMessage(message), 'message'));
    client.on(Events.InteractionCreate, (interaction) =>
      this.#track(this.#onInteraction(interaction), 'interaction'),
    );
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

  async post(thread: ThreadRef, reply: Reply): Promise<PostedMessage> {
    const { body, files } = replyToDiscord(reply, this.#replyOptions(thread));
    try {
      const sent = (await this.client.rest.post(Routes.channelMessages(thread.thread), {
        body,
        files,
      })) as APIMessage;
      return { thread, messageId: sent.id };
    } catch (error) {
      throw toPlatformError(error, 'post a message');
    }
  }

  async update(message: PostedMessage, reply: Reply): Promise<void> {
    const { body, files } = replyToDiscord(reply, this.#replyOptions(message.thread));
    try {
      await this.client.rest.patch(Routes.channelMessage(message.thread.thread, message.messageId), {
        body,
        files,
      });
    } catch (error) {
      throw toPlatformError(error, 'update a message');
    }
  }

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
        await this.client.rest.post(Routes.channelMessages(thread.thread), { body, files: raw });
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
    const trigger = this.#triggers.get(this.#triggerKey(thread, user));
    if (trigger && !trigger.expired) {
      await trigger.ephemeral(truncateText(text, DISCORD_LIMITS.messageContent));
      return;
    }
    const where = thread.workspace === '@me' ? '' : `(about <#${thread.thread}>)\n`;
    try {
      const dm = await this.client.users.createDM(user.user);
      await this.client.rest.post(Routes.channelMessages(dm.id), {
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
    const trigger = this.#triggers.get(this.#triggerKey(thread, user));
    if (trigger && !trigger.expired) {
      try {
        await trigger.ephemeralMessage(body, files);
        return;
      } catch (error) {
        this.#log.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'ephemeral reply refused; sending it by direct message',
        );
      }
    }
    try {
      const dm = await this.client.users.createDM(user.user);
      if (thread.workspace !== '@me') {
        await this.client.rest.post(Routes.channelMessages(dm.id), {
          body: {
            content: `From your question in <#${thread.thread}> (only you see this):`,
            allowed_mentions: { parse: [] },
          },
        });
      }
      await this.client.rest.post(Routes.channelMessages(dm.id), { body, files });
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
      const sent = (await this.client.rest.post(Routes.channelMessages(channel.channel), {
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
      const dm = await this.client.users.createDM(user.user);
      await this.client.rest.post(Routes.channelMessages(dm.id), { body, files });
    } catch (error) {
      throw toPlatformError(error, 'send a direct message');
    }
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

  #replyOptions(thread?: ThreadRef) {
    return {
      codeBlockWidth: this.capabilities.codeBlockWidth,
      maxUploadBytes: this.#options.maxUploadBytes,
      ...(thread ? { isRole: (id: string) => this.#isRole(id, thread) } : {}),
    };
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

  #triggerKey(thread: ThreadRef, user: UserRef): string {
    return `${threadKey(thread)}|${userKey(user)}`;
  }

  #remember(trigger: DiscordTrigger, thread: ThreadRef, user: UserRef): void {
    for (const [key, old] of this.#triggers) if (old.expired) this.#triggers.delete(key);
    this.#triggers.set(this.#triggerKey(thread, user), trigger);
  }

  #track(work: Promise<void>, what: string): void {
    const tracked = work.catch((error: unknown) => {
      this.#log.error(
        { err: error instanceof Error ? error.message : String(error), event: what },
        'discord event failed',
      );
    });
    this.#inFlight.add(tracked);
    void tracked.finally(() => this.#inFlight.delete(tracked));
  }

  #context(): MessageTriggerContext {
    const client = this.client;
    return {
      botUserId: client.user?.id ?? '',
      isActiveThread: this.#options.isActiveThread,
      autoArchiveMinutes: AUTO_ARCHIVE_MINUTES,
    };
  }

  async #onMessage(message: Message): Promise<void> {
    const incoming = await messageTrigger(message, this.#context());
    if (incoming) await this.#handlers?.onMessage(incoming);
  }

  async #onInteraction(interaction: Interaction): Promise<void> {
    if (interaction.user.bot) return;
    if (interaction.isChatInputCommand() && isSlashCommand(interaction.commandName)) {
      const trigger = new DiscordTrigger(interaction, this.#now);
      // Deferring first keeps within Discord's 3 s whatever the thread creation costs.
      await trigger.acknowledge();
      const { thread, text } = await commandThread(interaction, AUTO_ARCHIVE_MINUTES);
      const user = userRefFor(interaction.guildId, interaction.user, interaction.member);
      this.#remember(trigger, thread, user);
      const incoming: IncomingMessage = {
        id: interaction.id,
        thread,
        user,
        text,
        receivedAt: interaction.createdAt,
      };
      await this.#handlers?.onMessage(incoming);
      return;
    }
    if (interaction.isButton()) await this.#onButton(interaction);
    else if (interaction.isModalSubmit()) await this.#onModalSubmit(interaction);
  }

  /** Runs `work` with the interaction acknowledged by ackAfterMs at the latest, and at once when it settles. */
  async #withAck(trigger: DiscordTrigger, work: () => Promise<void>): Promise<void> {
    const timer = setTimeout(
      () => void trigger.acknowledge().catch((e: unknown) => this.#ackFailed(e)),
      this.#options.ackAfterMs ?? 1500,
    );
    try {
      await work();
    } finally {
      clearTimeout(timer);
      await trigger.acknowledge().catch((e: unknown) => this.#ackFailed(e));
    }
  }

  #ackFailed(error: unknown): void {
    this.#log.warn(
      { err: error instanceof Error ? error.message : String(error) },
      'discord interaction not acknowledged',
    );
  }

  async #onButton(interaction: ButtonInteraction): Promise<void> {
    const decoded = decodeCustomId(interaction.customId);
    if (!decoded) return;
    const thread = threadRefFor(interaction.guildId, interaction.channel, interaction.channelId);
    const user = userRefFor(interaction.guildId, interaction.user, interaction.member);
    const trigger = new DiscordTrigger(interaction, this.#now);
    this.#remember(trigger, thread, user);
    await this.#withAck(trigger, async () => {
      await this.#handlers?.onButton({
        id: interaction.id,
        thread,
        message: { thread, messageId: interaction.message.id },
        user,
        action: decoded.action,
        value: decoded.value,
        trigger,
      });
    });
  }

  async #onModalSubmit(interaction: ModalSubmitInteraction): Promise<void> {
    const decoded = decodeCustomId(interaction.customId);
    if (!decoded) return;
    const thread = threadRefFor(interaction.guildId, interaction.channel, interaction.channelId ?? '');
    const user = userRefFor(interaction.guildId, interaction.user, interaction.member);
    const fields: Record<string, string> = {};
    for (const [id, field] of interaction.fields.fields) {
      if ('value' in field && typeof field.value === 'string') fields[id] = field.value;
    }
    const trigger = new DiscordTrigger(interaction, this.#now);
    this.#remember(trigger, thread, user);
    await this.#withAck(trigger, async () => {
      await this.#handlers?.onModalSubmit({
        id: interaction.id,
        thread,
        user,
        modalId: decoded.action,
        value: decoded.value,
        fields,
      });
    });
  }
}
