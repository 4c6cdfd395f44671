/**
 * Wires threadql from validated config, step by step (each in bot/wiring/): the store and Redis (or embedded ones),
 * the session store with its breakers and outbox, the target connections (or the embedded sample database),
 * Claude, the renderers, the migration targets, templates and reports, and the conversation engine.
 * Every resource a step starts is listed in `close()` and stopped once, newest first.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { ThreadqlConfig } from '../config/load-config.ts';
import type { ConfiguredConnections } from '../core/connections/connection-provider.ts';
import type { ConversationEngine } from '../core/conversation/conversation-engine.ts';
import type { ChatPlatform } from '../core/conversation/chat-platform.ts';
import type { Governance } from '../core/governance/governance.ts';
import { redisMigrationLock } from '../core/migrations/migration-lock.ts';
import { MigrationTargets } from '../core/migrations/migration-targets.ts';
import type { Logger } from '../core/logger.ts';
import { InterruptedError } from '../core/errors.ts';
import type { TemplateServices } from '../core/templates/create-template-services.ts';
import { ThreadqlMetrics } from '../core/metrics/threadql-metrics.ts';
import type { OutboxedSessionStore } from '../core/outbox/outboxed-session-store.ts';
import type {
  DependencyBreakers,
  DependencyBreakersOptions,
} from '../core/resilience/dependency-breakers.ts';
import type { ReadinessCheck } from './operator/operator-endpoints.ts';
import { createEngine } from './wiring/create-engine.ts';
import { createLlm } from './wiring/create-llm.ts';
import { createReportServices } from './wiring/create-report-services.ts';
import { createResultRendering } from './wiring/create-result-rendering.ts';
import { createSessionStores } from './wiring/create-session-stores.ts';
import { createTargetConnections, targetConnections } from './wiring/create-target-connections.ts';
import { masterKey } from './wiring/master-key.ts';
import { startStoreAndRedis } from './wiring/start-store-and-redis.ts';
import type { StartupLedger } from './wiring/startup-ledger.ts';

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
  metrics?: ThreadqlMetrics;
  /** The clock for approvals, expiry and confirmations (tests inject one). */
  now?: () => Date;
  /** How often pending approvals are checked for expiry; default 60 s. */
  approvalSweepMs?: number;
}

/** Builds a running threadql (without chat adapters); call close() to stop what it started. */
export async function createThreadql(options: CreateOptions): Promise<Threadql> {
  const { config, logger } = options;
  const env = config.env;
  const dataDir = resolve(env.THREADQL_DATA_DIR);
  const ledger: StartupLedger = { closers: [], lines: [] };
  const close = async () => {
    for (const stop of ledger.closers.reverse())
      await stop().catch((err: unknown) => logger.warn({ err }, 'shutdown step failed'));
  };
  const lifecycle = new AbortController();
  const signal = lifecycle.signal;
  const metrics = options.metrics ?? new ThreadqlMetrics();
  try {
    const { store, rawRedis, redisUrl } = await startStoreAndRedis(
      {
        env,
        dataDir,
        repoRoot: REPO_ROOT,
        pathList: options.pathList,
        onProgress: options.onProgress,
        redisConnectTimeoutMs: options.redisConnectTimeoutMs,
        logger,
      },
      ledger,
    );
    const { connections: targets, sample } = await targetConnections(config);
    const key = masterKey(env.THREADQL_MASTER_KEY, dataDir, logger);
    const { mongoSessions, breakers, redis, sessions } = await createSessionStores(
      {
        config,
        store,
        rawRedis,
        targets,
        masterKey: key,
        dataDir,
        breakers: options.breakers,
        replayIntervalMs: options.replayIntervalMs,
        metrics,
        logger,
      },
      ledger,
    );
    const { connections, governance } = createTargetConnections(
      { config, targets, sample, masterKey: key, mongoSessions, redis, breakers, metrics, signal, logger },
      ledger,
    );
    const { llm, generator } = createLlm({ config, breakers, metrics, signal, logger }, ledger);
    const renderers = createResultRendering(
      { env, pathList: options.pathList, erdBrowser: options.erdBrowser },
      ledger,
    );
    const now = options.now ?? (() => new Date());
    const migrationTargets = new MigrationTargets({
      connections,
      configs: targets,
      models: mongoSessions.models,
      settings: config.file.migrations,
      lock: redisMigrationLock(redis),
      now,
    });
    ledger.closers.push(() => migrationTargets.close());
    // THREADQL_REDIS_PREFIX: replicas of one deployment share it; each test's threadql gets its own.
    const templatesPrefix = config.env.THREADQL_REDIS_PREFIX ?? 'threadql:';
    const { templates, startScheduler } = createReportServices(
      {
        config,
        mongoSessions,
        redis,
        redisUrl,
        prefix: templatesPrefix,
        connections,
        renderers,
        governance,
        now,
        logger,
      },
      ledger,
    );
    const { engine, sweepApprovals } = createEngine(
      {
        config,
        connections,
        governance,
        llm,
        generator,
        renderers,
        templates,
        templatesPrefix,
        migrationTargets,
        mongoSessions,
        sessions,
        redis,
        now,
        metrics,
        signal,
        logger,
        approvalSweepMs: options.approvalSweepMs,
      },
      ledger,
    );
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
      signal,
      cancel: () =>
        lifecycle.abort(new InterruptedError('threadql is shutting down (a restart or a deploy).')),
      templates,
      startScheduler,
      readinessChecks: () => [
        { name: 'store', check: () => mongoSessions.ping() },
        { name: 'redis', check: async () => void (await rawRedis.ping()) },
      ],
      describe: () => ledger.lines,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
