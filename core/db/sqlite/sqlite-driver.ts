import { DatabaseError } from '../../errors.ts';
import type {
  DatabaseDialect,
  DatabaseDriver,
  DriverOptions,
  DryRunResult,
  ExecuteOptions,
  ExplainResult,
  QueryResult,
  ReadStream,
  SchemaSnapshot,
} from '../database-dialect.ts';
import { databaseError, messageOf, secretsOf } from '../database-errors.ts';
import { SQLITE_CATALOG_QUERIES, sqliteSnapshot } from './sqlite-introspector.ts';
import { sqliteFileFromUrl } from './sqlite-url.ts';
import type { SqliteWorker } from './sqlite-worker-pool.ts';
import { SqliteWorkerPool, WorkerGone, WorkerQueryError } from './sqlite-worker-pool.ts';
import type { RowsValue } from './sqlite-worker.ts';

const ENGINE = 'SQLite';
const DEFAULT_BATCH = 1000;
const INTROSPECT_TIMEOUT_MS = 60_000;
const VALIDATE_TIMEOUT_MS = 10_000;

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
    const value = await this.#use(options.timeoutMs, options.signal, (w) =>
      w.request<RowsValue>({ op: 'read', sql: query, maxRows: options.maxRows }, options.timeoutMs),
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
        { op: 'stream-open', sql: query, count: Math.min(batchSize, options.maxRows + 1) },
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

  /** BEGIN; statement; ROLLBACK on a writable handle: DDL included, since SQLite's DDL is transactional. */
  async dryRun(statement: string, options: Pick<ExecuteOptions, 'timeoutMs'>): Promise<DryRunResult> {
    const started = performance.now();
    const changes = await this.#use(options.timeoutMs, undefined, (w) =>
      w.request<number>({ op: 'dry-run', sql: statement }, options.timeoutMs),
    );
    return { performed: true, affectedRows: changes, durationMs: performance.now() - started };
  }

  /** BEGIN; statement; COMMIT on a writable handle. */
  async executeWrite(statement: string, options: Pick<ExecuteOptions, 'timeoutMs'>): Promise<DryRunResult> {
    const started = performance.now();
    const changes = await this.#use(options.timeoutMs, undefined, (w) =>
      w.request<number>({ op: 'write', sql: statement }, options.timeoutMs),
    );
    return { performed: true, affectedRows: changes, durationMs: performance.now() - started };
  }

  /** EXPLAIN QUERY PLAN; SQLite gives no row estimate. */
  async explain(
    query: string,
    options: Pick<ExecuteOptions, 'timeoutMs'>,
  ): Promise<ExplainResult | undefined> {
    const lines = await this.#use(options.timeoutMs, undefined, (w) =>
      w.request<string[]>({ op: 'explain', sql: query }, options.timeoutMs),
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
      return await work(worker);
    } catch (error) {
      throw this.#mapError(error, signal?.aborted === true, timeoutMs);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#pool.release(worker);
    }
  }

  #mapError(error: unknown, cancelled: boolean, timeoutMs?: number): DatabaseError {
    if (error instanceof DatabaseError) return error;
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
