import { DatabaseError, ThreadqlError } from '../../errors.ts';
import type {
  DatabaseDialect,
  DatabaseDriver,
  DriverOptions,
  DryRunResult,
  ExecuteOptions,
  ExplainResult,
  WriteOptions,
  WriteResult,
  QueryResult,
  ReadStream,
  SchemaSession,
  SchemaSessionOptions,
  SchemaSnapshot,
} from '../database-dialect.ts';
import { databaseError, messageOf, secretsOf } from '../database-errors.ts';
import {
  executeBatch,
  measureBatch,
  planWriteBatch,
  unrunnableDryRun,
  type DryRunRules,
  type WriteTransaction,
} from '../write-batch.ts';
import { positionalParams } from '../query-params.ts';
import { SQLITE_CATALOG_QUERIES, sqliteSnapshot } from './sqlite-introspector.ts';
import { sqliteFileFromUrl } from './sqlite-url.ts';
import type { SqliteWorker } from './sqlite-worker-pool.ts';
import { SqliteWorkerPool, WorkerGone, WorkerQueryError } from './sqlite-worker-pool.ts';
import type { RowsValue, SqliteParam } from './sqlite-worker.ts';

const ENGINE = 'SQLite';
const DEFAULT_BATCH = 1000;
const INTROSPECT_TIMEOUT_MS = 60_000;
const VALIDATE_TIMEOUT_MS = 10_000;
// SQLite's message for statements it refuses inside a transaction (VACUUM).
const NOT_IN_TRANSACTION = /within a transaction/i;

const DRY_RUN_RULES: DryRunRules = {
  cannotTry: (statement) =>
    statement.verdict === 'other'
      ? `${statement.type} can act outside a transaction (pragmas, attached files, maintenance), so it cannot be tried and rolled back; it was not run.`
      : undefined,
  untriable: (error) =>
    error instanceof WorkerQueryError && NOT_IN_TRANSACTION.test(error.message)
      ? 'SQLite cannot run it inside a transaction, so it cannot be tried and rolled back; it was not run.'
      : undefined,
};

/**
 * SQLite through better-sqlite3, run in forked worker processes (see sqlite-worker.ts for why): reads on a
 * `readonly` handle with `query_only`, a time limit enforced by killing the worker, cap+1 rows pulled from
 * `.iterate()`. Dry runs use a writable handle inside BEGIN … ROLLBACK (SQLite's DDL is transactional).
 */
export class SqliteDriver implements DatabaseDriver {
  readonly dialect: DatabaseDialect;
  readonly #pool: SqliteWorkerPool;
  readonly #secrets: string[];
  #closed = false;

  constructor(dialect: DatabaseDialect, url: string, options: DriverOptions = {}) {
    this.dialect = dialect;
    this.#secrets = secretsOf(url);
    this.#pool = new SqliteWorkerPool(sqliteFileFromUrl(url), options.poolSize ?? 2);
  }

