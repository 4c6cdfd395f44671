/**
 * Wires threadql from validated config: the store (MongoDB, or an embedded one), Redis, the target
 * connections (or the embedded sample database), Claude, the renderers and the conversation engine.
 * Every resource it starts is listed in `close()` and stopped once, newest first.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { ConnectionConfig } from '../config/config-file.ts';
import type { ThreadqlConfig } from '../config/load-config.ts';
import { ConfiguredConnections } from '../core/connections/connection-provider.ts';
import { ConfirmationStore } from '../core/conversation/confirmation-store.ts';
import { ConversationEngine } from '../core/conversation/conversation-engine.ts';
import { createFlows } from '../core/conversation/create-flows.ts';
import { createResultRenderers } from '../core/conversation/create-result-renderers.ts';
import type { UserRef } from '../core/conversation/chat-platform.ts';
import { MongoSessionStore } from '../core/conversation/mongo-session-store.ts';
import { SchemaCache } from '../core/schema/schema-cache.ts';
import { AnthropicLlmClient, anthropicConfigFromEnv } from '../core/llm/anthropic-llm-client.ts';
import { SqlGenerator } from '../core/llm/sql-generator.ts';
import type { Logger } from '../core/logger.ts';
import { ensureSampleDatabase } from '../core/sample/sample-database.ts';
import { connectStore } from '../core/store/connect-store.ts';
import { ChartPool } from '../renderers/chart/chart-pool.ts';
import { MermaidBrowser } from '../renderers/erd/mermaid-browser.ts';
import { findExecutable } from './local-services/find-executable.ts';
import { startEmbeddedRedis } from './local-services/start-embedded-redis.ts';
import { startEmbeddedStore } from './local-services/start-embedded-store.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface Threadql {
  engine: ConversationEngine;
  connections: ConfiguredConnections;
  store: Connection;
  redis: Redis;
  /** One line per resource: which store, which Redis, which connections, whether Claude is configured. */
  describe(): string[];
  close(): Promise<void>;
}

export interface CreateOptions {
  config: ThreadqlConfig;
  logger: Logger;
  /** PATH for finding mongod, ferretdb, go, redis-server and chromium. */
  pathList: string | undefined;
  onProgress?: (message: string) => void;
  /** Start a warm Chromium for ERD images (default true when one is found). */
  erdBrowser?: boolean;
}

/** The connections to serve: threadql.yml's, or the embedded sample database when it names none. */
async function targetConnections(
  config: ThreadqlConfig,
): Promise<{ connections: ConnectionConfig[]; sample: boolean }> {
  if (config.file.connections.length) return { connections: config.file.connections, sample: false };
  const path = await ensureSampleDatabase(join(resolve(config.env.THREADQL_DATA_DIR), 'sample', 'shop.db'));
  return {
    sample: true,
    connections: [
      {
        name: 'sample',
        type: 'sqlite',
        url: path,
        channels: ['*'],
        default: true,
        maskedColumns: [],
        description: 'embedded sample shop',
      },
    ],
  };
}

