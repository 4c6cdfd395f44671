/**
 * Slack payloads as Slack sends them (Events API events, block_actions, view_submission, slash command fields),
 * and a recording PlatformHandlers: the seam the Slack tests observe instead of mocking modules.
 */
import type {
  ButtonClick,
  IncomingMessage,
  ModalSubmit,
  PlatformHandlers,
} from '../../core/conversation/chat-platform.ts';
import { LogLevel, type Logger } from '@slack/bolt';
import { FAKE_BOT_ID, FAKE_BOT_USER_ID, FAKE_TEAM_ID } from '../fakes/fake-slack-api.ts';

let tsCounter = 0;
/** A fresh, unique Slack message ts. */
export function nextTs(): string {
  tsCounter += 1;
  return `1699000000.${String(tsCounter).padStart(6, '0')}`;
}

export function appMention(
  text: string,
  options: { channel?: string; user?: string; thread_ts?: string; ts?: string } = {},
) {
  const ts = options.ts ?? nextTs();
  return {
    type: 'app_mention',
    user: options.user ?? 'U0ALICE',
    text: `<@${FAKE_BOT_USER_ID}> ${text}`,
    ts,
    channel: options.channel ?? 'C0GROWTH',
    event_ts: ts,
    team: FAKE_TEAM_ID,
    ...(options.thread_ts ? { thread_ts: options.thread_ts } : {}),
  };
}

export function channelMessage(
  text: string,
  options: {
    channel?: string;
    user?: string;
    thread_ts?: string;
    channel_type?: string;
    bot_id?: string;
    subtype?: string;
  } = {},
) {
  const ts = nextTs();
  return {
    type: 'message',
    channel: options.channel ?? 'C0GROWTH',
    channel_type: options.channel_type ?? 'channel',
    text,
    ts,
    event_ts: ts,
    team: FAKE_TEAM_ID,
    ...(options.user !== undefined ? { user: options.user } : { user: 'U0ALICE' }),
    ...(options.thread_ts ? { thread_ts: options.thread_ts } : {}),
    ...(options.bot_id ? { bot_id: options.bot_id } : {}),
    ...(options.subtype ? { subtype: options.subtype } : {}),
  };
}

/** The bot's own message as Slack echoes it back in message.channels. */
export function ownMessage(thread_ts: string) {
  return channelMessage('working…', { user: FAKE_BOT_USER_ID, bot_id: FAKE_BOT_ID, thread_ts });
}

export function blockActions(options: {
  channel: string;
  messageTs: string;
  threadTs: string;
  action: string;
  value: string;
  user?: string;
}) {
  return {
    type: 'block_actions',
    team: { id: FAKE_TEAM_ID, domain: 'fake' },
    user: { id: options.user ?? 'U0ALICE', username: 'alice', name: 'alice', team_id: FAKE_TEAM_ID },
    api_app_id: 'A0FAKE',
    token: 'unused',
    container: {
      type: 'message',
      message_ts: options.messageTs,
      channel_id: options.channel,
      is_ephemeral: false,
      thread_ts: options.threadTs,
    },
    trigger_id: `${Date.now()}.trigger`,
    channel: { id: options.channel, name: 'growth' },
    message: {
      type: 'message',
      ts: options.messageTs,
      thread_ts: options.threadTs,
      bot_id: FAKE_BOT_ID,
      text: 'confirm card',
    },
    actions: [
      {
        action_id: `threadql:${options.action}`,
        block_id: 'b1',
        value: options.value,
        type: 'button',
        action_ts: `${Date.now() / 1000}`,
        text: { type: 'plain_text', text: options.action },
      },
    ],
  };
}

/** A view_submission for a view the adapter opened (as recorded by the fake's views.open), with new input values. */
export function viewSubmission(
  view: { callback_id: string; private_metadata: string },
  values: Record<string, string>,
  user = 'U0ALICE',
) {
  return {
    type: 'view_submission',
    team: { id: FAKE_TEAM_ID, domain: 'fake' },
    user: { id: user, username: 'alice', name: 'alice', team_id: FAKE_TEAM_ID },
    api_app_id: 'A0FAKE',
    token: 'unused',
    trigger_id: `${Date.now()}.trigger`,
    view: {
      id: 'V0EDIT',
      type: 'modal',
      callback_id: view.callback_id,
      private_metadata: view.private_metadata,
      hash: 'h1',
      state: {
        values: Object.fromEntries(
          Object.entries(values).map(([id, value]) => [id, { [id]: { type: 'plain_text_input', value } }]),
        ),
      },
    },
    response_urls: [],
  };
}

export function slashCommand(text: string, responseUrl: string, channel = 'C0GROWTH') {
  return {
    token: 'unused',
    team_id: FAKE_TEAM_ID,
    team_domain: 'fake',
    channel_id: channel,
    channel_name: 'growth',
    user_id: 'U0ALICE',
    user_name: 'alice',
    command: '/threadql',
    text,
    api_app_id: 'A0FAKE',
    response_url: responseUrl,
    trigger_id: `${Date.now()}.trigger`,
  };
}

/** PlatformHandlers that record what reached them, can be told to fail or block, and can be awaited. */
export class RecordingHandlers implements PlatformHandlers {
  readonly messages: IncomingMessage[] = [];
  readonly clicks: ButtonClick[] = [];
  readonly submits: ModalSubmit[] = [];
  /** When set, onMessage waits for it (to prove the ack never waits for the handler). */
  gate: Promise<void> | undefined;
  failNext = false;
  private waiters: (() => void)[] = [];

  async onMessage(message: IncomingMessage): Promise<void> {
    if (this.gate) await this.gate;
    this.messages.push(message);
    this.notify();
    if (this.failNext) {
      this.failNext = false;
      throw new Error('handler exploded');
    }
  }

  async onButton(click: ButtonClick): Promise<void> {
    this.clicks.push(click);
    this.notify();
  }

  async onModalSubmit(submit: ModalSubmit): Promise<void> {
    this.submits.push(submit);
    this.notify();
  }

  /** Resolves when `predicate` holds, checking after every recorded call. */
  async until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error('RecordingHandlers.until: timed out');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  reset(): void {
    this.messages.length = 0;
    this.clicks.length = 0;
    this.submits.length = 0;
    this.gate = undefined;
    this.failNext = false;
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** A Bolt-compatible logger that keeps warnings and errors for assertions instead of printing them. */
export class CapturingLogger implements Logger {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  private level: LogLevel = LogLevel.WARN;
  debug(): void {}
  info(): void {}
  warn(...msg: unknown[]): void {
    this.warnings.push(msg.map(String).join(' '));
  }
  error(...msg: unknown[]): void {
    this.errors.push(msg.map(String).join(' '));
  }
  setLevel(level: LogLevel): void {
    this.level = level;
  }
  getLevel(): LogLevel {
    return this.level;
  }
  setName(): void {}
}
