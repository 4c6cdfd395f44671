/**
 * "Answer a retried event once": Slack re-sends an event it thinks was not acknowledged (X-Slack-Retry-Num), and with
 * several bot replicas any of them may get the retry, so the first-seen mark lives in Redis (SET NX EX).
 */
import type { Redis } from 'ioredis';

/** Resolves true the first time a key is seen (within its lifetime), false for every repeat. */
export type OnceFn = (key: string) => Promise<boolean>;

/** Slack retries for up to about an hour (three retries, the last ~5 min after the first), so a day is ample. */
const DEFAULT_TTL_SECONDS = 24 * 60 * 60;

/** A OnceFn shared by every replica, backed by Redis `SET key 1 EX ttl NX`. */
export function redisOnce(redis: Redis, options: { prefix?: string; ttlSeconds?: number } = {}): OnceFn {
  const prefix = options.prefix ?? 'threadql:slack:seen:';
  const ttl = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  return async (key) => (await redis.set(`${prefix}${key}`, '1', 'EX', ttl, 'NX')) === 'OK';
}

/** A OnceFn for a single process (development, tests): a Map pruned of expired keys as it is used. */
export function memoryOnce(options: { ttlMs?: number; now?: () => number } = {}): OnceFn {
  const ttl = options.ttlMs ?? DEFAULT_TTL_SECONDS * 1000;
  const now = options.now ?? Date.now;
  const seen = new Map<string, number>();
  return async (key) => {
    const t = now();
    if (seen.size > 10_000) {
      for (const [k, expires] of seen) if (expires <= t) seen.delete(k);
    }
    const expires = seen.get(key);
    if (expires !== undefined && expires > t) return false;
    seen.set(key, t + ttl);
    return true;
  };
}

/**
 * A OnceFn that never drops an event because its shared store is down: when `primary` (Redis) fails, the key is
 * judged by `fallback` (an in-process window) instead. Duplicates are then caught within this process only, so
 * while Redis is down a retry that reaches another replica may be answered twice; that beats answering no one.
 */
export function degradingOnce(
  primary: OnceFn,
  fallback: OnceFn = memoryOnce({ ttlMs: 60 * 60 * 1000 }),
  onFallback: (error: unknown) => void = () => {},
): OnceFn {
  return async (key) => {
    try {
      const first = await primary(key);
      // Remember it locally too, so a repeat during a later outage is still caught here.
      if (first) await fallback(key);
      return first;
    } catch (error) {
      onFallback(error);
      return fallback(key);
    }
  };
}
