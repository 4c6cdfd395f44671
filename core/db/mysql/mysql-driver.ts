import { DatabaseError } from '../../errors.ts';
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
import { databaseError } from '../database-errors.ts';
import { executeBatch, measureBatch, unrunnableDryRun } from '../write-batch.ts';
import { positionalParams } from '../query-params.ts';
import { prepared, rowReader, run, type RowReader } from './mysql-query.ts';
import {
  executionNote,
  mentions,
  mysqlDryRunRules,
  mysqlPlan,
  mysqlWriteTransaction,
  nonTransactionalTables,
} from './mysql-writes.ts';
import { introspectMysql } from './mysql-introspector.ts';
import { MysqlSessions } from './mysql-sessions.ts';
import { mysqlColumn } from './mysql-types.ts';

const ENGINE = 'MySQL';
const DEFAULT_BATCH = 1000;
const INTROSPECT_TIMEOUT_MS = 60_000;
/**
 * One mysql2 pool per connection, for MySQL and MariaDB (detected from VERSION()). Reads run in
 * `START TRANSACTION READ ONLY` with the session statement time limit, streamed and stopped after cap+1 rows;
 * multi-statements are off, so one call is one statement.
 */
export class MysqlDriver implements DatabaseDriver {
  readonly dialect: DatabaseDialect;
  readonly #sessions: MysqlSessions;

  constructor(dialect: DatabaseDialect, url: string, options: DriverOptions = {}) {
    this.dialect = dialect;
    this.#sessions = new MysqlSessions(url, options);
  }

  /** A test query; any failure is database_unavailable. */
  async validate(): Promise<void> {
    const session = await this.#sessions.connect();
    try {
      await run(session.conn, 'SELECT 1');
    } catch (error) {
      throw this.#sessions.unavailable(error);
    } finally {
      session.conn.release();
    }
  }

