/**
 * The handle threadql carries for one Discord interaction (slash command, button click, modal submit).
 *
 * Discord wants every interaction answered within 3 s, exactly once, and only the *first* answer may open a
 * modal; ephemeral messages exist only as answers to an interaction (valid for 15 minutes). This class owns
 * that state: the adapter acknowledges after a short grace period (so a handler can still open a modal), the
 * engine can open a modal or send an ephemeral message through it, and all of it is serialised so two
 * answers never race.
 */
import { MessageFlags } from './discord-js.ts';
import type {
  APIModalInteractionResponseCallbackData,
  ButtonInteraction,
  ChatInputCommandInteraction,
  ModalSubmitInteraction,
} from 'discord.js';
import { PlatformError } from '../../core/errors.ts';
import type { DiscordFile, DiscordMessageBody } from './reply-to-discord.ts';
import { toPlatformError } from './to-platform-error.ts';

export type TriggerInteraction = ButtonInteraction | ChatInputCommandInteraction | ModalSubmitInteraction;

/** Interaction tokens last 15 minutes; stop a little early so a slow call does not straddle the edge. */
const TOKEN_LIFETIME_MS = 14.5 * 60 * 1000;

export class DiscordTrigger {
  readonly interaction: TriggerInteraction;
  readonly #now: () => number;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(interaction: TriggerInteraction, now: () => number = Date.now) {
    this.interaction = interaction;
    this.#now = now;
  }

  /** True once the interaction has been answered (deferred, replied, or a modal shown). */
  get answered(): boolean {
    return this.interaction.deferred || this.interaction.replied;
  }

  /** True when Discord no longer accepts answers or follow-ups for this interaction. */
  get expired(): boolean {
    return this.#now() - this.interaction.createdTimestamp > TOKEN_LIFETIME_MS;
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Acknowledges the interaction if nothing has answered it yet; idempotent. */
  acknowledge(): Promise<void> {
    return this.#serial(async () => {
      if (this.answered) return;
      const i = this.interaction;
      try {
        if (i.isButton()) await i.deferUpdate();
        else if (i.isModalSubmit() && i.isFromMessage()) await i.deferUpdate();
        else if (i.isModalSubmit()) await i.reply({ content: '✓ received', flags: MessageFlags.Ephemeral });
        else await i.deferReply();
      } catch (error) {
        throw toPlatformError(error, 'acknowledge the interaction');
      }
    });
  }

  /** Opens a modal; only possible as the first answer to a click or command. */
  showModal(modal: APIModalInteractionResponseCallbackData): Promise<void> {
    return this.#serial(async () => {
      const i = this.interaction;
      if (i.isModalSubmit()) {
        throw new PlatformError(
          'platform_failed',
          'Discord cannot open a modal in answer to a modal submit.',
        );
      }
      if (this.answered) {
        throw new PlatformError(
          'platform_failed',
          'Discord opens a modal only as the first answer to a click, and this click was already answered.',
          { hint: 'Open the modal straight from the button handler, before any slow work.' },
        );
      }
      try {
        await i.showModal(modal);
      } catch (error) {
        throw toPlatformError(error, 'open the modal');
      }
    });
  }

  /**
   * Sends a whole message (embeds, components, files) only the interacting user sees: the first answer if none
   * was given, else a follow-up; `body` is the REST body replyToDiscord built.
   */
  ephemeralMessage(body: DiscordMessageBody, files: DiscordFile[]): Promise<void> {
    return this.#serial(async () => {
      if (this.expired)
        throw new PlatformError('platform_failed', 'This Discord interaction expired (15 minutes).');
      const i = this.interaction;
      const payload = {
        ...(body.content ? { content: body.content } : {}),
        embeds: body.embeds,
        components: body.components as never,
        files: files.map((f, n) => ({
          attachment: f.data,
          name: f.name,
          ...(body.attachments[n]?.description ? { description: body.attachments[n]!.description! } : {}),
        })),
        flags: MessageFlags.Ephemeral,
        allowedMentions: { parse: [] },
      } as const;
      try {
        if (this.answered) await i.followUp(payload);
        else await i.reply(payload);
      } catch (error) {
        throw toPlatformError(error, 'send a private message');
      }
    });
  }

  /** Sends a message only the interacting user sees: the first answer if none was given, else a follow-up. */
  ephemeral(content: string): Promise<void> {
    return this.#serial(async () => {
      if (this.expired)
        throw new PlatformError('platform_failed', 'This Discord interaction expired (15 minutes).');
      const i = this.interaction;
      const payload = { content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } } as const;
      try {
        if (this.answered) await i.followUp(payload);
        else await i.reply(payload);
      } catch (error) {
        throw toPlatformError(error, 'send a private message');
      }
    });
  }
}
