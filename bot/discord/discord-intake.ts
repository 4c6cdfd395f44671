/**
 * What the Discord adapter takes in: messages (a mention starts a thread, a message in a threadql thread continues
 * it, a DM is its own thread), /ask, /schema and /help (deferred at once, given a thread of their own), clicks and
 * modal submits (acknowledged within Discord's 3 s). Each event's work is tracked so a shutdown can wait for it.
 */
import type { ButtonInteraction, Client, Interaction, Message, ModalSubmitInteraction } from 'discord.js';
import type { IncomingMessage, PlatformHandlers, ThreadRef } from '../../core/conversation/chat-platform.ts';
import type { Logger } from '../../core/logger.ts';
import { commandThread } from './command-thread.ts';
import { Events } from './discord-js.ts';
import { decodeCustomId } from './custom-id.ts';
import { threadRefFor, userRefFor } from './discord-refs.ts';
import { DiscordTrigger } from './discord-trigger.ts';
import type { DiscordTriggers } from './discord-triggers.ts';
import { messageTrigger, type MessageTriggerContext } from './message-trigger.ts';
import { isSlashCommand } from './slash-commands.ts';

/** Threads threadql starts archive after a day without messages. */
export const AUTO_ARCHIVE_MINUTES = 1440;

export interface DiscordIntakeOptions {
  /** The started client (throws when the adapter is not started). */
  client: () => Client;
  /** See DiscordPlatformOptions.isActiveThread. */
  isActiveThread?: ((ref: ThreadRef) => boolean | Promise<boolean>) | undefined;
  /** See DiscordPlatformOptions.ackAfterMs; default 1,500 ms. */
  ackAfterMs?: number | undefined;
  triggers: DiscordTriggers;
  now: () => number;
  log: Logger;
}

/** Turns gateway events into handler calls, acknowledging interactions in time. */
export class DiscordIntake {
  readonly #options: DiscordIntakeOptions;
  readonly #inFlight = new Set<Promise<void>>();
  #handlers: PlatformHandlers | undefined;

  constructor(options: DiscordIntakeOptions) {
    this.#options = options;
  }

  /** From now on events go to `handlers`. */
  serve(handlers: PlatformHandlers): void {
    this.#handlers = handlers;
  }

  /** Subscribes to the client's messages and interactions. */
  listen(client: Client): void {
    client.on(Events.MessageCreate, (message) => this.#track(this.#onMessage(message), 'message'));
    client.on(Events.InteractionCreate, (interaction) =>
      this.#track(this.#onInteraction(interaction), 'interaction'),
    );
  }

  /** Resolves when every event handler started so far has finished (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.#inFlight.size) await Promise.allSettled([...this.#inFlight]);
  }

  #track(work: Promise<void>, what: string): void {
    const tracked = work.catch((error: unknown) => {
      this.#options.log.error(
        { err: error instanceof Error ? error.message : String(error), event: what },
        'discord event failed',
      );
    });
    this.#inFlight.add(tracked);
    void tracked.finally(() => this.#inFlight.delete(tracked));
  }

  #context(): MessageTriggerContext {
    const client = this.#options.client();
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
      const trigger = new DiscordTrigger(interaction, this.#options.now);
      // Deferring first keeps within Discord's 3 s whatever the thread creation costs.
      await trigger.acknowledge();
      const { thread, text } = await commandThread(interaction, AUTO_ARCHIVE_MINUTES);
      const user = userRefFor(interaction.guildId, interaction.user, interaction.member);
      this.#options.triggers.remember(trigger, thread, user);
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
    this.#options.log.warn(
      { err: error instanceof Error ? error.message : String(error) },
      'discord interaction not acknowledged',
    );
  }

  async #onButton(interaction: ButtonInteraction): Promise<void> {
    const decoded = decodeCustomId(interaction.customId);
    if (!decoded) return;
    const thread = threadRefFor(interaction.guildId, interaction.channel, interaction.channelId);
    const user = userRefFor(interaction.guildId, interaction.user, interaction.member);
    const trigger = new DiscordTrigger(interaction, this.#options.now);
    this.#options.triggers.remember(trigger, thread, user);
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
    const trigger = new DiscordTrigger(interaction, this.#options.now);
    this.#options.triggers.remember(trigger, thread, user);
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