  /** Four information_schema queries for the connection's database. */
  async introspect(): Promise<SchemaSnapshot> {
    return this.#sessions.run('START TRANSACTION READ ONLY', INTROSPECT_TIMEOUT_MS, undefined, ({ conn }) =>
      introspectMysql(async (sql) => (await run(conn, sql)) as Record<string, unknown>[]),
    );
  }

  /** Reads at most maxRows rows; the stream stops (and the connection is dropped) after cap+1 rows. */
  async executeRead(query: string, options: ExecuteOptions): Promise<QueryResult> {
    const started = performance.now();
    const params = positionalParams(ENGINE, options.params);
    return this.#sessions.run(
      'START TRANSACTION READ ONLY',
      options.timeoutMs,
      options.signal,
      async (session) => {
        const reader = rowReader(session.conn, query, Math.min(options.maxRows + 1, DEFAULT_BATCH), params);
        const { rows, done } = await reader.next(options.maxRows + 1);
        const truncated = rows.length > options.maxRows;
        // Stopping a result mid-stream means dropping the connection; the server rolls back and frees it.
        if (!done) this.#sessions.destroy(session);
        const kept = truncated ? rows.slice(0, options.maxRows) : rows;
        return {
          columns: reader.fields().map(mysqlColumn),
          rows: kept,
          rowCount: kept.length,
          truncated,
          durationMs: performance.now() - started,
        };
      },
    );
  }

  /** Streams a read in batches; the first batch is read before this resolves. */
  async streamRead(query: string, options: ExecuteOptions): Promise<ReadStream> {
    const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH);
    const params = positionalParams(ENGINE, options.params);
    const session = await this.#sessions.connect();
    const guard = this.#sessions.guard(session, options.timeoutMs, options.signal);
    let finished: Promise<void> | undefined;
    const finish = (early: boolean): Promise<void> =>
      (finished ??= (async () => {
        guard.stop();
        if (early) this.#sessions.destroy(session);
        await this.#sessions.end(session);
      })());
    const fail = async (error: unknown): Promise<never> => {
      await finish(true);
      throw error instanceof DatabaseError ? error : guard.map(error);
    };

    let reader: RowReader;
    let first: { rows: unknown[][]; done: boolean };
    try {
      await this.#sessions.prepare(session, options.timeoutMs, 'START TRANSACTION READ ONLY');
      reader = rowReader(session.conn, query, batchSize, params);
      first = await reader.next(Math.min(batchSize, options.maxRows + 1));
    } catch (error) {
      return fail(error);
    }
    // The time limit covers the whole statement, streaming included (MariaDB counts it that way too), and the
    // abort signal stays live until the stream ends; finish() stops the guard.

    let rowCount = 0;
    let truncated = false;
    const maxRows = options.maxRows;
    async function* batches(): AsyncGenerator<unknown[][]> {
      let completed = false;
      try {
        let batch = first;
        for (;;) {
          const room = maxRows - rowCount;
          const take = batch.rows.length > room ? batch.rows.slice(0, room) : batch.rows;
          if (batch.rows.length > room) truncated = true;
          rowCount += take.length;
          if (take.length > 0) yield take;
          if (batch.done) completed = true;
          if (truncated || batch.done) return;
          try {
            batch = await reader.next(Math.min(batchSize, maxRows - rowCount + 1));
          } catch (error) {
            await fail(error);
          }
        }
      } finally {
        await finish(!completed);
      }
    }
    return {
      columns: reader.fields().map(mysqlColumn),
      batches: batches(),
      summary: () => ({ rowCount, truncated }),
      close: () => finish(true),
    };
  }

  /**
   * Measures DML in a transaction that is rolled back. DDL and other statements are not run (MySQL commits them
   * implicitly, which would also commit the dry run), nor is DML that names a table of a non-transactional engine
   * (MyISAM, Aria: no rollback).
   */
  async dryRun(
    statement: string,
    options: Pick<WriteOptions, 'timeoutMs' | 'signal'>,
  ): Promise<DryRunResult> {
    const started = performance.now();
    const verdict = await this.dialect.classify(statement);
    const plan = mysqlPlan(statement, verdict);
    if ('unrunnable' in plan) return unrunnableDryRun(statement, verdict, plan.unrunnable, started);
    return this.#sessions.run('START TRANSACTION', options.timeoutMs, options.signal, async (session) => {
      const rules = mysqlDryRunRules(await nonTransactionalTables(session.conn));
      return measureBatch(plan.statements, mysqlWriteTransaction(session.conn), rules, started);
    });
  }

  /**
   * Runs an approved batch with the drift guard. DML runs in one transaction and is committed. DDL and other
   * statements commit implicitly on MySQL and MariaDB: they run one by one and cannot be rolled back, which the
   * result says (a batch mixing them with DML is refused by the plan).
   */
  async executeWrite(statement: string, options: WriteOptions): Promise<WriteResult> {
    const started = performance.now();
    const plan = mysqlPlan(statement, await this.dialect.classify(statement));
    if ('unrunnable' in plan)
      throw databaseError('query_failed', ENGINE, plan.unrunnable, this.#sessions.secrets);
    const transactional = plan.statements.every((s) => s.verdict === 'read' || s.verdict === 'write');
    return this.#sessions.run(
      transactional ? 'START TRANSACTION' : 'AUTOCOMMIT',
      options.timeoutMs,
      options.signal,
      async (session) => {
        const fixed = transactional ? await nonTransactionalTables(session.conn) : [];
        const named = fixed.filter((t) => plan.statements.some((s) => mentions(s.sql, t.name)));
        const ran = await executeBatch(plan.statements, mysqlWriteTransaction(session.conn), options);
        if (transactional) await run(session.conn, 'COMMIT');
        const notes = [executionNote(transactional, named), ran.note].filter(
          (n): n is string => n !== undefined,
        );
        return {
          statements: ran.statements,
          affectedRows: ran.affectedRows,
          atomic: transactional && named.length === 0,
          ...(notes.length ? { note: notes.join(' ') } : {}),
          durationMs: performance.now() - started,
        };
      },
    );
  }

  /**
   * One connection for a schema change: the statement time limit and lock wait timeouts, a read-write
   * transaction (DDL commits implicitly anyway), each statement alone (multi-statements are off). The connection
   * is dropped afterwards rather than returned, so its changed session settings never reach a read.
   */
  async schemaSession<T>(
    options: SchemaSessionOptions,
    work: (session: SchemaSession) => Promise<T>,
  ): Promise<T> {
    const session = await this.#sessions.connect();
    const engine = async <R>(task: () => Promise<R>): Promise<R> => {
      const guard = this.#sessions.guard(session, options.timeoutMs, undefined);
      try {
        return await task();
      } catch (error) {
        throw error instanceof DatabaseError ? error : guard.map(error);
      } finally {
        guard.stop();
      }
    };
    try {
      await engine(async () => {
        await this.#sessions.prepare(session, options.timeoutMs, 'START TRANSACTION');
        const seconds = Math.max(1, Math.ceil(options.lockTimeoutMs / 1000));
        await run(
          session.conn,
          `SET SESSION lock_wait_timeout = ${seconds}, innodb_lock_wait_timeout = ${seconds}`,
        );
      });
      const schemaSession: SchemaSession = {
        execute: (statement) =>
          engine(
            async () => ((await run(session.conn, statement)) as { affectedRows?: number }).affectedRows ?? 0,
          ),
        query: (sql, params = []) =>
          engine(
            () =>
              new Promise<Record<string, unknown>[]>((resolve, reject) => {
                session.conn.query(sql, [...params], (error, rows) =>
                  error
                    ? reject(error)
                    : resolve(Array.isArray(rows) ? (rows as Record<string, unknown>[]) : []),
                );
              }),
          ),
        introspect: () =>
          engine(() =>
            introspectMysql(async (sql) => (await run(session.conn, sql)) as Record<string, unknown>[]),
          ),
      };
      const result = await work(schemaSession);
      if (options.commit) await engine(() => run(session.conn, 'COMMIT'));
      return result;
    } finally {
      if (!session.destroyed) await run(session.conn, 'ROLLBACK').catch(() => {});
      this.#sessions.destroy(session);
    }
  }

  /** EXPLAIN inside a read-only transaction; the estimate is the largest per-table row estimate. */
  async explain(
    query: string,
    options: Pick<ExecuteOptions, 'timeoutMs' | 'params'>,
  ): Promise<ExplainResult | undefined> {
    const params = positionalParams(ENGINE, options.params);
    return this.#sessions.run(
      'START TRANSACTION READ ONLY',
      options.timeoutMs,
      undefined,
      async ({ conn }) => {
        const rows = (await (params
          ? prepared(conn, `EXPLAIN ${query}`, params)
          : run(conn, `EXPLAIN ${query}`))) as Record<string, unknown>[];
        const estimates = rows.map((r) => Number(r.rows)).filter((n) => Number.isFinite(n));
        return {
          plan: rows
            .map((r) =>
              Object.values(r)
                .map((v) => String(v ?? ''))
                .join('\t'),
            )
            .join('\n'),
          ...(estimates.length > 0 ? { estimatedRows: Math.max(...estimates) } : {}),
        };
      },
    );
  }

  /** Ends the pool once; later calls return the same promise. */
  close(): Promise<void> {
    return this.#sessions.close();
  }
}
