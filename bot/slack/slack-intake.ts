/**
 * What the Slack adapter takes in: mentions, DMs, replies in active threads, assistant-thread messages and
 * `/threadql` become IncomingMessages; clicks and modal submits become ButtonClick / ModalSubmit. Every listener
 * acknowledges first and hands the work to the handlers afterwards, so Slack's 3-second ack deadline never depends
 * on the LLM or a database; that work is tracked so a shutdown can wait for it.
 */
import type { App, Logger } from '@slack/bolt';
import type { PlatformHandlers, ThreadRef } from '../../core/conversation/chat-platform.ts';
import { toUserMessage } from '../../core/errors.ts';
import { helpText } from '../../core/conversation/chat-grammar.ts';
import type { OnceFn } from './event-dedupe.ts';
import { modalSubmitFromView, type ViewSubmissionBody } from './modal-view.ts';
import { callSlack } from './slack-api-error.ts';
import { registerSlackAssistant } from './slack-assistant.ts';
import type { SlackDirectory } from './slack-directory.ts';
import {
  buttonClickFromAction,
  incomingFromEvent,
  routeMessage,
  slackThread,
  slackUser,
  type BlockActionsBody,
  type ButtonAction,
  type SlackMessageEvent,
} from './slack-incoming.ts';
import type { SlackPlatformOptions } from './slack-platform-options.ts';
import { commandRootText, parseSlashCommand, slashHelpText } from './slash-command.ts';

export interface SlackIntakeOptions extends Pick<
  SlackPlatformOptions,
  'isActiveThread' | 'commandName' | 'helpText' | 'assistant'
> {
  app: App;
  directory: SlackDirectory;
  once: OnceFn;
  now: () => Date;
  /** A thread became an assistant thread (replies there may use native feedback). */
  assistantThread(channel: string, threadTs: string): void;
}

/** Registers the Bolt listeners and runs each accepted event through the handlers after the ack. */
export class SlackIntake {
  private readonly options: SlackIntakeOptions;
  private readonly app: App;
  private readonly inflight = new Set<Promise<void>>();
  private handlers: PlatformHandlers | undefined;

  constructor(options: SlackIntakeOptions) {
    this.options = options;
    this.app = options.app;
    this.registerListeners();
    if (options.assistant) {
      registerSlackAssistant(this.app, options.assistant, {
        deliver: (event, team, botUserId, prepare) =>
          this.acceptMessage(event, team, botUserId, 'dm', prepare),
        assistantThread: (channel, threadTs) => options.assistantThread(channel, threadTs),
      });
    }
  }

  private get logger(): Logger {
    return this.app.logger;
  }

  /** From now on accepted events go to `handlers` (before this, they are dropped). */
  serve(handlers: PlatformHandlers): void {
    this.handlers = handlers;
  }

