/**
 * Slack as seen from outside threadql processes: events and clicks signed and posted to one or several receivers
 * (alternately, like a load balancer in front of replicas), and the fake Web API's record of what the bot posted,
 * read back per thread. Replies are asynchronous (the processes acknowledge first), so reads poll.
 */
import { randomBytes } from 'node:crypto';
import {
  FAKE_TEAM_ID,
  type FakeSlackApi,
  eventCallback,
  postEvent,
  postInteraction,
  type RecordedCall,
} from '../../fakes/fake-slack-api.ts';

export const SIGNING_SECRET = 'fault-suite-signing-secret';

interface Block {
  type: string;
  elements?: { action_id?: string; value?: string }[];
}

/** Polls `read` until it returns (or resolves to) something truthy; rejects with `what` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  read: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export class SlackEndpoint {
  readonly fake: FakeSlackApi;
  readonly channel: string;
  #urls: string[];
  #next = 0;
  #ts = 0;
  readonly #tsBase = 1_600_000_000 + Math.floor(Math.random() * 90_000_000);

  /** `channel`: a fresh one by default; pass an earlier endpoint's to keep talking in its threads. */
  constructor(fake: FakeSlackApi, urls: string[], channel?: string) {
    this.fake = fake;
    this.#urls = urls;
    this.channel = channel ?? `C${randomBytes(5).toString('hex').toUpperCase()}`;
  }

  /** Replaces the receivers (a replica went away or came back). */
  setReceivers(urls: string[]): void {
    this.#urls = urls;
    this.#next = 0;
  }

  /** The receiver the next request goes to (round robin), or a given one. */
  #target(replica?: number): string {
    if (replica !== undefined) return this.#urls[replica]!;
    const url = this.#urls[this.#next % this.#urls.length]!;
    this.#next += 1;
    return url;
  }

  nextTs(): string {
    this.#ts += 1;
    return `${this.#tsBase}.${String(this.#ts).padStart(6, '0')}`;
  }

  /** Posts a signed app_mention; returns the thread ts and the receiver's status. */
  async mention(
    text: string,
    options: { threadTs?: string; user?: string; replica?: number; retryNum?: number; ts?: string } = {},
  ): Promise<{ threadTs: string; ts: string; status: number }> {
    const ts = options.ts ?? this.nextTs();
    const event = {
      type: 'app_mention',
      user: options.user ?? 'U0ALICE',
      text: `<@U0BOT> ${text}`,
      ts,
      channel: this.channel,
      event_ts: ts,
      team: FAKE_TEAM_ID,
      ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
    };
    const res = await postEvent(this.#target(options.replica), eventCallback(event), {
      signingSecret: SIGNING_SECRET,
      ...(options.retryNum !== undefined ? { retryNum: options.retryNum } : {}),
    });
    await res.arrayBuffer();
    return { threadTs: options.threadTs ?? ts, ts, status: res.status };
  }

  /** Posts a signed plain message (no mention) into a thread, as a follow-up; returns the receiver's status. */
  async threadReply(
    text: string,
    threadTs: string,
    options: { user?: string; replica?: number } = {},
  ): Promise<number> {
    const ts = this.nextTs();
    const event = {
      type: 'message',
      channel: this.channel,
      channel_type: 'channel',
      text,
      ts,
      event_ts: ts,
      team: FAKE_TEAM_ID,
      user: options.user ?? 'U0ALICE',
      thread_ts: threadTs,
    };
    const res = await postEvent(this.#target(options.replica), eventCallback(event), {
      signingSecret: SIGNING_SECRET,
    });
    await res.arrayBuffer();
    return res.status;
  }

  /** Posts a signed click on a threadql button of message `messageTs` in thread `threadTs`. */
  async click(options: {
    messageTs: string;
    threadTs: string;
    actionId: string;
    value: string;
    user?: string;
    replica?: number;
  }): Promise<number> {
    const user = options.user ?? 'U0ALICE';
    const unique = `${Date.now() / 1000}${randomBytes(3).toString('hex')}`;
    const payload = {
      type: 'block_actions',
      team: { id: FAKE_TEAM_ID, domain: 'fake' },
      user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: FAKE_TEAM_ID },
      api_app_id: 'A0FAKE',
      token: 'unused',
      container: {
        type: 'message',
        message_ts: options.messageTs,
        channel_id: this.channel,
        is_ephemeral: false,
        thread_ts: options.threadTs,
      },
      trigger_id: `${unique}.trigger`,
      channel: { id: this.channel, name: 'growth' },
      message: {
        type: 'message',
        ts: options.messageTs,
        thread_ts: options.threadTs,
        bot_id: 'B0BOT',
        text: 'card',
      },
      actions: [
        {
          action_id: options.actionId,
          block_id: 'b1',
          value: options.value,
          type: 'button',
          action_ts: unique,
          text: { type: 'plain_text', text: options.actionId },
        },
      ],
    };
    const res = await postInteraction(this.#target(options.replica), payload, {
      signingSecret: SIGNING_SECRET,
    });
    await res.arrayBuffer();
    return res.status;
  }

  /** The bot's chat.postMessage calls into a thread, in order. */
  postsIn(threadTs: string): RecordedCall[] {
    return this.fake
      .callsOf('chat.postMessage')
      .filter((c) => c.args.channel === this.channel && c.args.thread_ts === threadTs);
  }

  /** Every chat.update of one message, in order. */
  updatesOf(messageTs: string): RecordedCall[] {
    return this.fake
      .callsOf('chat.update')
      .filter((c) => c.args.channel === this.channel && c.args.ts === messageTs);
  }

  /** The latest text of a posted message (its last update, or the post itself). */
  latest(post: RecordedCall): RecordedCall {
    return this.updatesOf(String(post.result?.ts)).at(-1) ?? post;
  }

  /** Everything the bot wrote into a thread so far (posts, their updates, ephemerals), as one string. */
  threadText(threadTs: string): string {
    const posts = this.postsIn(threadTs);
    const parts = posts.flatMap((p) => [p, ...this.updatesOf(String(p.result?.ts))]);
    const ephemerals = this.fake
      .callsOf('chat.postEphemeral')
      .filter((c) => c.args.channel === this.channel && c.args.thread_ts === threadTs);
    return [...parts, ...ephemerals]
      .map((c) => `${String(c.args.text)} ${JSON.stringify(c.args.blocks ?? [])}`)
      .join('\n');
  }

  /** Waits for the thread's first post to become a confirm card; returns its ts and Run token. */
  async card(threadTs: string): Promise<{ cardTs: string; token: string }> {
    try {
      return await eventually(`a confirm card in ${threadTs}`, () => {
        for (const post of this.postsIn(threadTs)) {
          const token = buttonsOf(this.latest(post))['threadql:run'];
          if (token) return { cardTs: String(post.result?.ts), token };
        }
        return undefined;
      });
    } catch (error) {
      throw new Error(`${(error as Error).message}; the thread holds:\n${this.threadText(threadTs)}`, {
        cause: error,
      });
    }
  }
}

/** A message's threadql buttons: action_id → value. */
export function buttonsOf(call: RecordedCall): Record<string, string> {
  const buttons: Record<string, string> = {};
  for (const block of (call.args.blocks as Block[] | undefined) ?? []) {
    if (block.type !== 'actions') continue;
    for (const el of block.elements ?? []) buttons[String(el.action_id)] = String(el.value);
  }
  return buttons;
}

/** The text of a message and its blocks, for matching. */
export function textOf(call: RecordedCall): string {
  return `${String(call.args.text)} ${JSON.stringify(call.args.blocks ?? [])}`;
}
