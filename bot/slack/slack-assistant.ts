/**
 * Slack's AI-app surface (the assistant side panel / "Agents & AI Apps"): suggested prompts when a thread opens,
 * a "thinking" status while a question is worked on, and a thread title from the first question. Messages in
 * assistant threads reach the same handlers as DMs.
 */
import { Assistant, type App } from '@slack/bolt';
import { routeMessage, type SlackMessageEvent } from './slack-incoming.ts';
import { truncate } from './slack-text.ts';

export interface SlackAssistantOptions {
  /** Shown when a user opens a new assistant thread (at most 4 are displayed). */
  suggestedPrompts: { title: string; message: string }[];
  /** Heading above the prompts. */
  promptsTitle?: string;
  /** Status line while a question is being answered; default `is thinking…`. */
  thinkingStatus?: string;
}

/** How the assistant hands an accepted message to the adapter: `prepare` runs after the ack, before the handler. */
export interface AssistantDelivery {
  deliver(
    event: SlackMessageEvent,
    team: string,
    botUserId: string | undefined,
    prepare: () => Promise<void>,
  ): void;
  /** A thread is an assistant thread (started, or a question arrived in it): replies there may use AI-app blocks. */
  assistantThread?(channel: string, threadTs: string): void;
}

const TITLE_CHARS = 60;
const MAX_TITLED_THREADS = 5000;

/** Registers Bolt's Assistant middleware on `app`, delivering user messages through `delivery`. */
export function registerSlackAssistant(
  app: App,
  options: SlackAssistantOptions,
  delivery: AssistantDelivery,
): void {
  const titled = new Set<string>();
  const assistant = new Assistant({
    // Bolt's default store keeps thread context in message metadata (conversations.replies + chat.update on every
    // message); threadql keeps its own session state, so the context store is a no-op.
    threadContextStore: { get: async () => ({}), save: async () => {} },
    threadStarted: async ({ event, setSuggestedPrompts, logger }) => {
      const thread = event.assistant_thread;
      if (thread?.channel_id && thread.thread_ts)
        delivery.assistantThread?.(thread.channel_id, thread.thread_ts);
      try {
        await setSuggestedPrompts({
          prompts: options.suggestedPrompts.slice(0, 4),
          ...(options.promptsTitle ? { title: options.promptsTitle } : {}),
        });
      } catch (error) {
        logger.warn(`threadql: could not set suggested prompts: ${String(error)}`);
      }
    },
    userMessage: async ({ message, body, context, setStatus, setTitle, logger }) => {
      const event = message as unknown as SlackMessageEvent;
      const route = routeMessage(event, context.botUserId);
      if (route.kind === 'ignore') return;
      const team = context.teamId ?? (body as { team_id?: string }).team_id ?? 'unknown';
      const threadKey = `${event.channel}:${event.thread_ts ?? event.ts}`;
      delivery.assistantThread?.(event.channel, event.thread_ts ?? event.ts);
      delivery.deliver(event, team, context.botUserId, async () => {
        try {
          await setStatus(options.thinkingStatus ?? 'is thinking…');
          if (!titled.has(threadKey)) {
            if (titled.size >= MAX_TITLED_THREADS) titled.clear();
            titled.add(threadKey);
            await setTitle(truncate(event.text ?? 'Question', TITLE_CHARS));
          }
        } catch (error) {
          // Status and title are cosmetic: the question is still answered.
          logger.warn(`threadql: assistant status/title failed: ${String(error)}`);
        }
      });
    },
  });
  app.assistant(assistant);
}
