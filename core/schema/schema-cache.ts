import type { Redis } from 'ioredis';
import type { SchemaSnapshot } from '../db/database-dialect.ts';

export interface SchemaCacheOptions {
  /** Lifetime of a cached snapshot; 0 turns caching off. Default 3600 (1 h). */
  ttlSeconds?: number;
  /** Key prefix, so several bots (or tests) can share one Redis. Default `threadql:schema:`. */
  prefix?: string;
  /** Called when Redis fails; the cache then behaves as a miss rather than failing the question. */
  onError?: (error: unknown, operation: 'get' | 'set' | 'invalidate') => void;
}

/**
 * Introspection snapshots in Redis with a TTL, keyed by connection (e.g. `workspaceId:connectionName`). A Redis
 * failure never fails a query: reads degrade to a miss and writes are skipped (reported through onError).
 */
export class SchemaCache {
  readonly #redis: Redis;
  readonly #ttlSeconds: number;
  readonly #prefix: string;
  readonly #onError: NonNullable<SchemaCacheOptions['onError']>;
  readonly #loading = new Map<string, Promise<SchemaSnapshot>>();

  constructor(redis: Redis, options: SchemaCacheOptions = {}) {
    this.#redis = redis;
    this.#ttlSeconds = options.ttlSeconds ?? 3600;
    this.#prefix = options.prefix ?? 'threadql:schema:';
    this.#onError = options.onError ?? (() => {});
  }

  /** The Redis key of a connection's snapshot. */
  keyOf(connectionKey: string): string {
    return `${this.#prefix}${connectionKey}`;
  }

  /** The cached snapshot, or undefined when absent, expired, unreadable or Redis is down. */
  async get(connectionKey: string): Promise<SchemaSnapshot | undefined> {
    try {
      const text = await this.#redis.get(this.keyOf(connectionKey));
      if (text === null) return undefined;
      const snapshot = JSON.parse(text) as SchemaSnapshot & { introspectedAt: string };
      return { ...snapshot, introspectedAt: new Date(snapshot.introspectedAt) };
    } catch (error) {
      this.#onError(error, 'get');
      return undefined;
    }
  }

  /** Stores a snapshot for `ttlSeconds` (default: the cache's TTL). */
  async set(connectionKey: string, snapshot: SchemaSnapshot, ttlSeconds = this.#ttlSeconds): Promise<void> {
    if (ttlSeconds <= 0) return;
    try {
      await this.#redis.set(this.keyOf(connectionKey), JSON.stringify(snapshot), 'EX', Math.ceil(ttlSeconds));
    } catch (error) {
      this.#onError(error, 'set');
    }
  }

  /** Drops a connection's snapshot (after a migration, or when the user asks to refresh the schema). */
  async invalidate(connectionKey: string): Promise<void> {
    try {
      await this.#redis.del(this.keyOf(connectionKey));
    } catch (error) {
      this.#onError(error, 'invalidate');
    }
  }

  /** The cached snapshot, or `load()`'s result stored; concurrent misses for one key share one load. */
  async getOrLoad(
    connectionKey: string,
    load: () => Promise<SchemaSnapshot>,
  ): Promise<{ snapshot: SchemaSnapshot; cached: boolean }> {
    const hit = await this.get(connectionKey);
    if (hit) return { snapshot: hit, cached: true };
    let pending = this.#loading.get(connectionKey);
    if (!pending) {
      pending = (async () => {
        try {
          const snapshot = await load();
          await this.set(connectionKey, snapshot);
          return snapshot;
        } finally {
          this.#loading.delete(connectionKey);
        }
      })();
      this.#loading.set(connectionKey, pending);
    }
    return { snapshot: await pending, cached: false };
  }
}
