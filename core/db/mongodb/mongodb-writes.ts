/**
 * MongoDB writes (mongo-write.ts shape) for the approval path. The test store, FerretDB 1.x, has no transactions,
 * so nothing can be tried and rolled back: the dry run counts instead (documents the filter matches, at most one
 * for *One operations, and the documents to insert), and execution re-measures before it writes.
 *
 * The drift guard on updateMany/deleteMany pins the documents: it reads the `_id`s the filter matches now (at most
 * the allowed number plus one), aborts when there are more than allowed, and otherwise writes with
 * `{$and: [filter, {_id: {$in: ids}}]}`. So a document inserted between the check and the write is never touched,
 * and the write cannot reach more documents than approved, with no transaction. What this cannot guarantee:
 * - atomicity: an operation that fails part-way (a duplicate key in insertMany, a server error) leaves what it
 *   and the operations before it already wrote; the result says the batch was not atomic;
 * - isolation: another client may change a pinned document between the check and the write (the filter is
 *   re-applied, so it is only changed if it still matches);
 * - above PIN_LIMIT allowed documents the `_id` list would be too large to send, so the guard falls back to count,
 *   compare, then write, and a document inserted in between can be changed too (the result says so).
 * A bulkWrite is measured and pinned operation by operation against the data as it is before the batch runs.
 */
import type { Db, Document, Filter } from 'mongodb';
import { mongoWriteText, type MongoSingleWrite, type MongoWrite } from '../../safety/mongo-write.ts';
import type { DryRunResult, StatementImpact, WriteOptions, WriteResult } from '../database-dialect.ts';
import { allowedRows, driftError } from '../write-batch.ts';

/** Above this many allowed documents the guard counts instead of pinning `_id`s (see the file comment). */
export const PIN_LIMIT = 10_000;

type Options = Pick<WriteOptions, 'timeoutMs' | 'signal'>;

/** Counts what each operation would change, now; nothing is written. */
export async function dryRunMongoWrite(
  db: Db,
  text: string,
  write: MongoWrite,
  options: Options,
): Promise<DryRunResult> {
  const started = performance.now();
  const statements: StatementImpact[] = [];
  for (const op of write.operations) {
    statements.push({
      sql: write.operations.length === 1 ? text.trim() : mongoWriteText(op),
      verdict: 'write',
      type: op.operation,
      affectedRows: await countAffected(db, op, options),
    });
  }
  return {
    performed: true,
    statements,
    affectedRows: statements.reduce((sum, s) => sum + (s.affectedRows ?? 0), 0),
    note:
      write.operations.length > 1
        ? 'Counted, not tried: the server has no transactions here. Each operation is counted against the data as it is now, before the ones above it run.'
        : 'Counted, not tried: the server has no transactions here.',
    durationMs: performance.now() - started,
  };
}

/**
 * Runs an approved write with the drift guard: every operation is checked (and pinned) first, and nothing is
 * written when one would change more documents than allowed; then the operations run in order.
 */
export async function executeMongoWrite(
  db: Db,
  text: string,
  write: MongoWrite,
  options: WriteOptions,
): Promise<WriteResult> {
  const started = performance.now();
  const tolerance = options.driftTolerance ?? 0;
  const unpinned: number[] = [];
  const filters: (Filter<Document> | undefined)[] = [];
  for (const [i, op] of write.operations.entries()) {
    const expected = options.expected?.[i];
    if (expected === undefined || op.operation.startsWith('insert')) {
      filters.push(undefined);
      continue;
    }
    const allowed = allowedRows(expected, tolerance);
    const guard = await pin(db, op, allowed, options);
    if (guard.count > allowed) {
      throw driftError(
        write.operations.map((o) => ({ type: o.operation })),
        i,
        {
          expected,
          actual: guard.count,
          allowed,
          tolerance,
          undone: 'not run',
        },
      );
    }
    if (!guard.ids && op.operation.endsWith('Many')) unpinned.push(i + 1);
    filters.push(
      guard.ids ? ({ $and: [filterOf(op), { _id: { $in: guard.ids } }] } as Filter<Document>) : undefined,
    );
  }
  const statements: WriteResult['statements'] = [];
  for (const [i, op] of write.operations.entries()) {
    const affectedRows = await apply(db, op, filters[i], options);
    statements.push({
      sql: write.operations.length === 1 ? text.trim() : mongoWriteText(op),
      type: op.operation,
      affectedRows,
    });
  }
  const notes = [
    'MongoDB ran this without a transaction (the server has none here): had an operation failed part-way, what was written before it would have stayed.',
    unpinned.length
      ? `Operation ${unpinned.join(', ')} matched more than ${PIN_LIMIT} documents, so the guard counted them before writing instead of pinning them; documents added in between could also have changed.`
      : undefined,
  ].filter((n): n is string => n !== undefined);
  return {
    statements,
    affectedRows: statements.reduce((sum, s) => sum + s.affectedRows, 0),
    atomic: false,
    note: notes.join(' '),
    durationMs: performance.now() - started,
  };
}

function filterOf(op: MongoSingleWrite): Filter<Document> {
  return 'filter' in op ? (op.filter as Filter<Document>) : {};
}

function common(options: Options) {
  return { maxTimeMS: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) };
}

/** Documents the operation would change now: inserted documents, or matches (at most one for *One). */
async function countAffected(db: Db, op: MongoSingleWrite, options: Options): Promise<number> {
  if (op.operation === 'insertOne') return 1;
  if (op.operation === 'insertMany') return op.documents.length;
  const one = op.operation === 'updateOne' || op.operation === 'deleteOne';
  return db
    .collection(op.collection)
    .countDocuments(filterOf(op), { ...common(options), ...(one ? { limit: 1 } : {}) });
}

/** The matching documents' `_id`s (up to allowed + 1) when few enough to pin, else just their count. */
async function pin(
  db: Db,
  op: MongoSingleWrite,
  allowed: number,
  options: Options,
): Promise<{ count: number; ids?: unknown[] }> {
  const one = op.operation === 'updateOne' || op.operation === 'deleteOne';
  if (one || allowed > PIN_LIMIT) return { count: await countAffected(db, op, options) };
  const docs = await db
    .collection(op.collection)
    .find(filterOf(op), { ...common(options), projection: { _id: 1 }, limit: allowed + 1 })
    .toArray();
  // Over the limit: the real number, for the message (the fetch stopped at allowed + 1).
  if (docs.length > allowed) return { count: await countAffected(db, op, options) };
  return { count: docs.length, ids: docs.map((d) => d._id as unknown) };
}

/** Runs one operation (with the pinned filter, when there is one); returns documents inserted, matched or deleted. */
async function apply(
  db: Db,
  op: MongoSingleWrite,
  pinned: Filter<Document> | undefined,
  options: Options,
): Promise<number> {
  const collection = db.collection(op.collection);
  const filter = pinned ?? filterOf(op);
  const opts = common(options);
  switch (op.operation) {
    case 'insertOne':
      await collection.insertOne(op.document as Document, opts);
      return 1;
    case 'insertMany':
      return (await collection.insertMany(op.documents as Document[], { ...opts, ordered: true }))
        .insertedCount;
    case 'updateOne':
      return (await collection.updateOne(filter, op.update as Document, opts)).matchedCount;
    case 'updateMany':
      return (await collection.updateMany(filter, op.update as Document, opts)).matchedCount;
    case 'deleteOne':
      return (await collection.deleteOne(filter, opts)).deletedCount;
    case 'deleteMany':
      return (await collection.deleteMany(filter, opts)).deletedCount;
  }
}
