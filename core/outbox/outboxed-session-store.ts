/**
 * The engine's SessionStore with nothing lost when the store is down: every call runs through the store's breaker
 * (a bounded wait, failing fast while it is known down), and the records that must not be lost (history entries,
 * audit events, feedback) go to the durable outbox when the store cannot take them, to be replayed in order,
 * idempotently, once it is back. Reads and session bookkeeping cannot be deferred: they fail with the store's
 * DependencyDownError, which the engine turns into "my state store is unreachable".
 *
 * Order is kept per process: while anything waits in the outbox, new records queue behind it (after one attempt
 * to drain it), so the store receives them in the order they were made.
 *
 * Journal first: `stageHistory` and `stageAudit` put a record in the outbox (on disk) before the reply goes out and
 * hand back the write to the store, which the write-behind layer runs after the reply; a process killed between
 * the two leaves the record for replay (by its restart, or by a replica sharing the data directory).
 */
import { randomUUID } from 'node:crypto';
import type { ThreadRef, UserRef } from '../conversation/chat-platform.ts';
import type {
  HistoryEntryInput,
  SessionInfo,
  SessionOpeningInput,
  SessionStore,
} from '../conversation/engine-ports.ts';
import { hasCode } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { DependencyBreakers } from '../resilience/dependency-breakers.ts';
import { DependencyDownError } from '../resilience/dependency-errors.ts';
import type { DeliveryOutcome, DrainResult, DurableOutbox, OutboxRecord } from './durable-outbox.ts';

export type AuditInput = Parameters<SessionStore['audit']>[0];
export type FeedbackInput = Parameters<SessionStore['recordFeedback']>[0];

/** What creates a thread's session when a replayed write finds none (the turn was recorded while the store was down). */
export type SessionOpening = SessionOpeningInput;

/** A store whose record writes take an idempotency key (MongoSessionStore). */
export interface ReplayableSessionStore extends SessionStore {
  appendHistoryOnce(
    sessionId: string,
    entry: HistoryEntryInput,
    write: { id?: string; at?: Date; replay?: boolean; open?: SessionOpening; sequence?: number },
  ): Promise<number>;
  auditOnce(event: AuditInput, write: { id?: string; at?: Date }): Promise<void>;
}

/** How a record write went: written now (with the history sequence), or kept in the outbox for later. */
export interface RecordOutcome {
  queued: boolean;
  /** The history entry's sequence number; absent when queued (assigned at replay). */
  sequence?: number;
}

interface HistoryPayload {
  sessionId: string;
  entry: HistoryEntryInput;
  open?: SessionOpening;
}

export interface OutboxedSessionStoreOptions {
  /** While records wait, how often a replay is tried even without a breaker closing. Default 5 s. */
  replayIntervalMs?: number;
  /**
   * How often the outbox directory is checked for files of processes that stopped (replicas on this host sharing
   * the data directory), whose records this process then replays. Default 10 s; 0 turns it off.
   */
  adoptIntervalMs?: number;
  logger?: Logger;
}

export class OutboxedSessionStore implements SessionStore {
  readonly #inner: ReplayableSessionStore;
  readonly #outbox: DurableOutbox;
  readonly #breakers: DependencyBreakers;
  readonly #options: OutboxedSessionStoreOptions;
  #timer: NodeJS.Timeout | undefined;
  #adopter: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #closed = false;
  /** Journal records (staged) that their own writer will store; the rest of the outbox waits for a replay. */
  readonly #journal = new Set<string>();
  /** Journal records whose write is running: a replay waits for it instead of writing them twice. */
  readonly #writing = new Map<string, Promise<boolean>>();

  constructor(
    inner: ReplayableSessionStore,
    outbox: DurableOutbox,
    breakers: DependencyBreakers,
    options: OutboxedSessionStoreOptions = {},
  ) {
    this.#inner = inner;
    this.#outbox = outbox;
    this.#breakers = breakers;
    this.#options = options;
  }

