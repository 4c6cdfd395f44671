/**
 * One migration step at a time per connection (apply, roll back, edit) and per shadow database (verification),
 * across bot replicas: a Redis lock (SET NX PX with a random token, released and extended only by its holder).
 * A busy lock is refused at once with a readable message rather than waited for.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ThreadqlError } from '../errors.ts';

export interface MigrationLock {
  /** Runs `work` holding the lock `key`; a lock someone else holds is a `conflict` error naming `what`. */
  run<T>(key: string, what: string, work: () => Promise<T>): Promise<T>;
}

export interface RedisMigrationLockOptions {
  /** Key prefix (tests and several bots share one Redis). Default `threadql:migration-lock:`. */
  prefix?: string;
  /** Lock lifetime, extended every third of it while the work runs; a crashed holder frees it after this. */
  ttlMs?: number;
}

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/** The lock on Redis. */
export function redisMigrationLock(redis: Redis, options: RedisMigrationLockOptions = {}): MigrationLock {
  const prefix = options.prefix ?? 'threadql:migration-lock:';
  const ttlMs = options.ttlMs ?? 60_000;
  return {
    async run(key, what, work) {
      const redisKey = `${prefix}${key}`;
      const token = randomBytes(16).toString('hex');
      const taken = await redis.set(redisKey, token, 'PX', ttlMs, 'NX');
      if (taken !== 'OK') {
        throw new ThreadqlError('conflict', `Another migration step is running on ${what} right now.`, {
          hint: 'Try again when it has finished.',
          detail: { lock: key },
        });
      }
      // A long index build outlives one TTL; the holder keeps its lock alive until it is done.
      const keepAlive = setInterval(
        () => {
          redis.eval(EXTEND, 1, redisKey, token, String(ttlMs)).catch(() => {});
        },
        Math.max(1000, Math.floor(ttlMs / 3)),
      );
      keepAlive.unref();
      try {
        return await work();
      } finally {
        clearInterval(keepAlive);
        await redis.eval(RELEASE, 1, redisKey, token).catch(() => {});
      }
    },
  };
}
