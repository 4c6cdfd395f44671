/**
 * A SessionStore that writes history and audit records behind the replies: the turn gets its history sequence
 * number at once (predicted from the session it read at the start of the turn) and the reply goes out, while the
 * writes follow in the background, in order per thread. A new thread's session is opened the same way. On FerretDB
 * one history append is three round trips, an audit event and a session's opening one each; this keeps them off
 * the time a user waits for a card or a table (bench/pipeline-overhead), and few at a time (`concurrency`), so the
 * reads a turn does wait for are not queued behind them.
 *
 * - Read your writes: reading a thread's session first waits for that thread's pending writes.
 * - Order: one chain per thread (session ids are thread keys), so history entries land in the order they were
 *   made and a run settles the turn it confirms.
 * - Sequence numbers: predicted per session (the store's counter when the session was read, plus what this
 *   process appended since). Turns of one thread run one at a time in a process, so only another replica writing
 *   the same thread at the same moment can take the predicted number; the entry then lands on the next free one
 *   and a warning names both. With no prediction (a session this process has not read) the append is awaited.
 * - Nothing lost: when the inner store journals (stageHistory/stageAudit: the OutboxedSessionStore of core/outbox
 *   in production), each record is on disk before the call returns, so before the reply, and only its write to the
 *   store follows behind; a process killed in between leaves it for replay (by its restart, or a replica sharing
 *   the data directory). A record the store refuses (not an outage) is logged with its content. Without a journal
 *   (tests), a crash between a reply and its write loses that write.
 * - `idle()` resolves when everything accepted so far is written (tests, shutdown).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Logger } from '../logger.ts';
import { threadKey, type ThreadRef, type UserRef } from './chat-platform.ts';
import type { HistoryEntryInput, SessionInfo, SessionOpeningInput, SessionStore } from './engine-ports.ts';

type AuditEvent = Parameters<SessionStore['audit']>[0];

/** Set (to true) while a write behind the replies runs: lets a bench tell those store round trips from a turn's own. */
export const writingBehind = new AsyncLocalStorage<boolean>();

export interface WriteBehindOptions {
  logger: Logger;
  /**
   * Writes behind the replies in flight at once, across threads (default 2). A burst of them queues in the store
   * ahead of the reads a turn waits for (FerretDB answers one command per ~3 ms of its CPU on this machine); kept
   * few, a turn's read finds a short queue, and the writes still keep pace: with 20 threads in flight
   * (bench/pipeline-overhead) 2 halved the p50 overhead of unbounded writes.
   */
  concurrency?: number;
  /**
   * Writes allowed to wait before a turn waits for its own (backpressure; default 1,000). With 20 threads in flight
   * on this machine FerretDB falls behind by ~0.2 s of writes per second of load; without a bound a long burst
   * would grow the queue, and a follow-up's wait for its thread's writes, without end.
   */
  maxPending?: number;
  /** Sessions whose next sequence number is remembered (least recently used dropped first). Default 10,000. */
  maxSessions?: number;
}

export class WriteBehindSessionStore implements SessionStore {
  readonly #inner: SessionStore;
  readonly #options: WriteBehindOptions;
  /** Pending writes per thread key; an entry is removed when its chain has drained. */
  readonly #chains = new Map<string, Promise<void>>();
  /** Next sequence number per session id, in least-recently-used order. */
  readonly #next = new Map<string, number>();
  /** Sessions opened behind the replies whose insert has not landed yet: their first journaled entry carries it. */
  readonly #opening = new Map<string, SessionOpeningInput>();

  readonly #limit: LimitFunction;
  /** Writes accepted and not yet written (or given up on). */
  #pending = 0;

  constructor(inner: SessionStore, options: WriteBehindOptions) {
    this.#inner = inner;
    this.#options = options;
    this.#limit = pLimit(options.concurrency ?? 2);
  }

  async findSession(thread: ThreadRef): Promise<SessionInfo | undefined> {
    await this.#settled(threadKey(thread));
    return this.#remember(await this.#inner.findSession(thread));
  }