/** Builds a running threadql (without chat adapters); call close() to stop what it started. */
export async function createThreadql(options: CreateOptions): Promise<Threadql> {
  const { config, logger } = options;
  const env = config.env;
  const dataDir = resolve(env.THREADQL_DATA_DIR);
  const closers: (() => Promise<void>)[] = [];
  const lines: string[] = [];
  const close = async () => {
    for (const stop of closers.reverse())
      await stop().catch((err: unknown) => logger.warn({ err }, 'shutdown step failed'));
  };
  try {
    let storeUri = env.MONGODB_URI;
    if (storeUri) lines.push('store: MONGODB_URI');
    else {
      const embedded = await startEmbeddedStore({
        dataDir: join(dataDir, 'store'),
        repoRoot: REPO_ROOT,
        pathList: options.pathList,
        onProgress: options.onProgress,
      });
      closers.push(() => embedded.stop());
      storeUri = embedded.uri;
      lines.push(`store: ${embedded.description}, data in ${embedded.dataDir}`);
    }
    const store = await connectStore(storeUri);
    closers.push(() => store.close());

    let redisUrl = env.REDIS_URL;
    if (redisUrl) lines.push('redis: REDIS_URL');
    else {
      const embedded = await startEmbeddedRedis({ dataDir, pathList: options.pathList });
      closers.push(() => embedded.stop());
      redisUrl = embedded.url;
      lines.push(`redis: ${embedded.description}`);
    }
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
    await redis.connect();
    closers.push(async () => void (await redis.quit()));

    const { connections: targets, sample } = await targetConnections(config);
    const sessions = await MongoSessionStore.create(store, {
      connections: targets,
      masterKey: masterKey(env.THREADQL_MASTER_KEY, dataDir, logger),
      schemaTtlSeconds: config.file.limits.schemaCacheTtlSeconds,
    });
    const cache = new SchemaCache(redis, {
      ttlSeconds: config.file.limits.schemaCacheTtlSeconds,
      onError: (err, operation) => logger.warn({ err, operation }, 'schema cache unavailable'),
    });
    // Redis is the fast path; DatabaseConnection.schemaCache keeps the snapshot for admins and restarts.
    const schemaStore = {
      get: async (name: string) => {
        const cached = await cache.get(name);
        if (cached) return cached;
        const stored = await sessions.readSchema(name);
        if (stored) await cache.set(name, stored);
        return stored;
      },
      set: async (name: string, schema: Parameters<typeof cache.set>[1]) => {
        await cache.set(name, schema);
        await sessions.writeSchema(name, schema);
      },
    };
    const connections = new ConfiguredConnections(targets, schemaStore, (name, status, detail) =>
      sessions.setConnectionStatus(name, status, detail),
    );
    closers.push(() => connections.close());
    lines.push(
      sample
        ? 'connections: none configured, using the embedded sample database "sample" (a small online shop in SQLite)'
        : `connections: ${targets.map((c) => `${c.name} (${c.type})`).join(', ')}`,
    );

    const generator = env.ANTHROPIC_API_KEY
      ? new SqlGenerator(new AnthropicLlmClient(anthropicConfigFromEnv(env)))
      : undefined;
    lines.push(
      generator
        ? `llm: ${env.THREADQL_MODEL}`
        : 'llm: not configured (set ANTHROPIC_API_KEY); pasted SQL still works',
    );

    const chromium =
      env.THREADQL_CHROMIUM ??
      env.PUPPETEER_EXECUTABLE_PATH ??
      findExecutable('chromium', options.pathList) ??
      findExecutable('chromium-browser', options.pathList);
    let browser: MermaidBrowser | undefined;
    if (chromium && options.erdBrowser !== false) {
      browser = new MermaidBrowser({ executablePath: chromium });
      closers.push(() => browser!.close());
      lines.push(`erd: chromium at ${chromium}`);
    } else lines.push('erd: no chromium found; ER diagrams are sent as mermaid text');

    const charts = new ChartPool();
    closers.push(() => charts.close());

    const listed = (ids: typeof config.file.approvers) => (user: UserRef) => {
      const list: string[] = ids[user.platform] ?? [];
      return list.includes(user.user) || (user.roles ?? []).some((role) => list.includes(role));
    };
    const settings = {
      limits: config.file.limits,
      isApprover: listed(config.file.approvers),
      isAdmin: listed(config.file.admins),
      now: () => new Date(),
    };
    const engine = new ConversationEngine({
      sessions,
      settings,
      logger,
      firstSeen: async (key) => (await redis.set(`threadql:seen:${key}`, '1', 'EX', 86_400, 'NX')) === 'OK',
      flows: createFlows({
        connections,
        generator,
        confirmations: new ConfirmationStore(redis, { ttlSeconds: config.file.limits.confirmTtlSeconds }),
        renderers: createResultRenderers({ charts, ...(browser ? { browser } : {}) }),
        settings,
      }),
    });
    closers.push(() => engine.idle());
    return { engine, connections, store, redis, describe: () => lines, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** THREADQL_MASTER_KEY, or a key generated once into the data directory (a laptop default, said so in the log). */
function masterKey(fromEnv: string | undefined, dataDir: string, logger: Logger): string {
  if (fromEnv) return fromEnv;
  const path = join(dataDir, 'master.key');
  if (!existsSync(path)) {
    logger.warn(
      { path },
      'THREADQL_MASTER_KEY is not set: generated a local key file; set THREADQL_MASTER_KEY in production',
    );
    return generateKeyFile(path);
  }
  return readFileSync(path, 'utf8').trim();
}

function generateKeyFile(path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  const key = randomBytes(32).toString('base64');
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  return key;
}