  /** Replays whatever an earlier run left in the outbox, and replays again whenever the store's breaker closes. */
  start(): void {
    this.#unsubscribe = this.#breakers.onStateChange((key, state) => {
      if (key === 'store' && state === 'closed') void this.flush();
    });
    if (this.#outbox.depth > 0) void this.flush();
    const every = this.#options.adoptIntervalMs ?? 10_000;
    if (every > 0) {
      this.#adopter = setInterval(() => void this.adopt(), every);
      this.#adopter.unref();
    }
  }

  /** Takes over what stopped processes left in the outbox directory, and replays it. */
  async adopt(): Promise<number> {
    const adopted = await this.#outbox.adoptOrphans().catch((err: unknown) => {
      this.#options.logger?.warn({ err }, 'could not check the outbox for records of stopped processes');
      return 0;
    });
    if (adopted > 0) {
      this.#options.logger?.info({ adopted }, 'took over records a stopped process left in the outbox');
      await this.flush().catch(() => undefined);
    }
    return adopted;
  }

  /** Records waiting in the outbox. */
  get queued(): number {
    return this.#outbox.depth;
  }

  /** Delivers what waits in the outbox, oldest first, until the store refuses (then a retry is scheduled). */
  async flush(): Promise<DrainResult> {
    const result = await this.#outbox.drain((record) => this.#deliver(record));
    if (result.delivered || result.dead)
      this.#options.logger?.info(
        { delivered: result.delivered, dead: result.dead, remaining: result.remaining },
        'replayed records kept while the store was unreachable',
      );
    if (result.remaining > 0) this.#scheduleReplay();
    return result;
  }

  /** Stops the replay timer and makes a last attempt to deliver (records that still wait stay on disk). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#adopter);
    this.#unsubscribe?.();
    if (this.#outbox.depth > 0) await this.flush().catch(() => {});
  }

  // ---- records: never lost ----

  /**
   * appendHistory that says whether the entry was written or queued; `open` lets a replay create the session,
   * `sequence` is the number to try first when written now (a queued entry gets the next free one at replay).
   */
  async recordHistory(
    sessionId: string,
    entry: HistoryEntryInput,
    open?: SessionOpening,
    sequence?: number,
  ): Promise<RecordOutcome> {
    const payload: HistoryPayload = { sessionId, entry, ...(open ? { open } : {}) };
    const outcome = await this.#record('history', payload, (id, at) =>
      this.#writeHistory(payload, id, at, { sequence }),
    );
    return outcome.queued ? { queued: true } : { queued: false, sequence: outcome.value };
  }

  /** Appends a history entry; when the store is down it is queued and 0 is returned (the sequence comes at replay). */
  async appendHistory(
    sessionId: string,
    entry: HistoryEntryInput,
    hint: { sequence?: number } = {},
  ): Promise<number> {
    return (await this.recordHistory(sessionId, entry, undefined, hint.sequence)).sequence ?? 0;
  }

  /** Records an audit event now, or durably for later when the store is down (never throws for an outage). */
  async audit(event: AuditInput): Promise<void> {
    await this.recordAudit(event);
  }

  /** audit that says whether the event was written or queued. */
  async recordAudit(event: AuditInput): Promise<RecordOutcome> {
    const outcome = await this.#record('audit', event, (id, at) => this.#inner.auditOnce(event, { id, at }));
    return { queued: outcome.queued };
  }

  async recordFeedback(input: FeedbackInput): Promise<void> {
    await this.#record('feedback', input, () => this.#inner.recordFeedback(input));
  }

  // ---- journal first: on disk before the reply, written to the store behind it ----

  /**
   * Journals a history entry; the returned write stores it (its sequence, or 0 when it waits for a replay).
   * `hint.open` is journaled for a replay only (the session's opening, still on its way to the store): the direct
   * write runs after the opening's own write.
   */
  async stageHistory(
    sessionId: string,
    entry: HistoryEntryInput,
    hint: { sequence?: number; open?: SessionOpening } = {},
  ): Promise<() => Promise<number>> {
    const payload: HistoryPayload = { sessionId, entry, ...(hint.open ? { open: hint.open } : {}) };
    const write = await this.#stage('history', payload, (id, at) =>
      this.#writeHistory({ sessionId, entry }, id, at, { sequence: hint.sequence }),
    );
    return async () => (await write()) ?? 0;
  }

  /** Journals an audit event; the returned write stores it. */
  async stageAudit(event: AuditInput): Promise<() => Promise<void>> {
    const write = await this.#stage('audit', event, (id, at) => this.#inner.auditOnce(event, { id, at }));
    return async () => void (await write());
  }

  // ---- reads and bookkeeping: bounded, fail fast while the store is down ----

  openSession(
    thread: ThreadRef,
    user: UserRef,
    connectionName: string,
    question: string,
  ): Promise<SessionInfo> {
    return this.#store(() => this.#inner.openSession(thread, user, connectionName, question));
  }

  findSession(thread: ThreadRef): Promise<SessionInfo | undefined> {
    return this.#store(() => this.#inner.findSession(thread));
  }

  setConnection(sessionId: string, connectionName: string): Promise<void> {
    return this.#store(() => this.#inner.setConnection(sessionId, connectionName));
  }

  /**
   * Appends the record to the outbox (on disk when this resolves) and returns its write: straight to the store,
   * settling the record, when no older record waits for a replay; otherwise (older records wait, or the store is
   * down) the record stays for the replay, in order, and the write resolves undefined. A refusal that is not an
   * outage is thrown, and the replay dead-letters the record.
   */
  async #stage<T>(
    kind: string,
    payload: unknown,
    direct: (id: string, at: Date) => Promise<T>,
  ): Promise<() => Promise<T | undefined>> {
    // In the journal before it is in the outbox: a record between the two would look like one kept from an
    // outage, and send every other writer through the (serial) replay.
    const id = randomUUID();
    this.#journal.add(id);
    let at: string;
    try {
      ({ at } = await this.#outbox.append(kind, payload, id));
    } catch (error) {
      this.#journal.delete(id);
      throw error;
    }
    return async () => {
      if (!this.#journal.has(id)) return undefined; // a replay took it
      if (this.#waiting() > 0) {
        this.#journal.delete(id);
        void this.flush().catch(() => undefined);
        return undefined;
      }
      let written!: (ok: boolean) => void;
      this.#writing.set(id, new Promise((resolve) => (written = resolve)));
      let ok = false;
      try {
        const value = await this.#store(() => direct(id, new Date(at)));
        ok = true;
        await this.#outbox.settle(id);
        return value;
      } catch (error) {
        if (!(error instanceof DependencyDownError)) throw error;
        return undefined;
      } finally {
        this.#journal.delete(id);
        this.#writing.delete(id);
        written(ok);
        if (!ok) this.#scheduleReplay();
      }
    };
  }

  /** Records in the outbox that wait for a replay (kept from an outage or adopted), not journal records being written. */
  #waiting(): number {
    return this.#outbox.depth - this.#journal.size;
  }

  #store<T>(work: () => Promise<T>): Promise<T> {
    return this.#breakers.call('store', work);
  }

  /**
   * Writes now when nothing waits and the store answers; otherwise appends to the outbox (on disk before this
   * returns). Errors that are not an outage (a validation error) are the caller's, as before.
   */
  async #record<T>(
    kind: string,
    payload: unknown,
    direct: (id: string, at: Date) => Promise<T>,
  ): Promise<{ queued: true } | { queued: false; value: T }> {
    const id = randomUUID();
    const at = new Date();
    if (this.#waiting() > 0) await this.flush().catch(() => undefined);
    if (this.#waiting() === 0) {
      try {
        return { queued: false, value: await this.#store(() => direct(id, at)) };
      } catch (error) {
        if (!(error instanceof DependencyDownError)) throw error;
      }
    }
    await this.#outbox.append(kind, payload, id);
    this.#options.logger?.warn(
      { kind, id, queued: this.#outbox.depth },
      'the store is unreachable; kept the record in the local outbox for replay',
    );
    this.#scheduleReplay();
    return { queued: true };
  }

  /**
   * Writes a history record to the store, idempotently by its id: now (trying `sequence` first) or at a replay
   * (the next free sequence; `open` creates the thread's session if the outage kept it from being made).
   */
  #writeHistory(
    { sessionId, entry, open }: HistoryPayload,
    id: string,
    at: Date,
    options: { replay?: boolean; sequence?: number | undefined },
  ): Promise<number> {
    return this.#inner.appendHistoryOnce(sessionId, entry, {
      id,
      at,
      ...(options.replay ? { replay: true } : {}),
      ...(open ? { open } : {}),
      ...(options.sequence ? { sequence: options.sequence } : {}),
    });
  }

  async #deliver(record: OutboxRecord): Promise<DeliveryOutcome> {
    const writing = this.#writing.get(record.id);
    if (writing) return (await writing) ? 'done' : 'retry';
    this.#journal.delete(record.id); // taken by this replay: its writer skips it
    const at = new Date(record.at);
    try {
      await this.#store(async () => {
        switch (record.kind) {
          case 'history':
            await this.#writeHistory(record.payload as HistoryPayload, record.id, at, { replay: true });
            return;
          case 'audit':
            await this.#inner.auditOnce(record.payload as AuditInput, { id: record.id, at });
            return;
          case 'feedback':
            await this.#inner.recordFeedback(record.payload as FeedbackInput);
            return;
          default:
            throw new Error(`unknown outbox record kind "${record.kind}"`);
        }
      });
      return 'done';
    } catch (error) {
      if (error instanceof DependencyDownError || hasCode(error, 'conflict')) return 'retry';
      return { dead: error instanceof Error ? error.message.slice(0, 500) : String(error) };
    }
  }

  #scheduleReplay(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush().catch(() => this.#scheduleReplay());
    }, this.#options.replayIntervalMs ?? 5_000);
    this.#timer.unref();
  }
}
