/**
 * The engine's durable state: the MongoDB session store, the dependency breakers around the store and Redis, and
 * the durable outbox that keeps history and audit records on disk while the store is down and replays them after.
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { ConnectionConfig } from '../../config/config-file.ts';
import type { ThreadqlConfig } from '../../config/load-config.ts';
import { MongoSessionStore } from '../../core/conversation/mongo-session-store.ts';
import type { Logger } from '../../core/logger.ts';
import type { ThreadqlMetrics } from '../../core/metrics/threadql-metrics.ts';
import { DurableOutbox } from '../../core/outbox/durable-outbox.ts';
import { OutboxedSessionStore } from '../../core/outbox/outboxed-session-store.ts';
import {
  DependencyBreakers,
  type DependencyBreakersOptions,
} from '../../core/resilience/dependency-breakers.ts';
import { guardRedis } from '../../core/resilience/guarded-redis.ts';
import type { StartupLedger } from './startup-ledger.ts';

export interface SessionStoresOptions {
  config: ThreadqlConfig;
  store: Connection;
  rawRedis: Redis;
  targets: ConnectionConfig[];
  masterKey: string;
  /** The resolved THREADQL_DATA_DIR (the outbox lives in it). */
  dataDir: string;
  /** Breaker timings (tests use short ones); defaults per dependency in DependencyBreakers. */
  breakers?: DependencyBreakersOptions['settings'] | undefined;
  /** How often the outbox retries while records wait (default 5 s). */
  replayIntervalMs?: number | undefined;
  metrics: ThreadqlMetrics;
  logger: Logger;
}

export interface SessionStores {
  mongoSessions: MongoSessionStore;
  breakers: DependencyBreakers;
  /** Redis with its commands behind the `redis` breaker. */
  redis: Redis;
  /** Breaker-bounded, with history and audit kept in the outbox while the store is down. */
  sessions: OutboxedSessionStore;
}

/** Opens the session store, the breakers and the outbox, and starts the outbox's replay. */
export async function createSessionStores(
  options: SessionStoresOptions,
  ledger: StartupLedger,
): Promise<SessionStores> {
  const { config, rawRedis, metrics, logger } = options;
  const { closers, lines } = ledger;
  const mongoSessions = await MongoSessionStore.create(options.store, {
    connections: options.targets,
    masterKey: options.masterKey,
    schemaTtlSeconds: config.file.limits.schemaCacheTtlSeconds,
  });
  const breakers = new DependencyBreakers({
    ...(options.breakers ? { settings: options.breakers } : {}),
    // Raw clients: the probe already runs through the breaker.
    probes: { store: () => mongoSessions.ping(), redis: () => rawRedis.ping() },
    onStateChange: (key, state) => {
      metrics.breaker(key, state);
      if (state === 'open') logger.warn({ dependency: key }, 'dependency unreachable: failing fast for now');
      if (state === 'closed') logger.info({ dependency: key }, 'dependency reachable again');
    },
    onFailure: (key) => metrics.dependencyErrors.inc({ dependency: key }),
  });
  closers.push(async () => breakers.shutdown());
  const redis = guardRedis(rawRedis, breakers);

  const outbox = await DurableOutbox.open({
    dir: join(options.dataDir, 'outbox'),
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
  return { mongoSessions, breakers, redis, sessions };
}
