/**
 * Redis behind its breaker, without changing the code that uses it: a Proxy of the ioredis client whose command
 * methods (get, set, getdel, …) run through `breakers.call('redis', …)`. Callers (confirm tokens, the schema cache,
 * de-duplication) keep their Redis type and get a RedisError-coded DependencyDownError within a bounded wait when
 * Redis is down, at once while its breaker is open. Lifecycle methods (connect, quit, duplicate, on…) pass through.
 */
import type { Redis } from 'ioredis';
import type { DependencyBreakers } from './dependency-breakers.ts';

/** The same client, its commands guarded by the `redis` breaker. */
export function guardRedis(redis: Redis, breakers: DependencyBreakers): Redis {
  const commands = new Set(redis.getBuiltinCommands().map((c) => c.toLowerCase()));
  const wrapped = new Map<string, unknown>();
  return new Proxy(redis, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof property !== 'string' || typeof value !== 'function' || !commands.has(property))
        return typeof value === 'function' ? value.bind(target) : value;
      let fn = wrapped.get(property);
      if (!fn) {
        const command = value as (...args: unknown[]) => Promise<unknown>;
        fn = (...args: unknown[]) => breakers.call('redis', () => command.apply(target, args));
        wrapped.set(property, fn);
      }
      return fn;
    },
  });
}