  /** Resolves once every piece of work handed to the handlers has settled (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private registerListeners(): void {
    this.app.event('app_mention', async ({ event, body, context }) => {
      this.onMessageEvent(
        event as unknown as SlackMessageEvent,
        body.team_id,
        context.teamId,
        context.botUserId,
        context.retryNum,
      );
    });
    this.app.message(async ({ message, body, context }) => {
      this.onMessageEvent(
        message as unknown as SlackMessageEvent,
        body.team_id,
        context.teamId,
        context.botUserId,
        context.retryNum,
      );
    });
    this.app.action(/^threadql:/, async ({ ack, body, action }) => {
      await ack();
      if (body.type !== 'block_actions') return;
      const click = buttonClickFromAction(
        body as unknown as BlockActionsBody,
        action as unknown as ButtonAction,
      );
      if (click)
        this.track('button', async (h) =>
          h.onButton({ ...click, user: await this.options.directory.enrich(click.user) }),
        );
    });
    this.app.view({ callback_id: /^threadql:/, type: 'view_submission' }, async ({ ack, body }) => {
      await ack();
      const submit = modalSubmitFromView(body as unknown as ViewSubmissionBody);
      if (submit)
        this.track('modal', async (h) =>
          h.onModalSubmit({ ...submit, user: await this.options.directory.enrich(submit.user) }),
        );
      else this.logger.warn('threadql: ignored a modal submit without valid private_metadata');
    });
    const commandName = this.options.commandName ?? '/threadql';
    this.app.command(commandName, async ({ ack, command, respond, context }) => {
      const parsed = parseSlashCommand(command.text ?? '');
      if (parsed.kind === 'help') {
        await ack({
          response_type: 'ephemeral',
          text: slashHelpText(commandName, this.options.helpText?.() ?? helpText('slack')),
        });
        return;
      }
      await ack();
      const team = context.teamId ?? command.team_id;
      this.track('slash command', async (h) => {
        let rootTs: string;
        try {
          const root = await callSlack('chat.postMessage', () =>
            this.app.client.chat.postMessage({
              channel: command.channel_id,
              text: commandRootText(parsed.text, command.user_id, commandName),
              unfurl_links: false,
            }),
          );
          rootTs = String(root.ts);
        } catch (error) {
          // The channel may not have the bot in it; the command's response_url still reaches the user privately.
          await respond({ response_type: 'ephemeral', text: toUserMessage(error) });
          throw error;
        }
        await h.onMessage({
          id: rootTs,
          thread: slackThread(team, command.channel_id, rootTs),
          user: await this.options.directory.enrich(slackUser(team, command.user_id, command.user_name)),
          text: parsed.text,
          receivedAt: this.options.now(),
        });
      });
    });
  }

  private onMessageEvent(
    event: SlackMessageEvent,
    bodyTeam: string | undefined,
    contextTeam: string | undefined,
    botUserId: string | undefined,
    retryNum: number | undefined,
  ): void {
    const route = routeMessage(event, botUserId);
    if (route.kind === 'ignore') {
      this.logger.debug(`threadql: ignored message ${event.ts}: ${route.reason}`);
      return;
    }
    if (retryNum) this.logger.debug(`threadql: Slack retry #${retryNum} of message ${event.ts}`);
    const team = contextTeam ?? bodyTeam ?? event.team ?? 'unknown';
    this.acceptMessage(event, team, botUserId, route.kind);
  }

  /** Dedupe, the active-thread check and the handler all run after the listener returned, i.e. after the ack. */
  private acceptMessage(
    event: SlackMessageEvent,
    team: string,
    botUserId: string | undefined,
    kind: string,
    prepare?: () => Promise<void>,
  ): void {
    const receivedAt = this.options.now();
    this.track('message', async (h) => {
      // Keyed by the message, not the event id: a retry repeats both, and the key also absorbs duplicates
      // across event types for the same message.
      if (!(await this.options.once(`${team}:${event.channel}:${event.ts}`))) return;
      const message = incomingFromEvent(event, team, botUserId, receivedAt);
      if (kind === 'thread_reply' && !(await this.isActive(message.thread))) return;
      const [user] = await Promise.all([this.options.directory.enrich(message.user), prepare?.()]);
      await h.onMessage({ ...message, user });
    });
  }

  private async isActive(thread: ThreadRef): Promise<boolean> {
    try {
      return await this.options.isActiveThread(thread);
    } catch (error) {
      this.logger.warn(`threadql: isActiveThread failed; treating the thread as inactive: ${String(error)}`);
      return false;
    }
  }

  private track(label: string, work: (handlers: PlatformHandlers) => Promise<void>): void {
    const handlers = this.handlers;
    if (!handlers) return;
    const task: Promise<void> = Promise.resolve()
      .then(() => work(handlers))
      .catch((error: unknown) => {
        // The adapter keeps serving: a failed turn is the handler's to report in its thread; here it is logged.
        this.logger.error(
          `threadql: ${label} handling failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      })
      .finally(() => this.inflight.delete(task));
    this.inflight.add(task);
  }
}
