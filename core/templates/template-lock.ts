/**
 * A short per-template lock in Redis. FerretDB 1.x applies every update as read-modify-write of the whole
 * document without isolation, so two concurrent updates of one template (a schedule being paused while a run
 * records its use) can lose one another. Every writer of a QueryTemplate document takes this lock first, which
 * serialises them; the unique keys (name per workspace, TemplateUse, ScheduleRun) stay the source of atomicity.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ThreadqlError } from '../errors.ts';

// Deletes the key only if it still holds our token: an expired lock taken over by someone else is not ours to drop.
const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export interface TemplateLockOptions {
  /** Key prefix shared with the rest of the template keys; default `threadql:`. */
  prefix?: string;
  /** How long a holder may keep the lock before it lapses (a crashed holder). Default 15 s. */
  ttlMs?: number;
  /** How long to wait for a busy lock. Default 5 s. */
  waitMs?: number;
}

export class TemplateLock {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #waitMs: number;

  constructor(redis: Redis, options: TemplateLockOptions = {}) {
    this.#redis = redis;
    this.#prefix = options.prefix ?? 'threadql:';
    this.#ttlMs = options.ttlMs ?? 15_000;
    this.#waitMs = options.waitMs ?? 5_000;
  }

  /** Runs `work` holding the lock of template `id`; a lock still busy after waitMs is a `conflict` error. */
  async with<T>(id: string, work: () => Promise<T>): Promise<T> {
    const held = await this.#hold(id, this.#waitMs, work);
    if (!held) {
      throw new ThreadqlError('conflict', 'This template is being changed right now; please try again.', {
        detail: { template: id },
      });
    }
    return held.value;
  }

  /** Like with(), but gives up quietly (undefined) when the lock stays busy for `waitMs`: for best-effort writes. */
  async tryWith<T>(id: string, work: () => Promise<T>, waitMs: number): Promise<{ value: T } | undefined> {
    return this.#hold(id, waitMs, work);
  }

  async #hold<T>(id: string, waitMs: number, work: () => Promise<T>): Promise<{ value: T } | undefined> {
    const key = `${this.#prefix}template-lock:${id}`;
    const token = randomBytes(12).toString('hex');
    // Waiting is measured on the wall clock on purpose: it bounds real time spent blocked, not schedule time.
    const deadline = Date.now() + waitMs;
    for (let attempt = 0; ; attempt++) {
      if ((await this.#redis.set(key, token, 'PX', this.#ttlMs, 'NX')) === 'OK') break;
      if (Date.now() >= deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, 5 * (attempt + 1))));
    }
    try {
      return { value: await work() };
    } finally {
      await this.#redis.eval(RELEASE, 1, key, token).catch(() => {});
    }
  }
}
