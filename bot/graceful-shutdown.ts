/**
 * Shutdown with a deadline. On the first SIGTERM or SIGINT: cancel the work in flight (Claude calls and queries get
 * the abort, so they stop now rather than at their timeouts), stop taking events and let the turns in flight settle
 * for at most `graceMs` (they write their last replies and records meanwhile), close every connection, exit 0. A
 * second signal exits at once.
 */
import type { Logger } from '../core/logger.ts';

export interface ShutdownSteps {
  /** Cancels the work in flight (aborts the process-wide signal). */
  cancel(): void;
  /** Stops taking new events and resolves when the turns in flight have settled. */
  drain(): Promise<void>;
  /** Closes connections (store, Redis, databases, the outbox, the operator server). */
  close(): Promise<void>;
}

export interface GracefulShutdownOptions {
  graceMs: number;
  steps: ShutdownSteps;
  logger: Logger;
  /** process.exit by default; tests pass their own. */
  exit?: (code: number) => void;
  /** How long closing connections may take after the grace period (default 5 s). */
  closeMs?: number;
}

/** The exit code of a second signal (128 + SIGINT, what shells report for an interrupted program). */
export const FORCED_EXIT_CODE = 130;

/** Resolves with `true` when `work` settles within `ms`, `false` when the time ran out first. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export class GracefulShutdown {
  readonly #options: GracefulShutdownOptions;
  #running: Promise<void> | undefined;

  constructor(options: GracefulShutdownOptions) {
    this.#options = options;
  }

  /** Handles SIGTERM and SIGINT on `target` (the process). */
  install(target: NodeJS.EventEmitter = process): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) target.on(signal, () => void this.shutdown(signal));
  }

  /** Runs the shutdown once; a second call (a second signal) exits at once. */
  shutdown(reason: string): Promise<void> {
    if (this.#running) {
      this.#options.logger.warn({ reason }, 'second signal: exiting now without waiting');
      this.#exit(FORCED_EXIT_CODE);
      return this.#running;
    }
    this.#running = this.#run(reason);
    return this.#running;
  }

  async #run(reason: string): Promise<void> {
    const { graceMs, steps, logger } = this.#options;
    logger.info(
      { reason, graceMs },
      'shutting down: cancelling work in flight and waiting for turns to settle',
    );
    steps.cancel();
    const drained = await within(steps.drain(), graceMs);
    if (!drained) logger.warn({ graceMs }, 'grace period over: closing with turns still in flight');
    const closed = await within(
      steps.close().catch((err: unknown) => logger.warn({ err }, 'a shutdown step failed')),
      this.#options.closeMs ?? 5_000,
    );
    if (!closed) logger.warn('closing connections took too long; exiting anyway');
    logger.info({ drained, closed }, 'shut down');
    this.#exit(drained && closed ? 0 : 1);
  }

  #exit(code: number): void {
    (this.#options.exit ?? ((c: number) => process.exit(c)))(code);
  }
}
