/**
 * A real threadql (store, Redis, sample SQLite database, the Anthropic SDK) served to the real discord.js client
 * through startPlatforms, with Discord's REST API and gateway at the loopback fake. Messages, clicks, modal
 * submits and slash commands arrive over the fake gateway, as Discord sends them. The fake holds one bot
 * session, so one harness (one client) per fake and per test file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig } from '../../config/load-config.ts';
import { pathList } from '../../config/process-info.ts';
import { createLogger, type Logger } from '../../core/logger.ts';
import { createThreadql, type Threadql } from '../../bot/create-threadql.ts';
import { startPlatforms } from '../../bot/start-platforms.ts';
import { DiscordPlatform, type DiscordPlatformOptions } from '../../bot/discord/discord-platform.ts';
import {
  FakeDiscord,
  type FakeDiscordOptions,
  type FakeUser,
  type JsonRecord,
  type RestCall,
} from '../fakes/fake-discord.ts';
import { deleteRedisKeys, isolatedMongoUri, isolatedRedisPrefix, services } from './services.ts';

export interface DiscordHarnessOptions {
  /** Extra env (ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL…). */
  env?: Record<string, string | undefined>;
  /** threadql.yml text (or made from the fake, for its ids); default none (the embedded sample database). */
  yaml?: string | ((fake: FakeDiscord) => string);
  /** Start the warm Chromium for ER-diagram PNGs (default false: most tests need no images). */
  erdBrowser?: boolean;
  /** Overrides for the adapter (the environment cannot express these). */
  discord?: Partial<DiscordPlatformOptions>;
  /** Options of the fake (e.g. a role id threadql.yml names). */
  fake?: FakeDiscordOptions;
  logger?: Logger;
  /** threadql's clock (approval expiry, confirmations); default the wall clock. */
  now?: () => Date;
}

type Interaction = ReturnType<FakeDiscord['clickButton']>;

/** One running threadql + DiscordPlatform + fake Discord; `close()` stops all of it and drops the test database. */
export class DiscordHarness {
  readonly threadql: Threadql;
  readonly discord: DiscordPlatform;
  readonly fake: FakeDiscord;
  /** The asker in most tests, and a member who is neither the asker nor an approver. */
  readonly alice: FakeUser;
  readonly mallory: FakeUser;
  /** THREADQL_DATA_DIR of this run (the sample database is under `sample/`). */
  readonly dataDir: string;

  private constructor(threadql: Threadql, discord: DiscordPlatform, fake: FakeDiscord, dataDir: string) {
    this.threadql = threadql;
    this.dataDir = dataDir;
    this.discord = discord;
    this.fake = fake;
    this.alice = fake.user('alice');
    this.mallory = fake.user('mallory');
  }

  static async start(label: string, options: DiscordHarnessOptions = {}): Promise<DiscordHarness> {
    const fake = await FakeDiscord.start(options.fake);
    const dataDir = mkdtempSync(join(tmpdir(), `threadql-${label}-`));
    const configPath = join(dataDir, 'threadql.yml');
    writeFileSync(
      configPath,
      typeof options.yaml === 'function' ? options.yaml(fake) : (options.yaml ?? 'connections: []\n'),
    );
    let threadql: Threadql | undefined;
    try {
      const config = await loadConfig({
        MONGODB_URI: isolatedMongoUri(label),
        REDIS_URL: services.redisUrl,
        THREADQL_DATA_DIR: dataDir,
        THREADQL_CONFIG: configPath,
        THREADQL_MASTER_KEY: 'passphrase:discord-harness',
        DISCORD_TOKEN: fake.token,
        DISCORD_API_URL: fake.apiUrl,
        THREADQL_REDIS_PREFIX: isolatedRedisPrefix(label),
        ...options.env,
      });
      const logger = options.logger ?? createLogger('silent');
      threadql = await createThreadql({
        config,
        logger,
        pathList: pathList(),
        erdBrowser: options.erdBrowser ?? false,
        ...(options.now ? { now: options.now } : {}),
      });
      const platforms = await startPlatforms(threadql, config, logger, {
        discord: { rest: { retries: 0 }, ...options.discord },
      });
      const discord = platforms.find((p): p is DiscordPlatform => p instanceof DiscordPlatform);
      if (!discord) throw new Error('startPlatforms did not start Discord');
      return new DiscordHarness(threadql, discord, fake, dataDir);
    } catch (error) {
      await threadql?.close();
      await fake.close();
      throw error;
    }
  }

  /** Waits until the adapter's event handlers and the engine's queued turns have all finished. */
  async settle(): Promise<void> {
    await this.discord.idle();
    await this.threadql.engine.idle();
    await this.discord.idle();
  }