  /**
   * Opens the thread's session behind the reply: the engine opens one only after finding none in this turn, so the
   * new session is known without the store, and its insert joins the thread's writes (before its first entry). Until
   * it lands, the session's first journaled entry carries the opening, so a replay can still create it.
   */
  async openSession(
    thread: ThreadRef,
    user: UserRef,
    connectionName: string,
    question: string,
  ): Promise<SessionInfo> {
    const key = threadKey(thread);
    await this.#settled(key);
    const opening = { thread, user, connectionName, question };
    this.#opening.set(key, opening);
    await this.#enqueue(key, 'session', opening, async () => {
      const opened = await this.#inner.openSession(thread, user, connectionName, question);
      if (this.#opening.get(key) === opening) this.#opening.delete(key);
      this.#remember(opened);
    });
    return this.#remember({ id: key, threadKey: key, connectionName, recentTurns: [], nextSequence: 1 })!;
  }

  /** Returns the entry's sequence number at once when it can be predicted, and writes it behind. */
  async appendHistory(sessionId: string, entry: HistoryEntryInput): Promise<number> {
    const predicted = this.#next.get(sessionId);
    if (predicted === undefined) {
      await this.#settled(sessionId);
      const sequence = await this.#inner.appendHistory(sessionId, entry);
      this.#setNext(sessionId, sequence + 1);
      return sequence;
    }
    this.#setNext(sessionId, predicted + 1);
    const open = this.#opening.get(sessionId);
    this.#opening.delete(sessionId);
    const write = this.#inner.stageHistory
      ? await this.#inner.stageHistory(sessionId, entry, { sequence: predicted, ...(open ? { open } : {}) })
      : () => this.#inner.appendHistory(sessionId, entry, { sequence: predicted });
    await this.#enqueue(sessionId, 'history entry', { sessionId, entry }, async () => {
      const sequence = await write();
      // 0: the store was unreachable and the durable outbox kept the entry; it gets its number at replay.
      if (sequence !== predicted && sequence !== 0) {
        this.#options.logger.warn(
          { sessionId, predicted, sequence },
          'a history entry landed on another sequence number than the turn was given (another replica wrote the thread)',
        );
        this.#setNext(sessionId, Math.max(this.#next.get(sessionId) ?? 0, sequence + 1));
      }
    });
    return predicted;
  }

  /**
   * A history entry that must be durable before the turn answers (a question kept while the store is down): not
   * written behind, but handed to the inner store now, after the thread's pending writes.
   */
  async recordHistory(
    sessionId: string,
    entry: HistoryEntryInput,
    open?: Parameters<NonNullable<SessionStore['recordHistory']>>[2],
  ): Promise<{ queued: boolean; sequence?: number }> {
    await this.#settled(sessionId);
    if (this.#inner.recordHistory) return this.#inner.recordHistory(sessionId, entry, open);
    return { queued: false, sequence: await this.#inner.appendHistory(sessionId, entry) };
  }

  async audit(event: AuditEvent): Promise<void> {
    const write = this.#inner.stageAudit
      ? await this.#inner.stageAudit(event)
      : () => this.#inner.audit(event);
    await this.#enqueue(event.threadKey, 'audit event', event, write);
  }

  async setConnection(sessionId: string, connectionName: string): Promise<void> {
    await this.#settled(sessionId);
    await this.#inner.setConnection(sessionId, connectionName);
  }

  async recordFeedback(input: Parameters<SessionStore['recordFeedback']>[0]): Promise<void> {
    // Feedback names a history entry: it waits for the thread's entries to be written first.
    await this.#settled(input.sessionId);
    await this.#inner.recordFeedback(input);
  }

  /** Resolves when every write accepted so far has been written (or given up on and logged). */
  async idle(): Promise<void> {
    while (this.#chains.size > 0) await Promise.all(this.#chains.values());
    await this.#inner.idle?.();
  }

  #remember(session: SessionInfo | undefined): SessionInfo | undefined {
    if (session?.nextSequence !== undefined) {
      // Never step back: writes of this process may be newer than what the store said when it was read.
      const known = this.#next.get(session.id) ?? 0;
      this.#setNext(session.id, Math.max(known, session.nextSequence));
    }
    return session;
  }

  #setNext(sessionId: string, sequence: number): void {
    this.#next.delete(sessionId);
    this.#next.set(sessionId, sequence);
    const max = this.#options.maxSessions ?? 10_000;
    while (this.#next.size > max) this.#next.delete(this.#next.keys().next().value!);
  }

  async #settled(key: string): Promise<void> {
    await this.#chains.get(key);
  }

  /**
   * Queues a write behind the thread's earlier ones. Resolves at once, unless more than `maxPending` writes wait
   * (the store is not keeping up): then when this one is written, so the turn slows down instead of the queue
   * growing without end.
   */
  #enqueue(key: string, what: string, record: unknown, write: () => Promise<unknown>): Promise<void> {
    const previous = this.#chains.get(key) ?? Promise.resolve();
    this.#pending += 1;
    const next = previous.then(async () => {
      try {
        await this.#limit(() => writingBehind.run(true, write));
      } catch (error) {
        this.#options.logger.error({ err: error, record }, `a ${what} could not be written to the store`);
      } finally {
        this.#pending -= 1;
      }
    });
    this.#chains.set(key, next);
    void next.then(() => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
    return this.#pending > (this.#options.maxPending ?? 1000) ? next : Promise.resolve();
  }
}
