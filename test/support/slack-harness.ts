/**
 * A real threadql (store, Redis, sample SQLite database, the Anthropic SDK) served to the real Bolt app through
 * startPlatforms, with Slack's Web API at the loopback fake. Events and clicks go in signed, as Slack sends them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig } from '../../config/load-config.ts';
import { pathList } from '../../config/process-info.ts';
import { createLogger, type Logger } from '../../core/logger.ts';
import { createThreadql, type Threadql } from '../../bot/create-threadql.ts';
import { startPlatforms } from '../../bot/start-platforms.ts';
import { SlackPlatform } from '../../bot/slack/slack-platform.ts';
import type { SlackPlatformOptions } from '../../bot/slack/slack-platform-options.ts';
import {
  FAKE_TEAM_ID,
  FakeSlackApi,
  eventCallback,
  postEvent,
  postInteraction,
  type RecordedCall,
} from '../fakes/fake-slack-api.ts';
import { deleteRedisKeys, isolatedMongoUri, isolatedRedisPrefix, services } from './services.ts';

const SECRET = 'slack-harness-signing-secret';

/** Slack ids unique to this run: Redis dedupe keys outlive a test run, so channels and timestamps must not repeat. */
function uniqueChannel(): string {
  return `C${randomBytes(5).toString('hex').toUpperCase()}`;
}

export interface SlackHarnessOptions {
  /** Extra env (ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL…). */
  env?: Record<string, string | undefined>;
  /** threadql.yml text; default none (the embedded sample database). */
  yaml?: string;
  /** Start the warm Chromium for ER-diagram PNGs (default false: most tests need no images). */
  erdBrowser?: boolean;
  /** Extra SlackPlatform options over the harness's (port 0, no retries); user groups come from threadql.yml. */
  slack?: Partial<SlackPlatformOptions>;
  logger?: Logger;
  /** threadql's clock (approval expiry, confirmations); default the wall clock. */
  now?: () => Date;
  /**
   * Another harness this one is a replica of: same fake Slack, same store and channel (and Redis, as always), a
   * Bolt app and threadql of its own, as a second bot instance behind the same Slack app.
   */
  replicaOf?: SlackHarness;
}

/** One running threadql + SlackPlatform + fake Slack; `close()` stops all of it and drops the test database. */
export class SlackHarness {
  readonly threadql: Threadql;
  readonly slack: SlackPlatform;
  readonly fake: FakeSlackApi;
  readonly url: string;
  /** THREADQL_DATA_DIR of this run (the sample database is under `sample/`). */
  readonly dataDir: string;
  /** A channel no other run has used (a replica's is its primary's). */
  readonly channel: string;
  /** The store's MongoDB URI (a replica shares it). */
  readonly mongoUri: string;
  private readonly ownsFake: boolean;
  private tsCounter = 0;
  private readonly tsBase = 1_600_000_000 + Math.floor(Math.random() * 90_000_000);

  private constructor(
    threadql: Threadql,
    slack: SlackPlatform,
    fake: FakeSlackApi,
    dataDir: string,
    mongoUri: string,
    primary?: SlackHarness,
  ) {
    this.threadql = threadql;
    this.mongoUri = mongoUri;
    this.dataDir = dataDir;
    this.channel = primary?.channel ?? uniqueChannel();
    this.ownsFake = !primary;
    this.slack = slack;
    this.fake = fake;
    this.url = slack.httpAddress!.url;
  }

  static async start(label: string, options: SlackHarnessOptions = {}): Promise<SlackHarness> {
    const primary = options.replicaOf;
    const fake = primary?.fake ?? new FakeSlackApi();
    if (!primary) await fake.start();
    const dataDir = mkdtempSync(join(tmpdir(), `threadql-${label}-`));
    const configPath = join(dataDir, 'threadql.yml');
    const mongoUri = primary?.mongoUri ?? isolatedMongoUri(label);
    writeFileSync(configPath, options.yaml ?? 'connections: []\n');
    const config = await loadConfig({
      MONGODB_URI: mongoUri,
      REDIS_URL: services.redisUrl,
      THREADQL_DATA_DIR: dataDir,
      THREADQL_CONFIG: configPath,
      THREADQL_MASTER_KEY: 'passphrase:slack-harness',
      SLACK_BOT_TOKEN: 'xoxb-e2e-token',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: fake.apiUrl,
      // A replica is the same deployment: it shares the primary's template keys and report queue.
      THREADQL_REDIS_PREFIX: primary?.threadql.templates.prefix ?? isolatedRedisPrefix(label),
      ...options.env,
    });
    const logger = options.logger ?? createLogger('silent');
    let threadql: Threadql | undefined;
    try {
      threadql = await createThreadql({
        config,
        logger,
        pathList: pathList(),
        erdBrowser: options.erdBrowser ?? false,
        ...(options.now ? { now: options.now } : {}),
      });
      const platforms = await startPlatforms(threadql, config, logger, {
        slack: {
          port: 0,
          host: '127.0.0.1',
          processBeforeResponse: true,
          retryConfig: { retries: 0 },
          ...options.slack,
        },
      });
      const slack = platforms.find((p): p is SlackPlatform => p instanceof SlackPlatform);
      if (!slack) throw new Error('startPlatforms did not start Slack');
      return new SlackHarness(threadql, slack, fake, dataDir, mongoUri, primary);
    } catch (error) {
      await threadql?.close();
      if (!primary) await fake.stop();
      throw error;
    }
  }

