import { Redis, type RedisOptions } from 'ioredis';
import { RedisError } from '../errors.ts';
import { redactUrl, type Logger } from '../logger.ts';

export interface ConnectRedisOptions {
  /** How long start-up waits for Redis before giving up (default 10 s). */
  connectTimeoutMs?: number;
  /** Longest wait for one command once running (default 2 s); a hung Redis then fails the call, not the turn. */
  commandTimeoutMs?: number;
  logger?: Logger;
  /** Extra ioredis options (tests). */
  redisOptions?: RedisOptions;
}

/**
 * The ioredis settings threadql runs with: a command fails after one reconnect attempt (not twenty) or
 * `commandTimeoutMs`, reconnects back off to at most 2 s and never stop, so a Redis that returns is used again
 * without a restart; and errors go to the log once per outage instead of "[ioredis] Unhandled error event".
 */
export function redisClient(url: string, options: ConnectRedisOptions = {}): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 2_000,
    connectTimeout: Math.min(options.connectTimeoutMs ?? 10_000, 5_000),
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
    ...options.redisOptions,
  });
  watchRedis(redis, redactUrl(url), options.logger);
  return redis;
}

/** Handles a client's error events: logged once when an outage starts and once when Redis is back. */
export function watchRedis(redis: Redis, where: string, logger: Logger | undefined): void {
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger?.warn({ redis: where, reason: error.message }, 'Redis is unreachable; retrying in the background');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger?.info({ redis: where }, 'Redis is reachable again');
  });
}

/**
 * Opens Redis for start-up: resolves once it answers, or within `connectTimeoutMs` rejects with a RedisError naming
 * the server (host and port, never a password) and disconnects, so nothing keeps the process alive or spams the log.
 */
export async function connectRedis(url: string, options: ConnectRedisOptions = {}): Promise<Redis> {
  const redis = redisClient(url, options);
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  let lastError: Error | undefined;
  const onError = (error: Error) => (lastError = error);
  redis.on('error', onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        // connect() rejects on the first failed attempt while ioredis keeps retrying: wait for `ready` instead.
        redis.connect().catch((error: Error) => (lastError = error));
        await new Promise<void>((resolve) => redis.once('ready', () => resolve()));
        await redis.ping();
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return redis;
  } catch (error) {
    redis.disconnect();
    const why = lastError?.message ?? (error as Error).message;
    throw new RedisError(
      `Cannot reach Redis at ${redisWhere(url)} within ${Math.round(timeoutMs / 1000)} s: ${why.split('\n')[0]}`,
      {
        cause: lastError ?? error,
        hint: 'Check REDIS_URL and that Redis is running, or unset REDIS_URL to let threadql start a local redis-server.',
      },
    );
  } finally {
    clearTimeout(timer);
    redis.off('error', onError);
  }
}

/** `host:port` of a Redis URL (no user, no password). */
export function redisWhere(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}`;
  } catch {
    return 'the configured REDIS_URL';
  }
}
