/**
 * Wires threadql from validated config: the store (MongoDB, or an embedded one), Redis, the target
 * connections (or the embedded sample database), Claude, the renderers and the conversation engine.
 * Every resource it starts is listed in `close()` and stopped once, newest first.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { ConnectionConfig } from '../config/config-file.ts';
import type { ThreadqlConfig } from '../config/load-config.ts';
import { ConfiguredConnections } from '../core/connections/connection-provider.ts';
import { IntentChoiceStore } from '../core/conversation/intent-choice-store.ts';
import { ConfirmationStore } from '../core/conversation/confirmation-store.ts';
import { ConversationEngine } from '../core/conversation/conversation-engine.ts';
import { ApprovalPolicy } from '../core/approvals/approval-policy.ts';
import { ApprovalFlow } from '../core/conversation/flows/approval-flow.ts';
import { createFlows } from '../core/conversation/create-flows.ts';
import { createResultRenderers } from '../core/conversation/create-result-renderers.ts';
import type { ChatPlatform, UserRef } from '../core/conversation/chat-platform.ts';
import { MongoSessionStore } from '../core/conversation/mongo-session-store.ts';
import { WriteBehindSessionStore } from '../core/conversation/write-behind-session-store.ts';
import { Governance } from '../core/governance/governance.ts';
import { ResultMasker } from '../core/governance/result-masker.ts';
import { SchemaCache } from '../core/schema/schema-cache.ts';
import { redisMigrationLock } from '../core/migrations/migration-lock.ts';
import { MigrationTargets } from '../core/migrations/migration-targets.ts';
import { AnthropicLlmClient, anthropicConfigFromEnv } from '../core/llm/anthropic-llm-client.ts';
import { SqlGenerator } from '../core/llm/sql-generator.ts';
import type { Logger } from '../core/logger.ts';
import { ensureSampleDatabase } from '../core/sample/sample-database.ts';
import { connectStore } from '../core/store/connect-store.ts';
import { connectRedis } from '../core/store/connect-redis.ts';
import { InterruptedError } from '../core/errors.ts';
import { GuardedLlmClient } from '../core/llm/guarded-llm-client.ts';
import { createTemplateServices, type TemplateServices } from '../core/templates/create-template-services.ts';
import { LlmParameterProposer } from '../core/templates/propose-parameters.ts';
import { TemplateDrafts } from '../core/templates/template-drafts.ts';
import { PlatformReportSink } from './platform-report-sink.ts';
import { ThreadqlMetrics } from '../core/metrics/threadql-metrics.ts';
import { DurableOutbox } from '../core/outbox/durable-outbox.ts';
import { OutboxedSessionStore } from '../core/outbox/outboxed-session-store.ts';
import {
  DependencyBreakers,
  type DependencyBreakersOptions,
} from '../core/resilience/dependency-breakers.ts';
import { guardRedis } from '../core/resilience/guarded-redis.ts';
import type { ReadinessCheck } from './operator/operator-endpoints.ts';
import { degradingOnce, memoryOnce, redisOnce } from './slack/event-dedupe.ts';
import { ChartPool } from '../renderers/chart/chart-pool.ts';
import { MermaidBrowser } from '../renderers/erd/mermaid-browser.ts';
import { findExecutable } from './local-services/find-executable.ts';
import { startEmbeddedRedis } from './local-services/start-embedded-redis.ts';
import { startEmbeddedStore } from './local-services/start-embedded-store.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface Threadql {
  engine: ConversationEngine;
  connections: ConfiguredConnections;
  /** Access, delivery and scheduled-report checks per connection (masking is inside `connections`). */
  governance: Governance;
  store: Connection;
  /** Redis with its commands behind the `redis` breaker. */
  redis: Redis;
  /** The engine's SessionStore: breaker-bounded, with history and audit kept in the outbox while the store is down. */
  sessions: OutboxedSessionStore;
  breakers: DependencyBreakers;
  metrics: ThreadqlMetrics;
  /** Aborted by cancel(): Claude calls and queries in flight stop (shutdown). */
  signal: AbortSignal;
  /** Cancels the work in flight (the first step of a shutdown). */
  cancel(): void;
  /** Store and Redis readiness, for /readyz (the platforms add their own). */
  readinessChecks(): ReadinessCheck[];
  /** Expires due approval requests now (the interval sweep does this every minute); returns how many. */
  sweepApprovals(): Promise<number>;
  /** Saved templates and scheduled reports. */
  templates: TemplateServices;
  /**
   * Starts the report scheduler once the chat platforms run: reconciles the queue with MongoDB and works the
   * reports of these platforms (each replica delivers only to platforms it serves). Stopped by close().
   */
  startScheduler(platforms: readonly ChatPlatform[]): Promise<void>;
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
  /** Breaker timings (tests use short ones); defaults per dependency in DependencyBreakers. */
  breakers?: DependencyBreakersOptions['settings'];
  /** Start-up wait for Redis (default 10 s). */
  redisConnectTimeoutMs?: number;
  /** How often the outbox retries while records wait (default 5 s). */
  replayIntervalMs?: number;
  /**
   * Prefix of the Redis keys of templates and the report queue (default `threadql:`). Replicas of one deployment
   * share it; tests give each threadql its own, since reconciling drops job schedulers the store does not know.
   */
  templatesPrefix?: string;
  metrics?: ThreadqlMetrics;
  /** The clock for approvals, expiry and confirmations (tests inject one). */
  now?: () => Date;
  /** How often pending approvals are checked for expiry; default 60 s. */
  approvalSweepMs?: number;
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
  const lifecycle = new AbortController();
  const metrics = options.metrics ?? new ThreadqlMetrics();
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
    const store = await connectStore(storeUri, { logger });
    closers.push(() => store.close());

    let redisUrl = env.REDIS_URL;
    if (redisUrl) lines.push('redis: REDIS_URL');
    else {
      const embedded = await startEmbeddedRedis({ dataDir, pathList: options.pathList });
      closers.push(() => embedded.stop());
      redisUrl = embedded.url;
      lines.push(`redis: ${embedded.description}`);
    }
    const rawRedis = await connectRedis(redisUrl, {
      logger,
      ...(options.redisConnectTimeoutMs ? { connectTimeoutMs: options.redisConnectTimeoutMs } : {}),
    });
    closers.push(() => closeRedis(rawRedis));

    const { connections: targets, sample } = await targetConnections(config);
    const key = masterKey(env.THREADQL_MASTER_KEY, dataDir, logger);
    const mongoSessions = await MongoSessionStore.create(store, {
      connections: targets,
      masterKey: key,
      schemaTtlSeconds: config.file.limits.schemaCacheTtlSeconds,
    });
    const breakers = new DependencyBreakers({
      ...(options.breakers ? { settings: options.breakers } : {}),
      // Raw clients: the probe already runs through the breaker.
      probes: { store: () => mongoSessions.ping(), redis: () => rawRedis.ping() },
      onStateChange: (key, state) => {
        metrics.breaker(key, state);
        if (state === 'open')
          logger.warn({ dependency: key }, 'dependency unreachable: failing fast for now');
        if (state === 'closed') logger.info({ dependency: key }, 'dependency reachable again');
      },
      onFailure: (key) => metrics.dependencyErrors.inc({ dependency: key }),
    });
    closers.push(async () => breakers.shutdown());
    const redis = guardRedis(rawRedis, breakers);

    const outbox = await DurableOutbox.open({
      dir: join(dataDir, 'outbox'),
      onDepth: (depth) => metrics.outboxDepth.set(depth),
      onProblem: (message, detail) => logger.warn(detail, message),
    });
    closers.push(() => outbox.close());
    if (outbox.depth)
      lines.push(`outbox: ${outbox.depth} records from an earlier run to replay (${outbox.path})`);
    const sessions = new OutboxedSessionStore(mongoSessions, outbox, breakers, {
      logger,
      ...(options.replayIntervalMs ? { replayIntervalMs: options.replayIntervalMs } : {}),
    });
    sessions.start();
    closers.push(() => sessions.close());

    // Hash-mode masking is keyed from the master key: stable across restarts and replicas, unguessable without it.
    const masker = new ResultMasker(targets, { hashKey: maskingKey(key) });
    const governance = new Governance(targets, masker);
    const cache = new SchemaCache(redis, {
      ttlSeconds: config.file.limits.schemaCacheTtlSeconds,
      onError: (err, operation) => logger.warn({ err, operation }, 'schema cache unavailable'),
    });
    // Redis is the fast path; DatabaseConnection.schemaCache keeps the snapshot for admins and restarts. Neither
    // is needed to answer: with both down the schema is read from the database itself.
    const schemaStore = {
      get: async (name: string) => {
        const cached = await cache.get(mongoSessions.schemaCacheKey(name));
        if (cached) return cached;
        const stored = await breakers
          .call('store', () => mongoSessions.readSchema(name))
          .catch((err: unknown) => void logger.warn({ err }, 'stored schema unavailable'));
        if (stored) await cache.set(mongoSessions.schemaCacheKey(name), stored);
        return stored ?? undefined;
      },
      set: async (name: string, schema: Parameters<typeof cache.set>[1]) => {
        await cache.set(mongoSessions.schemaCacheKey(name), schema);
        await breakers
          .call('store', () => mongoSessions.writeSchema(name, schema))
          .catch((err: unknown) => logger.warn({ err }, 'could not keep the schema in the store'));
      },
    };
    const connections = new ConfiguredConnections(
      targets,
      schemaStore,
      // Status bookkeeping never fails a turn.
      (name, status, detail) =>
        breakers
          .call('store', () => mongoSessions.setConnectionStatus(name, status, detail))
          .catch((err: unknown) =>
            logger.warn({ err, connection: name }, 'could not record a connection status'),
          ),
      { breakers, metrics, signal: lifecycle.signal },
      masker,
    );
    closers.push(() => connections.close());
    lines.push(
      sample
        ? 'connections: none configured, using the embedded sample database "sample" (a small online shop in SQLite)'
        : `connections: ${targets.map((c) => `${c.name} (${c.type})`).join(', ')}`,
    );

    const llm = env.ANTHROPIC_API_KEY
      ? new GuardedLlmClient(
          new AnthropicLlmClient({ ...anthropicConfigFromEnv(env), logger }),
          breakers,
          metrics,
        )
      : undefined;
    const generator = llm
      ? new SqlGenerator(llm, {
          turnBudgetMs: config.file.llm.turnBudgetMs,
          signal: lifecycle.signal,
          logger,
        })
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
    const now = options.now ?? (() => new Date());
    const policy = new ApprovalPolicy(config.file.approvers, config.file.approvals);
    const settings = {
      limits: config.file.limits,
      isApprover: (user: UserRef) => policy.qualifies(user).approver,
      isAdmin: listed(config.file.admins),
      now,
    };
    // A retried event is answered once across replicas through Redis; while Redis is down, once per process.
    const firstSeen = degradingOnce(
      redisOnce(redis, { prefix: 'threadql:seen:' }),
      memoryOnce({ ttlMs: 60 * 60 * 1000 }),
      (err) => logger.warn({ err }, 'de-duplication fell back to this process (Redis unreachable)'),
    );
    const migrationTargets = new MigrationTargets({
      connections,
      configs: targets,
      models: mongoSessions.models,
      settings: config.file.migrations,
      lock: redisMigrationLock(redis),
      now,
    });
    closers.push(() => migrationTargets.close());
    const renderers = createResultRenderers({ charts, ...(browser ? { browser } : {}) });
    const templatesPrefix = options.templatesPrefix ?? 'threadql:';
    const reports = new PlatformReportSink();
    const templates = createTemplateServices({
      models: mongoSessions.models,
      redis,
      redisUrl,
      prefix: templatesPrefix,
      connections,
      renderers,
      sink: reports,
      limits: config.file.limits,
      schedules: config.file.schedules,
      checkReport: (name, channel) => governance.checkScheduledReport(name, channel),
      now,
      logger: logger.child({ component: 'reports' }),
    });
    closers.push(() => templates.scheduler.close());
    lines.push(`reports: schedules in ${config.file.schedules.timezone} unless given, queue on Redis`);
    const flows = createFlows({
      connections,
      generator,
      confirmations: new ConfirmationStore(redis, {
        ttlSeconds: config.file.limits.confirmTtlSeconds,
        now,
      }),
      choices: new IntentChoiceStore(redis, { ttlSeconds: config.file.limits.confirmTtlSeconds }),
      renderers,
      settings,
      governance,
      approvals: {
        models: mongoSessions.models,
        policy,
        connectionId: (name) => mongoSessions.connectionId(name),
      },
      migrations: { targets: migrationTargets, models: mongoSessions.models, policy },
      templates: {
        services: templates,
        drafts: new TemplateDrafts(redis, { prefix: templatesPrefix }),
        proposer: llm ? new LlmParameterProposer(llm, { logger }) : undefined,
        schedules: config.file.schedules,
      },
    });
    const engine = new ConversationEngine({
      // History and audit records follow the replies (write-behind-session-store.ts); engine.idle() flushes them.
      sessions: new WriteBehindSessionStore(sessions, { logger }),
      settings,
      logger,
      signal: lifecycle.signal,
      metrics,
      firstSeen,
      flows,
    });
    // Pending approvals past approvals.ttl expire (FerretDB has no TTL index); every replica may sweep.
    const approvalFlow = flows.find((f): f is ApprovalFlow => f instanceof ApprovalFlow);
    const sweepApprovals = async (): Promise<number> =>
      approvalFlow ? approvalFlow.sweep(sessions, (name) => engine.platformFor(name), logger) : 0;
    const sweeper = setInterval(() => {
      sweepApprovals().catch((err: unknown) => logger.warn({ err }, 'approval expiry sweep failed'));
    }, options.approvalSweepMs ?? 60_000);
    sweeper.unref();
    closers.push(async () => clearInterval(sweeper));
    closers.push(() => engine.idle());
    return {
      engine,
      connections,
      governance,
      store,
      redis,
      sessions,
      sweepApprovals,
      breakers,
      metrics,
      signal: lifecycle.signal,
      cancel: () =>
        lifecycle.abort(new InterruptedError('threadql is shutting down (a restart or a deploy).')),
      templates,
      startScheduler: async (platforms) => {
        for (const platform of platforms) reports.attach(platform);
        const starting = templates.scheduler.start(platforms.map((p) => p.name)).then(
          (summary) => logger.info(summary, 'report scheduler started'),
          (err: unknown) => logger.error({ err }, 'report scheduler did not start; scheduled reports wait'),
        );
        // Start-up stays bounded: with Redis unreachable, BullMQ waits for it, and the reports start when it is back.
        let timer: NodeJS.Timeout | undefined;
        const waited = await Promise.race([
          starting.then(() => true),
          new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 10_000))),
        ]);
        clearTimeout(timer);
        if (!waited) logger.warn('report scheduler still starting (waiting for Redis); carrying on');
      },
      readinessChecks: () => [
        { name: 'store', check: () => mongoSessions.ping() },
        { name: 'redis', check: async () => void (await rawRedis.ping()) },
      ],
      describe: () => lines,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Quits Redis politely when it answers, and drops the connection either way (a Redis that is down cannot QUIT). */
async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      redis.quit().catch(() => undefined),
      new Promise((resolve) => (timer = setTimeout(resolve, 1_000))),
    ]);
    clearTimeout(timer);
  }
  redis.disconnect();
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

/** The key of hash-mode masking, derived from the master key (HKDF), never the master key itself. */
function maskingKey(master: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, 'threadql', 'masking hash key v1', 32));
}

function generateKeyFile(path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  const key = randomBytes(32).toString('base64');
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  return key;
}
