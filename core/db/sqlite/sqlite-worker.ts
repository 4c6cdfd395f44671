/**
 * Child-process entry for SQLite work (forked by SqliteWorkerPool with structured-clone IPC).
 *
 * Why a process: better-sqlite3 is synchronous and exposes neither sqlite3_interrupt nor a progress handler, so a
 * runaway query cannot be stopped from JavaScript, and worker_threads' terminate() waits for the native step to
 * return. A separate process can be killed (SIGKILL) at the time limit, and the bot's event loop never blocks on
 * a query. Reads use a handle opened `readonly: true` with `PRAGMA query_only = 1` re-asserted before each read.
 */
import Database from 'better-sqlite3';
import type { ResultColumn } from '../database-dialect.ts';
import { plainValue } from '../result-values.ts';
import { kindFromDeclaredType, kindFromValue } from './sqlite-types.ts';

export type WorkerRequest =
  | { id: number; op: 'validate' }
  | { id: number; op: 'read'; sql: string; maxRows: number; params?: SqliteParam[] }
  | { id: number; op: 'stream-open'; sql: string; count: number; params?: SqliteParam[] }
  | { id: number; op: 'stream-next'; count: number }
  | { id: number; op: 'stream-close' }
  | { id: number; op: 'catalog'; queries: string[] }
  | { id: number; op: 'tx-begin' }
  | { id: number; op: 'tx-run'; sql: string; write: boolean }
  | { id: number; op: 'tx-commit' }
  | { id: number; op: 'tx-end' }
  | { id: number; op: 'run-alone'; sql: string; write: boolean }
  | { id: number; op: 'explain'; sql: string; params?: SqliteParam[] }
  | { id: number; op: 'session-begin'; lockTimeoutMs: number }
  | { id: number; op: 'session-exec'; sql: string }
  | { id: number; op: 'session-query'; sql: string; params: unknown[] }
  | { id: number; op: 'session-catalog'; queries: string[] }
  | { id: number; op: 'session-end'; commit: boolean };

/** A value bound to a `?` (better-sqlite3 binds numbers, strings, bigints, buffers and null). */
export type SqliteParam = string | number | bigint | null;

export type WorkerReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { message: string; code?: string } };

export interface RowsValue {
  columns: ResultColumn[];
  rows: unknown[][];
  /** The iterator ended within this batch. */
  done: boolean;
}

const BUSY_TIMEOUT_MS = 5000;
const file = process.argv[2] ?? '';
let readHandle: Database.Database | undefined;
let writeHandle: Database.Database | undefined;
let stream: { iterator: IterableIterator<unknown[]>; columns: ResultColumn[] } | undefined;

function reader(): Database.Database {
  readHandle ??= new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  readHandle.pragma('query_only = 1');
  return readHandle;
}

