/**
 * One circuit breaker (opossum) per dependency, so a dependency that is down costs a user one bounded wait, not one
 * per call: after a few "it is down" failures the breaker opens and calls fail at once with a DependencyDownError;
 * after `resetMs` one trial call (or the dependency's probe, run in the background) goes through, and its success
 * closes the breaker again. Errors that are the call's own problem (a duplicate key, a bad query) never open it.
 */
import CircuitBreaker from 'opossum';
import {
  asDependencyError,
  DependencyDownError,
  isDownError,
  kindOf,
  type DependencyKey,
  type DependencyKind,
} from './dependency-errors.ts';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerSettings {
  /** Longest wait for one call before it counts as "down" (bounded waits). */
  timeoutMs: number;
  /** How long an open breaker fails fast before letting a trial call through. */
  resetMs: number;
  /** Failures in the rolling window before the breaker may open. */
  volumeThreshold: number;
}

export interface DependencyBreakersOptions {
  /** Per kind; defaults: store 5 s, Redis 2 s, database 30 s (queries have their own timeout), LLM none. */
  settings?: Partial<Record<DependencyKind, Partial<BreakerSettings>>>;
  /**
   * Cheap "are you there?" checks (store ping, Redis PING) run when an open breaker half-opens, so a dependency that
   * comes back closes its breaker without waiting for a user's call.
   */
  probes?: Partial<Record<DependencyKey, () => Promise<unknown>>>;
  /** Told about every state change and every "down" failure (logs, metrics). */
  onStateChange?: (key: DependencyKey, state: BreakerState) => void;
  onFailure?: (key: DependencyKey, error: unknown) => void;
}

export interface CallOptions {
  /** Overrides the kind's timeout for this call (0: none). */
  timeoutMs?: number;
}

const DEFAULTS: Record<DependencyKind, BreakerSettings> = {
  store: { timeoutMs: 5_000, resetMs: 3_000, volumeThreshold: 2 },
  redis: { timeoutMs: 2_000, resetMs: 2_000, volumeThreshold: 2 },
  database: { timeoutMs: 0, resetMs: 5_000, volumeThreshold: 2 },
  llm: { timeoutMs: 0, resetMs: 10_000, volumeThreshold: 3 },
};

type Action = (work: () => Promise<unknown>) => Promise<unknown>;

/** The breakers of one threadql process, created on first use per dependency key. */
export class DependencyBreakers {
  readonly #options: DependencyBreakersOptions;
  readonly #breakers = new Map<DependencyKey, CircuitBreaker<[() => Promise<unknown>], unknown>>();
  readonly #listeners = new Set<(key: DependencyKey, state: BreakerState) => void>();

  constructor(options: DependencyBreakersOptions = {}) {
    this.#options = options;
  }

  /** Runs `work` through the dependency's breaker with a bounded wait; "down" errors become DependencyDownError. */
  async call<T>(key: DependencyKey, work: () => Promise<T>, options: CallOptions = {}): Promise<T> {
    const breaker = this.#breaker(key);
    const timeoutMs = options.timeoutMs ?? this.#settings(key).timeoutMs;
    try {
      return (await breaker.fire(timeoutMs > 0 ? () => bounded(key, work(), timeoutMs) : work)) as T;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'EOPENBREAKER')
        throw new DependencyDownError(key, { failedFast: true });
      throw asDependencyError(key, error);
    }
  }

  /** The breaker's state; `closed` for a dependency never called. */
  state(key: DependencyKey): BreakerState {
    const breaker = this.#breakers.get(key);
    if (!breaker || breaker.closed) return 'closed';
    return breaker.halfOpen ? 'half-open' : 'open';
  }

  /** Every dependency called so far, with its state. */
  states(): { key: DependencyKey; state: BreakerState }[] {
    return [...this.#breakers.keys()].map((key) => ({ key, state: this.state(key) }));
  }

  /** Subscribes to state changes; returns the unsubscribe function. */
  onStateChange(listener: (key: DependencyKey, state: BreakerState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops every breaker's timers (shutdown, tests). */
  shutdown(): void {
    for (const breaker of this.#breakers.values()) breaker.shutdown();
    this.#breakers.clear();
    this.#listeners.clear();
  }

  #settings(key: DependencyKey): BreakerSettings {
    const kind = kindOf(key);
    return { ...DEFAULTS[kind], ...this.#options.settings?.[kind] };
  }

  #breaker(key: DependencyKey) {
    let breaker = this.#breakers.get(key);
    if (breaker) return breaker;
    const settings = this.#settings(key);
    const action: Action = (work) => work();
    breaker = new CircuitBreaker(action, {
      name: key,
      // The wait is bounded in call(), where the timeout error can name the dependency.
      timeout: false,
      resetTimeout: settings.resetMs,
      volumeThreshold: settings.volumeThreshold,
      errorThresholdPercentage: 50,
      rollingCountTimeout: 10_000,
      // Only "the dependency is down" counts; anything else means it answered.
      errorFilter: (error: unknown) => !isDownError(key, error) && !(error instanceof DependencyDownError),
    });
    const emit = (state: BreakerState) => {
      this.#options.onStateChange?.(key, state);
      for (const listener of this.#listeners) listener(key, state);
    };
    breaker.on('open', () => emit('open'));
    breaker.on('close', () => emit('closed'));
    breaker.on('halfOpen', () => {
      emit('half-open');
      const probe = this.#options.probes?.[key];
      // The probe is the trial call: its success closes the breaker, its failure re-opens it.
      if (probe) void this.call(key, probe).catch(() => {});
    });
    breaker.on('failure', (error: unknown) => this.#options.onFailure?.(key, error));
    this.#breakers.set(key, breaker);
    return breaker;
  }
}

/** Rejects with a DependencyDownError when `promise` takes longer than `ms` (the work itself is left to finish). */
async function bounded<T>(key: DependencyKey, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DependencyDownError(key, { cause: new Error(`no answer within ${ms} ms`) })),
      ms,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
