import { Redis } from 'ioredis';
import type { SchemaSnapshot } from '../../core/db/database-dialect.ts';
import { SchemaCache } from '../../core/schema/schema-cache.ts';
import { services } from '../support/services.ts';
import { deadPort, uniqueName } from './db-test-helpers.ts';

const prefix = `${uniqueName('schema_cache')}:`;
let redis: Redis;

const snapshot = (tables = 1): SchemaSnapshot => ({
  databaseType: 'postgres',
  tables: Array.from({ length: tables }, (_, i) => ({
    name: `t${i}`,
    kind: 'table' as const,
    columns: [{ name: 'id', type: 'integer', nullable: false, isPrimaryKey: true }],
    primaryKey: ['id'],
    foreignKeys: [],
    indexes: [],
  })),
  relationships: [],
  introspectedAt: new Date('2025-01-02T03:04:05.000Z'),
  catalogQueries: 4,
});

beforeAll(() => {
  redis = new Redis(services.redisUrl);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('SchemaCache (real Redis)', () => {
  it('round-trips a snapshot, Date included, with the default 1 h TTL', async () => {
    const cache = new SchemaCache(redis, { prefix });
    expect(await cache.get('w1:shop')).toBeUndefined();
    await cache.set('w1:shop', snapshot(3));
    const back = await cache.get('w1:shop');
    expect(back).toEqual(snapshot(3));
    expect(back?.introspectedAt).toBeInstanceOf(Date);
    const ttl = await redis.ttl(cache.keyOf('w1:shop'));
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
  });

  it('expires a snapshot after its TTL', async () => {
    const cache = new SchemaCache(redis, { prefix, ttlSeconds: 1 });
    await cache.set('w1:short', snapshot());
    expect(await redis.ttl(cache.keyOf('w1:short'))).toBe(1);
    expect(await cache.get('w1:short')).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect(await cache.get('w1:short')).toBeUndefined();
  });

  it('invalidates one connection without touching another', async () => {
    const cache = new SchemaCache(redis, { prefix });
    await cache.set('w1:a', snapshot());
    await cache.set('w1:b', snapshot(2));
    await cache.invalidate('w1:a');
    expect(await cache.get('w1:a')).toBeUndefined();
    expect((await cache.get('w1:b'))?.tables).toHaveLength(2);
  });

  it('caches nothing with a TTL of 0', async () => {
    const cache = new SchemaCache(redis, { prefix, ttlSeconds: 0 });
    await cache.set('w1:off', snapshot());
    expect(await redis.exists(cache.keyOf('w1:off'))).toBe(0);
  });

  it('loads once for concurrent misses and serves hits afterwards', async () => {
    const cache = new SchemaCache(redis, { prefix });
    let loads = 0;
    const load = async (): Promise<SchemaSnapshot> => {
      loads += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return snapshot(5);
    };
    const [a, b] = await Promise.all([cache.getOrLoad('w1:lazy', load), cache.getOrLoad('w1:lazy', load)]);
    expect(loads).toBe(1);
    expect(a).toMatchObject({ cached: false });
    expect(b.snapshot.tables).toHaveLength(5);
    const c = await cache.getOrLoad('w1:lazy', load);
    expect(c.cached).toBe(true);
    expect(loads).toBe(1);
  });

  it('treats an unreachable Redis as a miss and reports the error', async () => {
    const down = new Redis({
      port: await deadPort(),
      host: '127.0.0.1',
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    down.on('error', () => {});
    const errors: string[] = [];
    const cache = new SchemaCache(down, { prefix, onError: (_error, op) => errors.push(op) });
    expect(await cache.get('w1:x')).toBeUndefined();
    await cache.set('w1:x', snapshot());
    await cache.invalidate('w1:x');
    expect(errors).toEqual(['get', 'set', 'invalidate']);
    down.disconnect();
  });
});