function writer(): Database.Database {
  writeHandle ??= new Database(file, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  return writeHandle;
}

/** Pulls up to `count` rows, normalising values; declared types first, values for expression columns. */
function pull(iterator: IterableIterator<unknown[]>, count: number, columns: ResultColumn[]): RowsValue {
  const rows: unknown[][] = [];
  let done = false;
  while (rows.length < count) {
    const next = iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    const raw = next.value;
    columns.forEach((column, i) => {
      if (column.kind === 'unknown' && column.type === '') {
        const inferred = kindFromValue(raw[i]);
        if (inferred) Object.assign(column, inferred);
      }
    });
    rows.push(raw.map(plainValue));
  }
  return { columns, rows, done };
}

/** Opens a read on the read-only handle; a statement that returns no rows is still run, so SQLite itself refuses writes. */
function openRead(
  sql: string,
  params: SqliteParam[] = [],
): { iterator: IterableIterator<unknown[]>; columns: ResultColumn[] } | undefined {
  const statement = reader().prepare(sql);
  if (!statement.reader) {
    statement.run(...params);
    return undefined;
  }
  statement.raw(true).safeIntegers(true);
  const columns: ResultColumn[] = statement.columns().map((c) => {
    const type = c.type ?? '';
    return { name: c.name, type, kind: kindFromDeclaredType(type) ?? 'unknown' };
  });
  return { iterator: statement.iterate(...params) as IterableIterator<unknown[]>, columns };
}

function closeStream(): void {
  stream?.iterator.return?.();
  stream = undefined;
}

/**
 * Runs one statement on the writable handle and returns the rows it changed. Only DML reports a count:
 * better-sqlite3's `changes` keeps the last DML's count across DDL, so anything else counts 0. Reads are iterated
 * to the end and dropped (never buffered).
 */
function runStatement(sql: string, write: boolean): number {
  const db = writer();
  const statement = db.prepare(sql);
  if (statement.reader) {
    for (const row of statement.raw(true).iterate()) void row;
    return write ? Number((db.prepare('SELECT changes() AS c').get() as { c: number }).c) : 0;
  }
  const changes = statement.run().changes;
  return write ? changes : 0;
}

/** The writable handle inside the schema session's transaction; refuses when a statement ended it. */
function sessionHandle(): Database.Database {
  const db = writer();
  if (!db.inTransaction) throw new Error("the schema session's transaction is no longer open");
  return db;
}

function handle(request: WorkerRequest): unknown {
  switch (request.op) {
    case 'validate':
      return reader().prepare('SELECT count(*) FROM sqlite_master').pluck().get();
    case 'read': {
      const opened = openRead(request.sql, request.params);
      if (!opened) return { columns: [], rows: [], done: true } satisfies RowsValue;
      const value = pull(opened.iterator, request.maxRows + 1, opened.columns);
      if (!value.done) opened.iterator.return?.();
      return value;
    }
    case 'stream-open': {
      closeStream();
      const opened = openRead(request.sql, request.params);
      if (!opened) return { columns: [], rows: [], done: true } satisfies RowsValue;
      const value = pull(opened.iterator, request.count, opened.columns);
      if (value.done) opened.iterator.return?.();
      else stream = opened;
      return value;
    }
    case 'stream-next': {
      if (!stream) return { columns: [], rows: [], done: true } satisfies RowsValue;
      const value = pull(stream.iterator, request.count, stream.columns);
      if (value.done) closeStream();
      return { ...value, columns: [] };
    }
    case 'stream-close':
      closeStream();
      return null;
    case 'catalog': {
      const db = reader();
      return request.queries.map((sql) => db.prepare(sql).all());
    }
    // A write batch: BEGIN, statements one by one, COMMIT; tx-end rolls back whatever is still open (always sent).
    case 'tx-begin':
      writer().exec('BEGIN');
      return null;
    case 'tx-run':
      return runStatement(request.sql, request.write);
    case 'tx-commit':
      writer().exec('COMMIT');
      return null;
    case 'tx-end': {
      const db = writer();
      if (db.inTransaction) db.exec('ROLLBACK');
      return null;
    }
    case 'run-alone':
      return runStatement(request.sql, request.write);
    case 'session-begin': {
      const db = writer();
      if (db.inTransaction) db.exec('ROLLBACK');
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(request.lockTimeoutMs))}`);
      // IMMEDIATE takes the write lock now, so waiting for it is bounded by the busy timeout up front.
      db.exec('BEGIN IMMEDIATE');
      return null;
    }
    case 'session-exec': {
      const statement = sessionHandle().prepare(request.sql);
      if (statement.reader) {
        statement.all();
        return 0;
      }
      const changes = statement.run().changes;
      sessionHandle();
      return changes;
    }
    case 'session-query': {
      const statement = sessionHandle().prepare(request.sql);
      if (statement.reader) return statement.all(...request.params);
      statement.run(...request.params);
      return [];
    }
    case 'session-catalog': {
      const db = sessionHandle();
      return request.queries.map((sql) => db.prepare(sql).all());
    }
    case 'session-end': {
      const db = writer();
      try {
        if (db.inTransaction) db.exec(request.commit ? 'COMMIT' : 'ROLLBACK');
      } finally {
        if (db.inTransaction) db.exec('ROLLBACK');
        db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      }
      return null;
    }
    case 'explain':
      return reader()
        .prepare(`EXPLAIN QUERY PLAN ${request.sql}`)
        .all(...(request.params ?? []))
        .map((r) => String((r as { detail: unknown }).detail));
  }
}

process.on('message', (request: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = { id: request.id, ok: true, value: handle(request) };
  } catch (error) {
    const e = error as { message?: unknown; code?: unknown };
    reply = {
      id: request.id,
      ok: false,
      error: { message: String(e.message ?? error), ...(typeof e.code === 'string' ? { code: e.code } : {}) },
    };
  }
  process.send?.(reply);
});

// The parent owns this process: when it goes away, so do we.
process.on('disconnect', () => process.exit(0));
