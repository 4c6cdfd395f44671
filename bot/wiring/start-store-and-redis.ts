/**
 * The bot's own state services: the MongoDB store (MONGODB_URI, or an embedded one in the data directory) and
 * Redis (REDIS_URL, or an embedded redis-server), connected and registered for shutdown.
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Env } from '../../config/env.ts';
import type { Logger } from '../../core/logger.ts';
import { connectRedis } from '../../core/store/connect-redis.ts';
import { connectStore } from '../../core/store/connect-store.ts';
import { startEmbeddedRedis } from '../local-services/start-embedded-redis.ts';
import { startEmbeddedStore } from '../local-services/start-embedded-store.ts';
import type { StartupLedger } from './startup-ledger.ts';

export interface StoreAndRedisOptions {
  env: Env;
  /** The resolved THREADQL_DATA_DIR. */
  dataDir: string;
  repoRoot: string;
  /** PATH for finding mongod, ferretdb, go and redis-server. */
  pathList: string | undefined;
  onProgress?: ((message: string) => void) | undefined;
  /** Start-up wait for Redis (default 10 s). */
  redisConnectTimeoutMs?: number | undefined;
  logger: Logger;
}

/** The connected store and the raw (unguarded) Redis client, with the URL the report queue connects to. */
export interface StoreAndRedis {
  store: Connection;
  rawRedis: Redis;
  redisUrl: string;
}

/** Starts (when not given) and connects the store and Redis. */
export async function startStoreAndRedis(
  options: StoreAndRedisOptions,
  ledger: StartupLedger,
): Promise<StoreAndRedis> {
  const { env, dataDir, logger } = options;
  const { closers, lines } = ledger;
  let storeUri = env.MONGODB_URI;
  if (storeUri) lines.push('store: MONGODB_URI');
  else {
    const embedded = await startEmbeddedStore({
      dataDir: join(dataDir, 'store'),
      repoRoot: options.repoRoot,
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
  return { store, rawRedis, redisUrl };
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