  /** Resolves once `check` holds (re-checked on every REST call and gateway payload), then settles. */
  async until(check: () => unknown, label: string): Promise<void> {
    await this.fake.waitFor(() => Boolean(check()), label);
    await this.settle();
  }

  /**
   * `user` mentions the bot in the channel with `text`; resolves when threadql has answered in the thread it
   * started on that message (whose id is the message's, as on Discord).
   */
  async mention(text: string, user: FakeUser = this.alice): Promise<string> {
    const root = this.fake.userMessage({ author: user, content: text, mentionBot: true });
    const thread = root.id as string;
    await this.until(() => this.botMessagesIn(thread).length > 0, `an answer to "${text}"`);
    return thread;
  }

  /** A plain message (no mention) in a thread; resolves once it was handled, answered or not. */
  async say(thread: string, text: string, user: FakeUser = this.alice): Promise<JsonRecord> {
    const before = this.fake.calls.length;
    const message = this.fake.userMessage({ author: user, content: text, channelId: thread });
    await this.until(
      () => this.fake.calls.slice(before).some((c) => c.path === `/channels/${thread}/messages`),
      `an answer to "${text}"`,
    );
    return message;
  }

  /** `user` clicks a threadql button on a message; resolves once the interaction was answered and handled. */
  async click(
    messageId: string,
    action: string,
    user: FakeUser = this.alice,
    value?: string,
  ): Promise<Interaction> {
    const interaction = this.fake.clickButton({
      messageId,
      customId: this.customIdOf(messageId, action, value),
      user,
    });
    await this.until(() => this.callbacksOf(interaction).length > 0, `an answer to the ${action} click`);
    return interaction;
  }

  /** The custom_id of the `action` button on a stored message (or one built from `value`). */
  customIdOf(messageId: string, action: string, value?: string): string {
    if (value !== undefined) return `threadql:${action}:${value}`;
    const id = this.buttonsOf(this.message(messageId))[action];
    if (!id) throw new Error(`no ${action} button on message ${messageId}`);
    return id;
  }

  /** A message as the fake stores it now (edits applied). */
  message(messageId: string): JsonRecord {
    const message = this.fake.messages.get(messageId);
    if (!message) throw new Error(`fake: no message ${messageId}`);
    return message;
  }

  /** threadql's buttons on a message: action → custom_id. */
  buttonsOf(message: JsonRecord): Record<string, string> {
    const out: Record<string, string> = {};
    for (const row of (message.components ?? []) as { components?: { custom_id?: string }[] }[]) {
      for (const button of row.components ?? []) {
        const id = String(button.custom_id ?? '');
        const [prefix, action] = id.split(':');
        if (prefix === 'threadql' && action) out[action] = id;
      }
    }
    return out;
  }

  /** The bot's visible (non-ephemeral) messages in a channel or thread, in the order they were created. */
  botMessagesIn(channelId: string): JsonRecord[] {
    return [...this.fake.messages.values()].filter(
      (m) => m.channel_id === channelId && m.author?.id === this.fake.botUser.id && !(Number(m.flags) & 64),
    );
  }

  /** POST /channels/:thread/messages calls, in order. */
  postsIn(thread: string): RestCall[] {
    return this.fake.callsTo('POST', new RegExp(`^/channels/${thread}/messages$`));
  }

  /** PATCH calls on one message, in order. */
  editsOf(messageId: string): RestCall[] {
    return this.fake.callsTo('PATCH', new RegExp(`^/channels/\\d+/messages/${messageId}$`));
  }

  /** The interaction callbacks (first answers) of one interaction. */
  callbacksOf(interaction: { id: string }): RestCall[] {
    return this.fake.callsTo('POST', new RegExp(`^/interactions/${interaction.id}/[^/]+/callback$`));
  }

  /** Follow-ups on one interaction (after its first answer). */
  followUpsOf(interaction: { token: string }): RestCall[] {
    return this.fake.callsTo(
      'POST',
      new RegExp(`^/webhooks/${this.fake.applicationId}/${interaction.token}$`),
    );
  }

  async close(): Promise<void> {
    await this.discord.stop();
    await this.threadql.engine.idle();
    await this.threadql.store.dropDatabase().catch(() => {});
    const prefix = this.threadql.templates.prefix;
    await this.threadql.close();
    // The harness's own Redis keys (templates, the report queue); run after close so no worker writes more.
    const redis = new Redis(services.redisUrl);
    await deleteRedisKeys(redis, prefix).finally(() => redis.disconnect());
    await this.fake.close();
  }
}