  /** A fresh message ts, unique across runs. */
  nextTs(): string {
    this.tsCounter += 1;
    return `${this.tsBase}.${String(this.tsCounter).padStart(6, '0')}`;
  }

  /** Sends a signed Events API event_callback; resolves with the receiver's HTTP status. */
  async event(
    event: Record<string, unknown>,
    options: { retryNum?: number; eventId?: string } = {},
  ): Promise<number> {
    const res = await postEvent(this.url, eventCallback(event, options.eventId), {
      signingSecret: SECRET,
      ...(options.retryNum !== undefined ? { retryNum: options.retryNum } : {}),
    });
    await res.arrayBuffer();
    return res.status;
  }

  /** An app_mention of the bot in this harness's channel, starting a thread (or inside `threadTs`). */
  mention(
    text: string,
    options: { user?: string; threadTs?: string; ts?: string } = {},
  ): Record<string, unknown> {
    const ts = options.ts ?? this.nextTs();
    return {
      type: 'app_mention',
      user: options.user ?? 'U0ALICE',
      text: `<@U0BOT> ${text}`,
      ts,
      channel: this.channel,
      event_ts: ts,
      team: FAKE_TEAM_ID,
      ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
    };
  }

  /** A plain channel message (no mention) in a thread. */
  threadReply(text: string, threadTs: string, user = 'U0ALICE'): Record<string, unknown> {
    const ts = this.nextTs();
    return {
      type: 'message',
      channel: this.channel,
      channel_type: 'channel',
      text,
      ts,
      event_ts: ts,
      team: FAKE_TEAM_ID,
      user,
      thread_ts: threadTs,
    };
  }

  /** Sends a signed block_actions click on a threadql button of the message `messageTs` in thread `threadTs`. */
  async click(options: {
    messageTs: string;
    threadTs: string;
    actionId: string;
    value: string;
    user?: string;
    /** The element type Slack reports: `button` (default) or `feedback_buttons` (native feedback). */
    type?: 'button' | 'feedback_buttons';
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
          type: options.type ?? 'button',
          action_ts: unique,
          text: { type: 'plain_text', text: options.actionId },
        },
      ],
    };
    const res = await postInteraction(this.url, payload, { signingSecret: SECRET });
    await res.arrayBuffer();
    return res.status;
  }

  /** Submits the modal a views.open call opened, with new input values. */
  async submitView(open: RecordedCall, values: Record<string, string>, user = 'U0ALICE'): Promise<number> {
    const view = open.args.view as { callback_id: string; private_metadata: string };
    const payload = {
      type: 'view_submission',
      team: { id: FAKE_TEAM_ID, domain: 'fake' },
      user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: FAKE_TEAM_ID },
      api_app_id: 'A0FAKE',
      token: 'unused',
      trigger_id: `${Date.now()}.trigger`,
      view: {
        id: `V${randomBytes(5).toString('hex').toUpperCase()}`,
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
    const res = await postInteraction(this.url, payload, { signingSecret: SECRET });
    await res.arrayBuffer();
    return res.status;
  }

  /** Waits until the adapter's handed-off work and the engine's queued turns have all finished. */
  async settle(): Promise<void> {
    await this.slack.idle();
    await this.threadql.engine.idle();
    await this.slack.idle();
  }

  /**
   * The ts the fake gave a chat.postMessage / chat.postEphemeral call: it numbers those answers in order from one,
   * so this holds while the fake is never reset and no error is injected into them.
   */
  tsOf(call: RecordedCall): string {
    const numbered = this.fake.calls.filter(
      (c) => c.method === 'chat.postMessage' || c.method === 'chat.postEphemeral',
    );
    const n = numbered.indexOf(call) + 1;
    if (n === 0) throw new Error(`not a posted message: ${call.method}`);
    return `1700000000.${String(n).padStart(6, '0')}`;
  }

  /** The bot's chat.postMessage calls into one thread, in order. */
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

  /** chat.postEphemeral calls into one thread, in order. */
  ephemeralsIn(threadTs: string): RecordedCall[] {
    return this.fake
      .callsOf('chat.postEphemeral')
      .filter((c) => c.args.channel === this.channel && c.args.thread_ts === threadTs);
  }

  async close(): Promise<void> {
    await this.slack.stop();
    await this.threadql.engine.idle();
    // A replica leaves the shared store and fake to its primary.
    if (this.ownsFake) await this.threadql.store.dropDatabase().catch(() => {});
    const prefix = this.threadql.templates.prefix;
    await this.threadql.close();
    // The harness's own Redis keys (templates, the report queue); run after close so no worker writes more.
    if (this.ownsFake) {
      const redis = new Redis(services.redisUrl);
      await deleteRedisKeys(redis, prefix).finally(() => redis.disconnect());
    }
    if (this.ownsFake) await this.fake.stop();
  }
}
