/**
 * The template feature on real services for one test file: a private store database (MongoDB wire), Redis under a
 * key prefix of its own (BullMQ included), the embedded sample shop in SQLite as the target connection, the real
 * renderers, and a ReportSink that records what would be posted. `flushRedis()` deletes only this harness's keys.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { configFileSchema, type ConnectionConfig } from '../../config/config-file.ts';
import { ConfiguredConnections } from '../../core/connections/connection-provider.ts';
import type { ChannelInfo, ChannelRef, Reply } from '../../core/conversation/chat-platform.ts';
import { createResultRenderers } from '../../core/conversation/create-result-renderers.ts';
import type { SchemaSnapshot } from '../../core/db/database-dialect.ts';
import { createLogger } from '../../core/logger.ts';
import { createSampleDatabase } from '../../core/sample/sample-database.ts';
import {
  createTemplateServices,
  type TemplateServices,
  type TemplateServicesOptions,
} from '../../core/templates/create-template-services.ts';
import { checkScheduledReport } from '../../core/governance/check-scheduled-report.ts';
import type { ReportSink } from '../../core/templates/report-sink.ts';
import { openModelStore, type ModelStore } from '../models/model-store.ts';
import { services } from '../support/services.ts';

/** What the recording sink received, in order. */
export interface Delivery {
  kind: 'channel' | 'direct';
  to: string;
  reply: Reply;
}

/** A ReportSink that keeps every message, and can be told to fail the next posts (a platform outage). */
export class RecordingSink implements ReportSink {
  readonly deliveries: Delivery[] = [];
  failChannelPosts = 0;
  /** What describeChannel answers per channel id (absent: the platform cannot tell). */
  readonly channels = new Map<string, ChannelInfo>();

  async describeChannel(channel: ChannelRef): Promise<ChannelInfo | undefined> {
    return this.channels.get(channel.channel);
  }

  async postToChannel(channel: ChannelRef, reply: Reply): Promise<void> {
    if (this.failChannelPosts > 0) {
      this.failChannelPosts -= 1;
      throw new Error('channel_not_found');
    }
    this.deliveries.push({
      kind: 'channel',
      to: `${channel.platform}:${channel.workspace}:${channel.channel}`,
      reply,
    });
  }

  async notifyUser(userKey: string, reply: Reply): Promise<void> {
    this.deliveries.push({ kind: 'direct', to: userKey, reply });
  }

  /** Channel posts that are reports (they carry a table or "No rows"), not notices. */
  reports(): Delivery[] {
    return this.deliveries.filter(
      (d) => d.kind === 'channel' && d.reply.parts.some((p) => p.type === 'file'),
    );
  }

  text(d: Delivery): string {
    return d.reply.parts.map((p) => ('text' in p ? p.text : '')).join('\n');
  }
}

export interface HarnessOptions {
  now?: () => Date;
  connections?: (sampleUrl: string) => ConnectionConfig[];
  scheduler?: TemplateServicesOptions['scheduler'];
  maxFailures?: number;
  sink?: RecordingSink;
  /** Share another harness's store and Redis prefix (a second replica). */
  replicaOf?: TemplateHarness;
  /** The connection's governance settings (sensitive, visibility) for the report check. */
  sensitive?: boolean;
}

export class TemplateHarness {
  readonly store: ModelStore;
  readonly redis: Redis;
  readonly prefix: string;
  readonly sink: RecordingSink;
  readonly services: TemplateServices;
  readonly connections: ConfiguredConnections;
  readonly dir: string;
  readonly sampleUrl: string;
  readonly #owner: boolean;

  private constructor(fields: {
    store: ModelStore;
    redis: Redis;
    prefix: string;
    sink: RecordingSink;
    services: TemplateServices;
    connections: ConfiguredConnections;
    dir: string;
    sampleUrl: string;
    owner: boolean;
  }) {
    this.store = fields.store;
    this.redis = fields.redis;
    this.prefix = fields.prefix;
    this.sink = fields.sink;
    this.services = fields.services;
    this.connections = fields.connections;
    this.dir = fields.dir;
    this.sampleUrl = fields.sampleUrl;
    this.#owner = fields.owner;
  }

  static async start(label: string, options: HarnessOptions = {}): Promise<TemplateHarness> {
    const replica = options.replicaOf;
    const store = replica?.store ?? (await openModelStore(label));
    const prefix = replica?.prefix ?? `tq-test:${label}:${randomBytes(4).toString('hex')}:`;
    const dir = replica?.dir ?? mkdtempSync(join(tmpdir(), `tq-${label}-`));
    const sampleUrl = join(dir, 'shop.db');
    if (!replica) createSampleDatabase(sampleUrl, new Date('2026-01-15T12:00:00Z'));
    const redis = new Redis(services.redisUrl, { maxRetriesPerRequest: 2 });
    const schemas = new Map<string, SchemaSnapshot>();
    const configs = options.connections?.(sampleUrl) ?? [
      { name: 'shop', type: 'sqlite', url: sampleUrl, channels: ['*'], default: true, maskedColumns: [] },
    ];
    const connections = new ConfiguredConnections(configs, {
      get: async (name) => schemas.get(name),
      set: async (name, schema) => void schemas.set(name, schema),
    });
    // Replicas post into the same chat: one record of what the channels received.
    const sink = options.sink ?? replica?.sink ?? new RecordingSink();
    const config = configFileSchema.parse({});
    const services_ = createTemplateServices({
      models: store.models,
      redis,
      redisUrl: services.redisUrl,
      prefix,
      connections,
      renderers: createResultRenderers(),
      sink,
      limits: config.limits,
      schedules: { ...config.schedules, maxFailures: options.maxFailures ?? config.schedules.maxFailures },
      scheduler: { backoffMs: 5, ...options.scheduler },
      checkReport: (name, channel) =>
        checkScheduledReport({ name, sensitive: options.sensitive ?? false }, channel),
      ...(options.now ? { now: options.now } : {}),
      logger: createLogger('silent'),
    });
    return new TemplateHarness({
      store,
      redis,
      prefix,
      sink,
      services: services_,
      connections,
      dir,
      sampleUrl,
      owner: !replica,
    });
  }

  /** Deletes every Redis key of this harness (as a FLUSHALL would for it), never anyone else's. */
  async flushRedis(): Promise<number> {
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) deleted += await this.redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  }

  async close(): Promise<void> {
    await this.services.scheduler.close();
    await this.connections.close();
    if (this.#owner) {
      await this.flushRedis();
      await this.store.close();
      rmSync(this.dir, { recursive: true, force: true });
    }
    await this.redis.quit();
  }
}
