import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { testServices } from '../../config/test-services.ts';

export const services = testServices();

/** A MongoDB URI for a fresh database private to one test file, so parallel jest workers never collide. */
export function isolatedMongoUri(label: string): string {
  const url = new URL(services.mongodbUri);
  url.pathname = `/t_${label.replace(/[^a-z0-9]/gi, '_').slice(0, 24)}_${randomBytes(4).toString('hex')}`;
  return url.toString();
}

/** A Redis key prefix private to one test's threadql (templates and the report queue), e.g. `tq-e2e:slack:1a2b3c4d:`. */
export function isolatedRedisPrefix(label: string): string {
  return `tq-e2e:${label.replace(/[^a-z0-9-]/gi, '_').slice(0, 24)}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix` (a test's own; never anyone else's keys, never FLUSHALL). */
export async function deleteRedisKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}
