import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { hasCode, NotFoundError, ThreadqlError } from '../core/errors.ts';
import type { QuerySessionFields, QuerySessionModel } from './query-session.ts';
import { transitionSession } from './query-session.ts';
import { refuseUpdates } from './refuse-updates.ts';
import { isDuplicateKeyError } from './state-machine.ts';
import type { StateTransitionModel } from './state-transition.ts';
import {
  HISTORY_TAIL_SIZE,
  isContiguous,
  pushToTail,
  writeTail,
  type HistoryTailFields,
  type HistoryTailModel,
} from './history-tail.ts';
import { modelOn } from './model-on.ts';

export const HISTORY_TYPES = [
  'query',
  'schema_design',
  'optimization',
  'clarification',
  'approval',
  'migration',
] as const;
export type HistoryType = (typeof HISTORY_TYPES)[number];
export const EXECUTION_STATUSES = ['success', 'error', 'skipped', 'pending'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** Entries kept per session; the append that exceeds it deletes the oldest (DESIGN §3). */
export const HISTORY_CAP = 10_000;

/**
 * One immutable entry of a session's history. `_id` is `<session>:<sequence>`: the insert of that key is what
 * allocates the sequence number (two appenders cannot both insert it, on MongoDB or FerretDB), and the cap's
 * delete of the oldest entry is a single-key delete.
 */
export interface QueryHistoryFields {
  _id: string;
  session: string;
  sequence: number;
  type: HistoryType;
  userInput: string;
  generatedSql: string | null;
  executionStatus: ExecutionStatus;
  resultCount: number | null;
  executionMs: number | null;
  tokenCount: number;
  /** Who asked (user key). */
  user: string | null;
  connection: Types.ObjectId | null;
  /** A user-safe error message when executionStatus is `error`. */
  error: string | null;
  /** The writer's idempotency key (outbox record id), so a replayed append can tell it already landed. */
  writeId: string | null;
  createdAt: Date;
}

/** What a caller supplies for a new entry; session, sequence and time are assigned by appendHistory. */
export type HistoryEntryInput = Pick<QueryHistoryFields, 'type' | 'userInput'> &
  Partial<Omit<QueryHistoryFields, '_id' | 'session' | 'sequence' | 'type' | 'userInput'>>;

export type QueryHistoryModel = Model<QueryHistoryFields>;

const count = { type: Number, default: null, min: 0 };

export const queryHistorySchema = new Schema<QueryHistoryFields>(
  {
    _id: { type: String, required: true },
    session: { type: String, ref: 'QuerySession', required: true },
    sequence: { type: Number, required: true, min: 1, validate: Number.isInteger },
    type: { type: String, enum: HISTORY_TYPES, required: true },
    userInput: { type: String, required: true, maxlength: 20_000 },
    generatedSql: { type: String, default: null, maxlength: 200_000 },
    executionStatus: { type: String, enum: EXECUTION_STATUSES, required: true, default: 'skipped' },
    resultCount: count,
    executionMs: count,
    tokenCount: { type: Number, default: 0, min: 0 },
    user: { type: String, default: null },
    connection: { type: Schema.Types.ObjectId, ref: 'DatabaseConnection', default: null },
    error: { type: String, default: null, maxlength: 2000 },
    writeId: { type: String, default: null },
  },
  { collection: 'queryhistories', timestamps: { createdAt: true, updatedAt: false }, versionKey: false },
);
// Descending so "the newest N of a session" is one index range on MongoDB; unique so a sequence is taken once.
queryHistorySchema.index({ session: 1, sequence: -1 }, { unique: true });
queryHistorySchema.pre('validate', function () {
  if (this._id !== historyKey(this.session, this.sequence)) {
    this.invalidate('_id', 'QueryHistory _id must be "<session>:<sequence>"');
  }
});
refuseUpdates(queryHistorySchema, 'QueryHistory');

/** The QueryHistory model on a given connection. */
export function queryHistoryModel(connection: Connection): QueryHistoryModel {
  return modelOn<QueryHistoryFields>(connection, 'QueryHistory', queryHistorySchema);
}

/** The `_id` of a session's entry. */
export function historyKey(session: string, sequence: number): string {
  return `${session}:${sequence}`;
}

export interface AppendOptions {
  /** Entries kept per session (default 10,000). */
  cap?: number;
  now?: Date;
  /**
   * The sequence number to try first (a caller that already told the user this number); when it is taken the
   * append moves on to the next free one, as it does from the session's counter. With it, the session is not read
   * first: its counters are bumped in the same round trip that says whether it exists.
   */
  sequence?: number;
  /** A value pushed onto the session's `context.turns` in the same write (the LLM's window of recent turns). */
  contextTurn?: Record<string, unknown>;
}

type HistoryModels = {
  QuerySession: QuerySessionModel;
  QueryHistory: QueryHistoryModel;
  HistoryTail: HistoryTailModel;
  StateTransition: StateTransitionModel;
};

const MAX_APPEND_ATTEMPTS = 500;

/**
 * Appends one entry to a session's history with the next sequence number: one insert, retried on the next
 * number when a concurrent appender took it, so concurrent appends all land with distinct, gap-free numbers.
 * Then bumps the session's counters and activity (re-activating an archived session) and, past the cap,
 * deletes the entry that fell out of the window. With `options.sequence` it costs three round trips (the session's
 * update, the insert, the tail's push), none of them a read.
 */
export async function appendHistory(
  models: HistoryModels,
  sessionId: string,
  entry: HistoryEntryInput,
  options: AppendOptions = {},
): Promise<QueryHistoryFields> {
  const cap = options.cap ?? HISTORY_CAP;
  if (!Number.isInteger(cap) || cap < 1)
    throw new ThreadqlError('validation_failed', 'history cap must be ≥ 1');
  const now = options.now ?? new Date();
  const bump = (sequence: number) => ({
    $max: { historySeq: sequence },
    $set: { lastActivityAt: now },
    $inc: { tokenUsage: entry.tokenCount ?? 0, queryCount: entry.type === 'query' ? 1 : 0 },
    ...(options.contextTurn ? { $push: { 'context.turns': options.contextTurn } } : {}),
  });
  // The session as it was before this append: with a sequence to try, the counters move in the same round trip
  // (findOneAndUpdate answers whether the session exists and whether it was archived); without one, it is read
  // for its counter and updated once the entry has its number.
  const first = options.sequence;
  const session = first
    ? await models.QuerySession.findOneAndUpdate({ _id: sessionId }, bump(first), {
        returnDocument: 'before',
      }).lean<Pick<QuerySessionFields, 'historySeq' | 'status'>>()
    : await models.QuerySession.findById(sessionId, { historySeq: 1, status: 1 }).lean<
        Pick<QuerySessionFields, 'historySeq' | 'status'>
      >();
  if (!session) throw new NotFoundError(`QuerySession ${sessionId} does not exist`);

  let sequence = first ?? (session.historySeq ?? 0) + 1;
  let saved: QueryHistoryFields | undefined;
  for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS && !saved; attempt++) {
    try {
      const doc = await models.QueryHistory.create({
        ...entry,
        _id: historyKey(sessionId, sequence),
        session: sessionId,
        sequence,
        createdAt: now,
      });
      saved = doc.toObject() as QueryHistoryFields;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      // Taken: others are appending too. Every few misses, catch up with the hint they leave behind.
      sequence += 1;
      if (attempt % 4 === 3) {
        const hint = await models.QuerySession.findById(sessionId, { historySeq: 1 }).lean<{
          historySeq: number;
        }>();
        sequence = Math.max(sequence, (hint?.historySeq ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
      }
    }
  }
  if (!saved) throw new ThreadqlError('conflict', 'Could not append to the session history; try again');

  await Promise.all([
    !first
      ? models.QuerySession.updateOne({ _id: sessionId }, bump(sequence))
      : sequence !== first
        ? models.QuerySession.updateOne({ _id: sessionId }, { $max: { historySeq: sequence } })
        : undefined,
    sequence > cap
      ? models.QueryHistory.deleteOne({ _id: historyKey(sessionId, sequence - cap) })
      : undefined,
    pushToTail(models.HistoryTail, saved, cap),
  ]);
  if (session.status === 'archived') {
    try {
      await transitionSession(models, sessionId, 'active', { now, actor: entry.user ?? 'system' });
    } catch (error) {
      if (!hasCode(error, 'illegal_transition', 'conflict')) throw error;
    }
  }
  return saved;
}

/** How far below the session's sequence hint a replayed write is looked for. */
const LANDED_WINDOW = 20;

/**
 * The entry a write with this `writeId` already appended to the session, if any: for replaying an append whose
 * outcome is unknown (it timed out, or the process died before marking it delivered). Looks only by `_id`: the
 * entries past the session's sequence hint (an append that landed before its hint moved) and the few below it.
 */
export async function findHistoryWrite(
  models: Pick<HistoryModels, 'QuerySession' | 'QueryHistory'>,
  sessionId: string,
  writeId: string,
): Promise<QueryHistoryFields | undefined> {
  const session = await models.QuerySession.findById(sessionId, { historySeq: 1 }).lean<{
    historySeq: number;
  }>();
  if (!session) return undefined;
  const hint = session.historySeq ?? 0;
  const byId = (sequence: number) =>
    models.QueryHistory.findById(historyKey(sessionId, sequence)).lean<QueryHistoryFields>();
  for (let sequence = hint + 1; ; sequence++) {
    const entry = await byId(sequence);
    if (!entry) break;
    if (entry.writeId === writeId) return entry;
  }
  const below = Array.from({ length: Math.min(hint, LANDED_WINDOW) }, (_, i) => hint - i);
  const entries = await Promise.all(below.map(byId));
  return entries.find((e) => e?.writeId === writeId) ?? undefined;
}

/**
 * The newest `limit` entries of a session, oldest first. Up to HISTORY_TAIL_SIZE entries come from the session's
 * HistoryTail when it proves current (contiguous, nothing newer, nothing older missing: two `_id` probes);
 * otherwise one range read of QueryHistory (indexed on MongoDB, a scan on FerretDB) answers and refills the tail.
 */
export async function lastHistory(
  models: Pick<HistoryModels, 'QueryHistory' | 'HistoryTail'>,
  sessionId: string,
  limit = 100,
): Promise<QueryHistoryFields[]> {
  if (limit <= HISTORY_TAIL_SIZE) {
    const fromTail = await currentTail(models, sessionId, limit);
    if (fromTail) return fromTail;
  }
  const newestFirst = await models.QueryHistory.find({ session: sessionId })
    .sort({ sequence: -1 })
    .limit(Math.max(limit, HISTORY_TAIL_SIZE))
    .lean<QueryHistoryFields[]>();
  const entries = newestFirst.reverse();
  if (entries.length && isContiguous(entries)) await writeTail(models.HistoryTail, sessionId, entries);
  return entries.slice(-limit);
}

/** The tail's newest `limit` entries when the tail provably matches QueryHistory, else undefined. */
async function currentTail(
  models: Pick<HistoryModels, 'QueryHistory' | 'HistoryTail'>,
  sessionId: string,
  limit: number,
): Promise<QueryHistoryFields[] | undefined> {
  const tail = await models.HistoryTail.findById(sessionId).lean<HistoryTailFields>();
  const entries = tail?.entries ?? [];
  if (!entries.length || !isContiguous(entries)) return undefined;
  const first = entries[0]!.sequence;
  const last = entries.at(-1)!.sequence;
  const [newer, olderNeeded] = await Promise.all([
    models.QueryHistory.exists({ _id: historyKey(sessionId, last + 1) }),
    entries.length < limit && first > 1
      ? models.QueryHistory.exists({ _id: historyKey(sessionId, first - 1) })
      : null,
  ]);
  if (newer || olderNeeded) return undefined;
  return entries.slice(-limit);
}

/**
 * Deletes whatever lies below a session's window (entries left by a crash between insert and cap delete, or
 * after lowering the cap); the append path normally keeps the window exact. Returns how many it deleted.
 */
export async function pruneHistory(
  models: Pick<HistoryModels, 'QuerySession' | 'QueryHistory' | 'HistoryTail'>,
  sessionId: string,
  cap = HISTORY_CAP,
): Promise<number> {
  const newest = await models.QueryHistory.find({ session: sessionId }, { sequence: 1 })
    .sort({ sequence: -1 })
    .limit(1)
    .lean<{ sequence: number }[]>();
  const top = newest[0]?.sequence ?? 0;
  if (top <= cap) return 0;
  const result = await models.QueryHistory.deleteMany({ session: sessionId, sequence: { $lte: top - cap } });
  // The tail may hold entries below the new window; drop it and let the next read rebuild it.
  await models.HistoryTail.deleteOne({ _id: sessionId });
  return result.deletedCount;
}
