/**
 * The target databases threadql answers from: threadql.yml's connections (or the embedded sample database), with
 * result masking and governance, and the schema snapshots kept in Redis and the store.
 */
import { join, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import type { ConnectionConfig } from '../../config/config-file.ts';
import type { ThreadqlConfig } from '../../config/load-config.ts';
import { ConfiguredConnections } from '../../core/connections/connection-provider.ts';
import type { MongoSessionStore } from '../../core/conversation/mongo-session-store.ts';
import { Governance } from '../../core/governance/governance.ts';
import { ResultMasker } from '../../core/governance/result-masker.ts';
import type { Logger } from '../../core/logger.ts';
import type { ThreadqlMetrics } from '../../core/metrics/threadql-metrics.ts';
import type { DependencyBreakers } from '../../core/resilience/dependency-breakers.ts';
import { ensureSampleDatabase } from '../../core/sample/sample-database.ts';
import { SchemaCache } from '../../core/schema/schema-cache.ts';
import { maskingKey } from './master-key.ts';
import type { StartupLedger } from './startup-ledger.ts';

/** The connections to serve: threadql.yml's, or the embedded sample database when it names none. */
export async function targetConnections(
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

export interface TargetConnectionsOptions {
  config: ThreadqlConfig;
  targets: ConnectionConfig[];
  /** Whether `targets` is the embedded sample database. */
  sample: boolean;
  masterKey: string;
  mongoSessions: MongoSessionStore;
  /** Redis behind its breaker (the schema cache). */
  redis: Redis;
  breakers: DependencyBreakers;
  metrics: ThreadqlMetrics;
  /** Aborted on shutdown: queries in flight stop. */
  signal: AbortSignal;
  logger: Logger;
}

/** The configured connections and the governance that checks access, delivery and scheduled reports. */
export function createTargetConnections(
  options: TargetConnectionsOptions,
  ledger: StartupLedger,
): { connections: ConfiguredConnections; governance: Governance } {
  const { config, targets, mongoSessions, breakers, logger } = options;
  // Hash-mode masking is keyed from the master key: stable across restarts and replicas, unguessable without it.
  const masker = new ResultMasker(targets, { hashKey: maskingKey(options.masterKey) });
  const governance = new Governance(targets, masker);
  const cache = new SchemaCache(options.redis, {
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
    { breakers, metrics: options.metrics, signal: options.signal },
    masker,
  );
  ledger.closers.push(() => connections.close());
  ledger.lines.push(
    options.sample
      ? 'connections: none configured, using the embedded sample database "sample" (a small online shop in SQLite)'
      : `connections: ${targets.map((c) => `${c.name} (${c.type})`).join(', ')}`,
  );
  return { connections, governance };
}