  /** Opens the file read-only and reads sqlite_master; a missing or non-database file is database_unavailable. */
  async validate(): Promise<void> {
    try {
      await this.#use(VALIDATE_TIMEOUT_MS, undefined, (w) =>
        w.request({ op: 'validate' }, VALIDATE_TIMEOUT_MS),
      );
    } catch (error) {
      if (error instanceof DatabaseError && error.code === 'database_unavailable') throw error;
      throw databaseError(
        'database_unavailable',
        ENGINE,
        messageOf(error).replace(`${ENGINE}: `, ''),
        this.#secrets,
      );
    }
  }

  /** Three catalog queries (sqlite_master joined with pragma table functions). */
  async introspect(): Promise<SchemaSnapshot> {
    const rows = await this.#use(INTROSPECT_TIMEOUT_MS, undefined, (w) =>
      w.request<Record<string, unknown>[][]>(
        { op: 'catalog', queries: SQLITE_CATALOG_QUERIES },
        INTROSPECT_TIMEOUT_MS,
      ),
    );
    return sqliteSnapshot(rows);
  }

  /** Reads at most maxRows rows (pulling maxRows+1 from the iterator to set `truncated`). */
  async executeRead(query: string, options: ExecuteOptions): Promise<QueryResult> {
    const started = performance.now();
    const params = sqliteParams(options.params);
    const value = await this.#use(options.timeoutMs, options.signal, (w) =>
      w.request<RowsValue>(
        { op: 'read', sql: query, maxRows: options.maxRows, ...(params ? { params } : {}) },
        options.timeoutMs,
      ),
    );
    const truncated = value.rows.length > options.maxRows;
    const rows = truncated ? value.rows.slice(0, options.maxRows) : value.rows;
    return {
      columns: value.columns,
      rows,
      rowCount: rows.length,
      truncated,
      durationMs: performance.now() - started,
    };
  }

  /** Streams a read in batches pulled from the worker on demand (each batch has the time limit). */
  async streamRead(query: string, options: ExecuteOptions): Promise<ReadStream> {
    const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH);
    const params = sqliteParams(options.params);
    const worker = await this.#acquire();
    const onAbort = (): void => worker.kill(new WorkerGone('closed', 'the query was cancelled'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let finished: Promise<void> | undefined;
    const finish = (): Promise<void> =>
      (finished ??= (async () => {
        options.signal?.removeEventListener('abort', onAbort);
        if (worker.alive) await worker.request({ op: 'stream-close' }, options.timeoutMs).catch(() => {});
        this.#pool.release(worker);
      })());
    const fail = async (error: unknown): Promise<never> => {
      await finish();
      throw this.#mapError(error, options.signal?.aborted === true);
    };

    let first: RowsValue;
    try {
      first = await worker.request<RowsValue>(
        {
          op: 'stream-open',
          sql: query,
          count: Math.min(batchSize, options.maxRows + 1),
          ...(params ? { params } : {}),
        },
        options.timeoutMs,
      );
    } catch (error) {
      return fail(error);
    }
    let rowCount = 0;
    let truncated = false;
    const maxRows = options.maxRows;
    async function* batches(): AsyncGenerator<unknown[][]> {
      try {
        let batch = first;
        for (;;) {
          const room = maxRows - rowCount;
          const take = batch.rows.length > room ? batch.rows.slice(0, room) : batch.rows;
          if (batch.rows.length > room) truncated = true;
          rowCount += take.length;
          if (take.length > 0) yield take;
          if (truncated || batch.done) return;
          try {
            batch = await worker.request<RowsValue>(
              { op: 'stream-next', count: Math.min(batchSize, maxRows - rowCount + 1) },
              options.timeoutMs,
            );
          } catch (error) {
            await fail(error);
          }
        }
      } finally {
        await finish();
      }
    }
    return {
      columns: first.columns,
      batches: batches(),
      summary: () => ({ rowCount, truncated }),
      close: finish,
    };
  }

  /** Measures each statement inside BEGIN … ROLLBACK on a writable handle: DDL included (SQLite's DDL is transactional). */
  async dryRun(
    statement: string,
    options: Pick<WriteOptions, 'timeoutMs' | 'signal'>,
  ): Promise<DryRunResult> {
    const started = performance.now();
    const verdict = await this.dialect.classify(statement);
    const plan = planWriteBatch(statement, verdict);
    if ('unrunnable' in plan) return unrunnableDryRun(statement, verdict, plan.unrunnable, started);
    return this.#transaction(options, false, (tx) =>
      measureBatch(plan.statements, tx, DRY_RUN_RULES, started),
    );
  }

  /**
   * BEGIN; statements with the drift guard; COMMIT, on a writable handle. A lone statement SQLite refuses inside a
   * transaction (VACUUM) runs on its own instead, and the result says it could not be rolled back.
   */
  async executeWrite(statement: string, options: WriteOptions): Promise<WriteResult> {
    const started = performance.now();
    const plan = planWriteBatch(statement, await this.dialect.classify(statement));
    if ('unrunnable' in plan) throw databaseError('query_failed', ENGINE, plan.unrunnable, this.#secrets);
    try {
      return await this.#transaction(options, true, async (tx) => ({
        ...(await executeBatch(plan.statements, tx, options)),
        atomic: true,
        durationMs: performance.now() - started,
      }));
    } catch (error) {
      const only = plan.statements.length === 1 ? plan.statements[0] : undefined;
      if (!only || !(error instanceof DatabaseError) || !NOT_IN_TRANSACTION.test(error.message)) throw error;
      const changes = await this.#use(options.timeoutMs, options.signal, (w) =>
        w.request<number>(
          { op: 'run-alone', sql: only.sql, write: only.verdict === 'write' },
          options.timeoutMs,
        ),
      );
      return {
        statements: [{ sql: only.sql, type: only.type, affectedRows: changes }],
        affectedRows: changes,
        atomic: false,
        note: `SQLite cannot run ${only.type} inside a transaction, so it ran on its own and cannot be rolled back.`,
        durationMs: performance.now() - started,
      };
    }
  }

  /**
   * One transaction on one worker, every step within what is left of the time limit; `tx-end` rolls back whatever
   * was not committed (a killed worker loses its open transaction with it).
   */
  async #transaction<T>(
    options: Pick<WriteOptions, 'timeoutMs' | 'signal'>,
    commit: boolean,
    work: (tx: WriteTransaction) => Promise<T>,
  ): Promise<T> {
    const deadline = performance.now() + options.timeoutMs;
    const left = (): number => Math.max(1, Math.ceil(deadline - performance.now()));
    return this.#use(options.timeoutMs, options.signal, async (w) => {
      await w.request({ op: 'tx-begin' }, left());
      try {
        const result = await work({
          run: (s) => w.request<number>({ op: 'tx-run', sql: s.sql, write: s.verdict === 'write' }, left()),
        });
        if (commit) await w.request({ op: 'tx-commit' }, left());
        return result;
      } finally {
        if (w.alive) await w.request({ op: 'tx-end' }, left()).catch(() => {});
      }
    });
  }

  /**
   * One worker held for a schema change: BEGIN IMMEDIATE on the writable handle (busy timeout = lock timeout),
   * statements one at a time, COMMIT only when asked. A statement over its time limit kills the worker, which
   * leaves the transaction uncommitted (SQLite rolls it back from its journal).
   */
  async schemaSession<T>(
    options: SchemaSessionOptions,
    work: (session: SchemaSession) => Promise<T>,
  ): Promise<T> {
    const worker = await this.#acquire();
    const engine = async <R>(task: () => Promise<R>, timeoutMs = options.timeoutMs): Promise<R> => {
      try {
        return await task();
      } catch (error) {
        throw this.#mapError(error, false, timeoutMs);
      }
    };
    try {
      await engine(() =>
        worker.request({ op: 'session-begin', lockTimeoutMs: options.lockTimeoutMs }, options.timeoutMs),
      );
      const session: SchemaSession = {
        execute: (sql) =>
          engine(() => worker.request<number>({ op: 'session-exec', sql }, options.timeoutMs)),
        query: (sql, params = []) =>
          engine(() =>
            worker.request<Record<string, unknown>[]>(
              { op: 'session-query', sql, params: [...params] },
              options.timeoutMs,
            ),
          ),
        introspect: () =>
          engine(async () =>
            sqliteSnapshot(
              await worker.request<Record<string, unknown>[][]>(
                { op: 'session-catalog', queries: SQLITE_CATALOG_QUERIES },
                INTROSPECT_TIMEOUT_MS,
              ),
            ),
          ),
      };
      const result = await work(session);
      if (options.commit)
        await engine(() => worker.request({ op: 'session-end', commit: true }, options.timeoutMs));
      return result;
    } finally {
      if (worker.alive)
        await worker.request({ op: 'session-end', commit: false }, options.timeoutMs).catch(() => {});
      this.#pool.release(worker);
    }
  }

  /** EXPLAIN QUERY PLAN; SQLite gives no row estimate. */
  async explain(
    query: string,
    options: Pick<ExecuteOptions, 'timeoutMs' | 'params'>,
  ): Promise<ExplainResult | undefined> {
    const params = sqliteParams(options.params);
    const lines = await this.#use(options.timeoutMs, undefined, (w) =>
      w.request<string[]>({ op: 'explain', sql: query, ...(params ? { params } : {}) }, options.timeoutMs),
    );
    return { plan: lines.join('\n') };
  }

  /** Kills the worker processes once. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pool.close();
  }

  async #acquire(): Promise<SqliteWorker> {
    if (this.#closed)
      throw databaseError('database_unavailable', ENGINE, 'the connection is closed', this.#secrets);
    return this.#pool.acquire();
  }

  /** One request on a pooled worker; an abort kills the worker (the only way to stop a running SQLite step here). */
  async #use<T>(
    timeoutMs: number,
    signal: AbortSignal | undefined,
    work: (worker: SqliteWorker) => Promise<T>,
  ): Promise<T> {
    if (signal?.aborted)
      throw databaseError('query_failed', ENGINE, 'the query was cancelled', this.#secrets);
    const worker = await this.#acquire();
    const onAbort = (): void => worker.kill(new WorkerGone('closed', 'the query was cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // Aborted while waiting for a worker: the listener came too late to fire.
      if (signal?.aborted)
        throw databaseError('query_failed', ENGINE, 'the query was cancelled', this.#secrets);
      return await work(worker);
    } catch (error) {
      throw this.#mapError(error, signal?.aborted === true, timeoutMs);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#pool.release(worker);
    }
  }

  #mapError(error: unknown, cancelled: boolean, timeoutMs?: number): ThreadqlError {
    if (error instanceof ThreadqlError) return error;
    if (cancelled)
      return databaseError('query_failed', ENGINE, 'the query was cancelled', this.#secrets, error);
    if (error instanceof WorkerGone) {
      if (error.reason === 'timeout') {
        const limit = timeoutMs === undefined ? '' : ` (${timeoutMs} ms)`;
        return databaseError(
          'query_timeout',
          ENGINE,
          `the statement exceeded its time limit${limit}`,
          this.#secrets,
          error,
        );
      }
      return databaseError('database_unavailable', ENGINE, error.message, this.#secrets, error);
    }
    const code = error instanceof WorkerQueryError ? (error.code ?? '') : '';
    const detail = code ? { sqliteCode: code } : {};
    const message = messageOf(error);
    if (code.startsWith('SQLITE_READONLY')) {
      return databaseError('read_only_violation', ENGINE, message, this.#secrets, error, detail);
    }
    if (/^SQLITE_(CANTOPEN|NOTADB|PERM|AUTH)/.test(code)) {
      return databaseError('database_unavailable', ENGINE, message, this.#secrets, error, detail);
    }
    return databaseError('query_failed', ENGINE, message, this.#secrets, error, detail);
  }
}

/** Values for SQLite's `?`: it has no boolean or date type, so booleans bind as 1/0 and dates as ISO text. */
function sqliteParams(params: ExecuteOptions['params']): SqliteParam[] | undefined {
  return positionalParams(ENGINE, params)?.map((v) =>
    typeof v === 'boolean' ? (v ? 1 : 0) : v instanceof Date ? v.toISOString() : v,
  );
}
