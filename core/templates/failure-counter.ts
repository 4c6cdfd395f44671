import type { Redis } from 'ioredis';

/**
 * Consecutive failed runs per schedule, counted with Redis INCR (atomic, unlike `$inc` on FerretDB 1.x) and reset
 * by a success. Should Redis be flushed the streak starts over, which only delays an automatic pause.
 */
export class FailureCounter {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix = 'threadql:') {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  #key(scheduleId: string): string {
    return `${this.#prefix}schedule-failures:${scheduleId}`;
  }

  /** Counts one more failure; returns the streak including it. */
  increment(scheduleId: string): Promise<number> {
    return this.#redis.incr(this.#key(scheduleId));
  }

  /** The current streak. */
  async current(scheduleId: string): Promise<number> {
    return Number((await this.#redis.get(this.#key(scheduleId))) ?? 0);
  }

  /** A run succeeded (or the schedule was resumed): the streak ends. */
  async reset(scheduleId: string): Promise<void> {
    await this.#redis.del(this.#key(scheduleId));
  }
}
