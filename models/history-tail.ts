import { Schema, type Connection, type Model } from 'mongoose';
import { modelOn } from './model-on.ts';
import type { QueryHistoryFields } from './query-history.ts';

/** Entries the tail keeps: enough for "the last 100" (DESIGN §7) in one read. */
export const HISTORY_TAIL_SIZE = 100;

/**
 * A derived copy of a session's newest history entries, in one document keyed by the session id. On FerretDB
 * only `_id` lookups avoid decoding a whole collection, so "the last 100 of 10,000" reads this one document
 * instead of scanning QueryHistory. It is a cache: QueryHistory stays the truth, and a reader checks the
 * tail against it (see lastHistory) and rebuilds it when it is incomplete.
 */
export interface HistoryTailFields {
  _id: string;
  /** Oldest first, contiguous sequence numbers. */
  entries: QueryHistoryFields[];
  updatedAt: Date;
}

export type HistoryTailModel = Model<HistoryTailFields>;

export const historyTailSchema = new Schema<HistoryTailFields>(
  {
    _id: { type: String, required: true },
    // Plain copies of immutable entries, stored as one array value (Mixed: no per-entry casting).
    entries: { type: Schema.Types.Mixed, default: () => [] },
  },
  { collection: 'historytails', timestamps: { createdAt: false, updatedAt: true }, versionKey: false },
);

/** The HistoryTail model on a given connection. */
export function historyTailModel(connection: Connection): HistoryTailModel {
  return modelOn<HistoryTailFields>(connection, 'HistoryTail', historyTailSchema);
}

/** True when the entries' sequence numbers run without a gap. */
export function isContiguous(entries: readonly Pick<QueryHistoryFields, 'sequence'>[]): boolean {
  return entries.every((e, i) => i === 0 || e.sequence === entries[i - 1]!.sequence + 1);
}

/** Replaces a session's tail with the newest `HISTORY_TAIL_SIZE` of `entries` (oldest first). */
export async function writeTail(
  model: HistoryTailModel,
  sessionId: string,
  entries: QueryHistoryFields[],
): Promise<void> {
  await model.updateOne(
    { _id: sessionId },
    { $set: { entries: entries.slice(-HISTORY_TAIL_SIZE) } },
    { upsert: true },
  );
}

/** How many appends a tail takes between two trims back to HISTORY_TAIL_SIZE (a push alone cannot trim on FerretDB). */
export const TAIL_TRIM_EVERY = 50;

/**
 * Adds a just-appended entry to its session's tail in one write, without reading it: the push applies only to a
 * tail that holds the entry before it (a tail that does not, after a concurrent append or with no tail yet past
 * the first entry, is left alone: readers notice the gap and rebuild it from QueryHistory). The tail is trimmed to
 * HISTORY_TAIL_SIZE every TAIL_TRIM_EVERY appends, and on every append past the history cap (whose window it keeps).
 */
export async function pushToTail(
  model: HistoryTailModel,
  entry: QueryHistoryFields,
  cap: number,
): Promise<void> {
  if (entry.sequence === 1) {
    await model.updateOne({ _id: entry.session }, { $setOnInsert: { entries: [entry] } }, { upsert: true });
    return;
  }
  // FerretDB 1.x ignores $push's $slice and cannot negate a match inside an array, so the push is bounded by the
  // trim below and a duplicate (a tail rebuilt between the insert and this push) is left for readers to reject.
  await model.updateOne(
    { _id: entry.session, 'entries.sequence': entry.sequence - 1 },
    { $push: { entries: entry } },
  );
  if (entry.sequence > cap || entry.sequence % TAIL_TRIM_EVERY === 0) {
    const tail = await model.findById(entry.session).lean<HistoryTailFields>();
    const entries = (tail?.entries ?? []).filter((e) => e.sequence > entry.sequence - cap);
    if (entries.length && isContiguous(entries)) await writeTail(model, entry.session, entries);
  }
}
