/**
 * The breakers' rules, with work functions that fail the way a dependency fails (the real failures, from real
 * stopped services, are in test/faults/): "down" errors open the breaker, anything else never does; an open
 * breaker refuses at once with DependencyDownError; the probe run on half-open closes it when the dependency is back.
 */
import { jest } from '@jest/globals';
import { DependencyBreakers, type BreakerState } from '../../core/resilience/dependency-breakers.ts';
import {
  DependencyDownError,
  dependencyOf,
  describeDependency,
  type DependencyKey,
} from '../../core/resilience/dependency-errors.ts';
import { DatabaseError, LlmError, StoreError, toUserMessage, ValidationError } from '../../core/errors.ts';

function networkError(): Error {
  const error = new Error('connect ECONNREFUSED 127.0.0.1:6390');
  return Object.assign(error, { code: 'ECONNREFUSED' });
}

function mongoDown(): Error {
  const error = new Error('Server selection timed out after 5000 ms');
  error.name = 'MongoServerSelectionError';
  return error;
}

/** Resolves when `key`'s breaker reaches `state`. */
function reaches(breakers: DependencyBreakers, key: DependencyKey, state: BreakerState): Promise<void> {
  return new Promise((resolve) => {
    const off = breakers.onStateChange((k, s) => {
      if (k === key && s === state) {
        off();
        resolve();
      }
    });
  });
}

let breakers: DependencyBreakers;
afterEach(() => breakers?.shutdown());

test('"down" failures open the breaker; then calls fail at once without running, with a message naming it', async () => {
  breakers = new DependencyBreakers({ settings: { redis: { resetMs: 60_000, volumeThreshold: 2 } } });
  const down = jest.fn(async () => Promise.reject(networkError()));
  const opened = reaches(breakers, 'redis', 'open');
  for (let i = 0; i < 2; i++) {
    const error = await breakers.call('redis', down).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyDownError);
    expect((error as DependencyDownError).failedFast).toBe(false);
  }
  await opened;
  expect(breakers.state('redis')).toBe('open');

  const work = jest.fn(async () => 'ran');
  const refused = await breakers.call('redis', work).catch((e: unknown) => e);
  expect(work).not.toHaveBeenCalled();
  expect(refused).toBeInstanceOf(DependencyDownError);
  expect((refused as DependencyDownError).failedFast).toBe(true);
  expect((refused as DependencyDownError).code).toBe('redis_unavailable');
  expect(toUserMessage(refused)).toBe(
    'My cache and lock service (Redis) is unreachable right now.\nPlease try again in a minute.',
  );
});

test('errors that are the call’s own (a validation error, a duplicate) never open the breaker', async () => {
  breakers = new DependencyBreakers({ settings: { store: { volumeThreshold: 1 } } });
  for (let i = 0; i < 5; i++) {
    const error = await breakers
      .call('store', async () => Promise.reject(new ValidationError('bad field')))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
  }
  expect(breakers.state('store')).toBe('closed');
  await expect(breakers.call('store', async () => 'fine')).resolves.toBe('fine');
});

test('a call that outlasts the bounded wait counts as down', async () => {
  breakers = new DependencyBreakers({ settings: { store: { timeoutMs: 20, volumeThreshold: 1 } } });
  let release: () => void = () => {};
  const hung = new Promise<void>((resolve) => (release = resolve));
  const error = await breakers.call('store', () => hung).catch((e: unknown) => e);
  release();
  expect(error).toBeInstanceOf(DependencyDownError);
  expect((error as DependencyDownError).code).toBe('store_unavailable');
  expect(toUserMessage(error)).toMatch(/^My state store is unreachable right now\./);
});

test('half-open runs the probe; its success closes the breaker and calls go through again', async () => {
  let up = false;
  const probe = jest.fn(async () => {
    if (!up) throw mongoDown();
  });
  breakers = new DependencyBreakers({
    settings: { store: { resetMs: 30, volumeThreshold: 1 } },
    probes: { store: probe },
  });
  const opened = reaches(breakers, 'store', 'open');
  await breakers.call('store', async () => Promise.reject(mongoDown())).catch(() => {});
  await opened;
  // The first probe fails (still down): the breaker opens again; the next succeeds.
  const reopened = reaches(breakers, 'store', 'open');
  await reopened;
  up = true;
  await reaches(breakers, 'store', 'closed');
  expect(probe.mock.calls.length).toBeGreaterThanOrEqual(2);
  await expect(breakers.call('store', async () => 'back')).resolves.toBe('back');
});

test('errors are classified by the dependency they say is down', () => {
  expect(dependencyOf(mongoDown())).toBe('store');
  expect(dependencyOf(new StoreError('x'))).toBe('store');
  expect(dependencyOf(networkError())).toBe('redis');
  expect(dependencyOf(new DatabaseError('database_unavailable', 'PostgreSQL: refused'))).toBe('database');
  expect(dependencyOf(new DatabaseError('query_failed', 'syntax error'))).toBeUndefined();
  expect(dependencyOf(new LlmError('llm_overloaded', 'busy'))).toBe('llm');
  expect(dependencyOf(new LlmError('llm_failed', 'x', { detail: { status: 503 } }))).toBe('llm');
  expect(dependencyOf(new LlmError('llm_failed', 'x', { detail: { status: 400 } }))).toBeUndefined();
  expect(dependencyOf(new LlmError('llm_rate_limited', 'slow down'))).toBeUndefined();
  expect(dependencyOf(new DependencyDownError('database:shop'))).toBe('database');
  expect(describeDependency('database:shop')).toBe('the database "shop"');
});
