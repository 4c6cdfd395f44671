/**
 * Redis going down under a running threadql (createThreadql's real wiring) and coming back, for real: a Redis of
 * this test's own is stopped and started on the same port. While it is down, calls fail within a bounded wait and
 * then at once (breaker open) with a message naming Redis, de-duplication falls back to the process instead of
 * dropping the event, /readyz answers 503 naming redis, and the metrics count it. When it is back, everything
 * works again without a restart.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createThreadql, type Threadql } from '../../bot/create-threadql.ts';
import { operatorRoutes, startOperatorServer } from '../../bot/operator/operator-endpoints.ts';
import { degradingOnce, memoryOnce, redisOnce } from '../../bot/slack/event-dedupe.ts';
import { loadConfig } from '../../config/load-config.ts';
import { pathList } from '../../config/process-info.ts';
import { ConfirmationStore } from '../../core/conversation/confirmation-store.ts';
import { toUserMessage } from '../../core/errors.ts';
import { createLogger } from '../../core/logger.ts';
import type { BreakerState } from '../../core/resilience/dependency-breakers.ts';
import { DependencyDownError } from '../../core/resilience/dependency-errors.ts';
import { isolatedMongoUri } from '../support/services.ts';
import { OwnRedis } from './support/own-services.ts';

let redis: OwnRedis;
let threadql: Threadql;
let operator: { port: number; close(): Promise<void> };

function reaches(state: BreakerState): Promise<void> {
  return new Promise((resolve) => {
    if (threadql.breakers.state('redis') === state) return resolve();
    const off = threadql.breakers.onStateChange((key, s) => {
      if (key === 'redis' && s === state) {
        off();
        resolve();
      }
    });
  });
}

async function readyz(): Promise<{ status: number; body: { status: string; down?: string[] } }> {
  const res = await fetch(`http://127.0.0.1:${operator.port}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; down?: string[] } };
}

beforeAll(async () => {
  redis = await OwnRedis.start();
  const dataDir = mkdtempSync(join(tmpdir(), 'threadql-fault-redis-'));
  writeFileSync(join(dataDir, 'threadql.yml'), 'connections: []\n');
  const config = await loadConfig({
    MONGODB_URI: isolatedMongoUri('fault-redis'),
    REDIS_URL: redis.url,
    THREADQL_DATA_DIR: dataDir,
    THREADQL_CONFIG: join(dataDir, 'threadql.yml'),
    THREADQL_MASTER_KEY: 'passphrase:fault-redis',
  });
  threadql = await createThreadql({
    config,
    logger: createLogger('silent'),
    pathList: pathList(),
    erdBrowser: false,
    breakers: { redis: { timeoutMs: 1_000, resetMs: 200, volumeThreshold: 2 } },
  });
  operator = await startOperatorServer(
    operatorRoutes({ metrics: threadql.metrics, checks: () => threadql.readinessChecks() }),
    { port: 0, host: '127.0.0.1' },
  );
});

afterAll(async () => {
  await operator?.close();
  await threadql?.store.dropDatabase().catch(() => {});
  await threadql?.close();
  await redis?.stop();
});

test('Redis down: bounded failures naming Redis, then fail-fast; dedupe degrades; /readyz 503; back: all recovers', async () => {
  const confirmations = new ConfirmationStore(threadql.redis, { ttlSeconds: 60 });
  const once = degradingOnce(redisOnce(threadql.redis, { prefix: 'fault:seen:' }), memoryOnce());
  const card = await confirmations.create({
    sessionId: 's',
    turn: 1,
    threadKey: 'slack:T:C:1',
    askerKey: 'slack:T:U',
    connectionName: 'sample',
    question: 'q',
    title: 'q',
    sql: 'SELECT 1',
    verdict: 'read',
    explanation: 'e',
  });
  expect(await once('event-1')).toBe(true);
  expect(await readyz()).toEqual({ status: 200, body: expect.objectContaining({ status: 'ready' }) });

  await redis.stop();
  // Each call fails within the bounded wait, naming Redis, until enough have failed to open the breaker.
  while (threadql.breakers.state('redis') !== 'open') {
    const failure = await confirmations.peek(card.id).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DependencyDownError);
    expect(toUserMessage(failure)).toBe(
      'My cache and lock service (Redis) is unreachable right now.\nPlease try again in a minute.',
    );
  }
  const fast = await confirmations.consume(card.id).catch((e: unknown) => e);
  expect((fast as DependencyDownError).failedFast).toBe(true);

  // De-duplication keeps working in the process: a new event is taken, a repeat (even of one Redis saw) is not.
  expect(await once('event-2')).toBe(true);
  expect(await once('event-2')).toBe(false);
  expect(await once('event-1')).toBe(false);

  const down = await readyz();
  expect(down.status).toBe(503);
  expect(down.body).toMatchObject({ status: 'unavailable', down: ['redis'] });
  const metrics = await (await fetch(`http://127.0.0.1:${operator.port}/metrics`)).text();
  expect(metrics).toMatch(/threadql_dependency_errors_total\{dependency="redis"\} [1-9]/);
  expect(metrics).toMatch(/threadql_breaker_state\{dependency="redis"\} [12]/);

  // Back on the same port: the client reconnects, the breaker's probe closes it, the token is still there.
  const closed = reaches('closed');
  await redis.start();
  await closed;
  expect((await confirmations.consume(card.id))?.sql).toBe('SELECT 1');
  expect(await readyz()).toEqual({ status: 200, body: expect.objectContaining({ status: 'ready' }) });
});
