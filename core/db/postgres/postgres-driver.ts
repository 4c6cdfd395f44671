import pg from 'pg';
import Cursor from 'pg-cursor';
import { DatabaseError, hasCode, ThreadqlError } from '../../errors.ts';
import type { StatementVerdict } from '../../safety/verdict.ts';
import type {
  DatabaseDialect,
  DatabaseDriver,
  DriverOptions,
  DryRunResult,
  ExecuteOptions,
  ExplainResult,
  WriteOptions,
  WriteResult,
  IntrospectOptions,
  QueryResult,
  ReadStream,
  ResultColumn,
  SchemaSession,
  SchemaSessionOptions,
  SchemaSnapshot,
} from '../database-dialect.ts';
import { databaseError, secretsOf, unavailableError } from '../database-errors.ts';
import { executeBatch, measureBatch, planWriteBatch, unrunnableDryRun } from '../write-batch.ts';
import { positionalParams } from '../query-params.ts';
import { postgresError } from './postgres-errors.ts';
import {
  extended,
  NO_TRANSACTION_BLOCK,
  POSTGRES_DRY_RUN_RULES,
  postgresWriteTransaction,
} from './postgres-writes.ts';
import { introspectPostgres } from './postgres-introspector.ts';
import { builtinPgType, kindFromCategory, resultTypeParsers, type PgTypeInfo } from './postgres-types.ts';

const ENGINE = 'PostgreSQL';
const DEFAULT_BATCH = 1000;
const INTROSPECT_TIMEOUT_MS = 60_000;
// A stream whose consumer stalls is ended by the server rather than holding a transaction open forever.
const STREAM_IDLE_TIMEOUT = '5min';

type Field = { name: string; dataTypeID: number };
type Batch = { rows: unknown[][]; fields: Field[] };
type Mode = 'BEGIN READ ONLY' | 'BEGIN';

/** Reads up to `count` rows from an open cursor, with the result's field descriptions. */
function readCursor(cursor: Cursor, count: number): Promise<Batch> {
  return new Promise((resolve, reject) => {
    cursor.read(count, (error, rows, result) => {
      if (error) reject(error);
      else resolve({ rows: rows as unknown[][], fields: (result?.fields ?? []) as Field[] });
    });
  });
}

const timeoutSql = (ms: number): string => `SET LOCAL statement_timeout = ${Math.max(1, Math.floor(ms))}`;

/**
 * One pg.Pool per connection. Reads run in `BEGIN READ ONLY` with `SET LOCAL statement_timeout` through a
 * cursor (extended protocol: one statement only), fetching at most cap+1 rows; writes run in the extended
 * protocol too, so a statement list can never smuggle in a COMMIT.
 */
export class PostgresDriver implements DatabaseDriver {
  readonly dialect: DatabaseDialect;
  readonly #pool: pg.Pool;
  readonly #secrets: string[];
  readonly #url: string;
  readonly #connectTimeoutMs: number;
  readonly #types = new Map<number, PgTypeInfo>();
  #closing: Promise<void> | undefined;

  constructor(dialect: DatabaseDialect, url: string, options: DriverOptions = {}) {
    this.dialect = dialect;
    this.#secrets = secretsOf(url);
    this.#url = url;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 5,
      connectionTimeoutMillis: this.#connectTimeoutMs,
      idleTimeoutMillis: 30_000,
      application_name: 'threadql',
    });
    // An idle client losing its server must not crash the process; the next checkout reconnects.
    this.#pool.on('error', () => {});
  }

  /** A test query; any failure is database_unavailable. */
  async validate(): Promise<void> {
    try {
      await this.#pool.query('SELECT 1');
    } catch (error) {
      throw this.#unavailable(error);
    }
  }

  /** Four catalog queries on one read-only connection, whatever the number of tables. */
  async introspect(options: IntrospectOptions = {}): Promise<SchemaSnapshot> {
    return this.#session('BEGIN READ ONLY', INTROSPECT_TIMEOUT_MS, undefined, (client) =>
      introspectPostgres(async (sql, params) => (await client.query(sql, params)).rows, options),
    );
  }

  /** Reads at most maxRows rows (fetching maxRows+1 through a cursor to set `truncated`). */
  async executeRead(query: string, options: ExecuteOptions): Promise<QueryResult> {
    const started = performance.now();
    const params = positionalParams(ENGINE, options.params);
    return this.#session('BEGIN READ ONLY', options.timeoutMs, options.signal, async (client) => {
      const cursor = client.query(new Cursor(query, params, { rowMode: 'array', types: resultTypeParsers }));
      const { rows, fields } = await readCursor(cursor, options.maxRows + 1);
      await cursor.close();
      const truncated = rows.length > options.maxRows;
      const kept = truncated ? rows.slice(0, options.maxRows) : rows;
      return {
        columns: await this.#columns(fields, client),
        rows: kept,
        rowCount: kept.length,
        truncated,
        durationMs: performance.now() - started,
      };
    });
  }

  /** Streams a read in batches from a cursor; the first batch is fetched before this resolves. */
  async streamRead(query: string, options: ExecuteOptions): Promise<ReadStream> {
    const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH);
    const params = positionalParams(ENGINE, options.params);
    const client = await this.#connect();
    let cancelled = false;
    const onAbort = (): void => {
      cancelled = true;
      void this.#cancel(client);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let cursor: Cursor | undefined;
    let cursorFailed = false;
    let finished: Promise<void> | undefined;
    const finish = (): Promise<void> =>
      (finished ??= (async () => {
        options.signal?.removeEventListener('abort', onAbort);
        if (cursor && !cursorFailed) await cursor.close().catch(() => {});
        await this.#release(client, true);
      })());
    const fail = async (error: unknown): Promise<never> => {
      cursorFailed = true;
      await finish();
      throw error instanceof DatabaseError ? error : postgresError(error, this.#secrets, cancelled);
    };

    let first: Batch;
    let columns: ResultColumn[];
    try {
      await client.query('BEGIN READ ONLY');
      await client.query(timeoutSql(options.timeoutMs));
      await client.query(`SET LOCAL idle_in_transaction_session_timeout = '${STREAM_IDLE_TIMEOUT}'`);
      cursor = client.query(new Cursor(query, params, { rowMode: 'array', types: resultTypeParsers }));
      first = await readCursor(cursor, Math.min(batchSize, options.maxRows + 1));
      columns = await this.#columns(first.fields);
    } catch (error) {
      return fail(error);
    }

    let rowCount = 0;
    let truncated = false;
    const open = cursor;
    async function* batches(): AsyncGenerator<unknown[][]> {
      try {
        let batch = first.rows;
        let asked = Math.min(batchSize, options.maxRows + 1);
        for (;;) {
          const room = options.maxRows - rowCount;
          const take = batch.length > room ? batch.slice(0, room) : batch;
          if (batch.length > room) truncated = true;
          rowCount += take.length;
          if (take.length > 0) yield take;
          if (truncated || batch.length < asked) return;
          asked = Math.min(batchSize, options.maxRows - rowCount + 1);
          try {
            batch = (await readCursor(open, asked)).rows;
          } catch (error) {
            await fail(error);
          }
        }
      } finally {
        await finish();
      }
    }
    return {
      columns,
      batches: batches(),
      summary: () => ({ rowCount, truncated }),
      close: finish,
    };
  }

  /**
   * Measures each statement of the batch in one transaction that is always rolled back; DDL included (it is
   * transactional here). `other` statements are not tried: their effects can escape a transaction.
   */
  async dryRun(
    statement: string,
    options: Pick<WriteOptions, 'timeoutMs' | 'signal'>,
  ): Promise<DryRunResult> {
    const started = performance.now();
    const verdict = await this.dialect.classify(statement);
    const plan = planWriteBatch(statement, verdict);
    if ('unrunnable' in plan) return unrunnableDryRun(statement, verdict, plan.unrunnable, started);
    return this.#session('BEGIN', options.timeoutMs, options.signal, (client) =>
      measureBatch(plan.statements, postgresWriteTransaction(client), POSTGRES_DRY_RUN_RULES, started),
    );
  }

  /**
   * Runs an approved batch in one transaction with the drift guard and commits it. A lone statement PostgreSQL
   * refuses inside a transaction (VACUUM, CREATE INDEX CONCURRENTLY) runs on its own instead, and the result says
   * it could not be rolled back.
   */
  async executeWrite(statement: string, options: WriteOptions): Promise<WriteResult> {
    const started = performance.now();
    const plan = planWriteBatch(statement, await this.dialect.classify(statement));
    if ('unrunnable' in plan) throw databaseError('query_failed', ENGINE, plan.unrunnable, this.#secrets);
    try {
      return await this.#session('BEGIN', options.timeoutMs, options.signal, async (client) => {
        const ran = await executeBatch(plan.statements, postgresWriteTransaction(client), options);
        await client.query('COMMIT');
        return { ...ran, atomic: true, durationMs: performance.now() - started };
      });
    } catch (error) {
      const outside = plan.statements.length === 1 && hasCode(error, 'query_failed');
      if (!outside || (error as DatabaseError).detail.sqlstate !== NO_TRANSACTION_BLOCK) throw error;
    }
    return this.#outsideTransaction(plan.statements[0]!, options, started);
  }

  /** One statement in autocommit mode, with a session-level timeout that is reset before the client is returned. */
  async #outsideTransaction(
    statement: StatementVerdict,
    options: WriteOptions,
    started: number,
  ): Promise<WriteResult> {
    const client = await this.#connect();
    let cancelled = false;
    const onAbort = (): void => {
      cancelled = true;
      void this.#cancel(client);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (options.signal?.aborted)
        throw databaseError('query_failed', ENGINE, 'the query was cancelled', this.#secrets);
      await client.query(`SET statement_timeout = ${Math.max(1, Math.floor(options.timeoutMs))}`);
      const result = await client.query(extended(statement.sql));
      const affectedRows = statement.verdict === 'read' ? 0 : (result.rowCount ?? 0);
      return {
        statements: [{ sql: statement.sql, type: statement.type, affectedRows }],
        affectedRows,
        atomic: false,
        note: `PostgreSQL cannot run ${statement.type} inside a transaction, so it ran on its own and cannot be rolled back.`,
        durationMs: performance.now() - started,
      };
    } catch (error) {
      throw postgresError(error, this.#secrets, cancelled);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      await client.query('RESET statement_timeout').catch(() => {});
      await this.#release(client, false);
    }
  }

  /**
   * One transaction for a schema change: `lock_timeout` and `statement_timeout` per statement, each statement in
   * the extended protocol (so none can smuggle in a COMMIT), committed only when asked; always rolled back else.
   */
  async schemaSession<T>(
    options: SchemaSessionOptions,
    work: (session: SchemaSession) => Promise<T>,
  ): Promise<T> {
    const client = await this.#connect();
    const engine = async <R>(run: () => Promise<R>): Promise<R> => {
      try {
        return await run();
      } catch (error) {
        throw postgresError(error, this.#secrets);
      }
    };
    try {
      await engine(async () => {
        await client.query('BEGIN');
        await client.query(timeoutSql(options.timeoutMs));
        await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(options.lockTimeoutMs))}`);
      });
      const session: SchemaSession = {
        execute: (statement) => engine(async () => (await client.query(extended(statement))).rowCount ?? 0),
        query: (sql, params = []) => engine(async () => (await client.query(sql, [...params])).rows),
        introspect: () =>
          engine(() => introspectPostgres(async (sql, params) => (await client.query(sql, params)).rows)),
      };
      const result = await work(session);
      if (options.commit) await engine(() => client.query('COMMIT'));
      return result;
    } finally {
      await this.#release(client, true);
    }
  }

  /** EXPLAIN (text) inside a read-only transaction; the top node's row estimate. */
  async explain(
    query: string,
    options: Pick<ExecuteOptions, 'timeoutMs' | 'params'>,
  ): Promise<ExplainResult | undefined> {
    const params = positionalParams(ENGINE, options.params);
    return this.#session('BEGIN READ ONLY', options.timeoutMs, undefined, async (client) => {
      const result = await client.query<{ 'QUERY PLAN': string }>({
        ...extended(`EXPLAIN ${query}`),
        ...(params ? { values: params } : {}),
      });
      const lines = result.rows.map((r) => r['QUERY PLAN']);
      const rows = /rows=(\d+)/.exec(lines[0] ?? '')?.[1];
      return { plan: lines.join('\n'), ...(rows === undefined ? {} : { estimatedRows: Number(rows) }) };
    });
  }

  /** Ends the pool once; later calls return the same promise. */
  close(): Promise<void> {
    this.#closing ??= this.#pool.end().catch(() => {});
    return this.#closing;
  }

  async #connect(): Promise<pg.PoolClient> {
    if (this.#closing)
      throw databaseError('database_unavailable', ENGINE, 'the connection is closed', this.#secrets);
    try {
      const client = await this.#pool.connect();
      client.on('error', ignore);
      return client;
    } catch (error) {
      throw this.#unavailable(error);
    }
  }

  /** Rolls back whatever is open and returns the client; a client that cannot roll back is discarded. */
  async #release(client: pg.PoolClient, rollback: boolean): Promise<void> {
    let broken: Error | undefined;
    if (rollback) {
      try {
        await client.query('ROLLBACK');
      } catch (error) {
        broken = error instanceof Error ? error : new Error(String(error));
      }
    }
    client.removeListener('error', ignore);
    client.release(broken);
  }

  /** One transaction on one client: begin, timeout, work, and always a rollback (a no-op after COMMIT). */
  async #session<T>(
    mode: Mode,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    work: (client: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    if (signal?.aborted)
      throw databaseError('query_failed', ENGINE, 'the query was cancelled', this.#secrets);
    const client = await this.#connect();
    let cancelled = false;
    const onAbort = (): void => {
      cancelled = true;
      void this.#cancel(client);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // Aborted while waiting for a connection: the listener came too late to fire.
      if (signal?.aborted)
        throw databaseError('query_failed', ENGINE, 'the query was cancelled', this.#secrets);
      await client.query(mode);
      await client.query(timeoutSql(timeoutMs));
      return await work(client);
    } catch (error) {
      throw error instanceof ThreadqlError ? error : postgresError(error, this.#secrets, cancelled);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await this.#release(client, true);
    }
  }

  /** Cancels the client's running statement from another connection (the wire protocol has no in-band cancel). */
  async #cancel(client: pg.PoolClient): Promise<void> {
    const pid = (client as unknown as { processID: number | null }).processID;
    if (pid !== null) await this.#pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => {});
  }

  /**
   * Column names, type names and kinds; unknown OIDs (enums, domains, extensions) are looked up once and cached.
   * The lookup runs on `client` when it is free, otherwise (a stream holds its client with a cursor open) on a
   * short-lived connection of its own: borrowing from the pool could wait forever on a pool of one.
   */
  async #columns(fields: Field[], client?: pg.PoolClient): Promise<ResultColumn[]> {
    const missing = [...new Set(fields.map((f) => f.dataTypeID))].filter(
      (oid) => !builtinPgType(oid) && !this.#types.has(oid),
    );
    if (missing.length > 0) {
      const sql =
        'SELECT oid::int8::float8 AS oid, format_type(oid, NULL) AS name, typcategory AS category FROM pg_type WHERE oid = ANY($1::oid[])';
      type TypeRow = { oid: number; name: string; category: string };
      let rows: TypeRow[];
      if (client) rows = (await client.query<TypeRow>(sql, [missing])).rows;
      else {
        const own = new pg.Client({
          connectionString: this.#url,
          connectionTimeoutMillis: this.#connectTimeoutMs,
          application_name: 'threadql',
        });
        own.on('error', ignore);
        try {
          await own.connect();
          rows = (await own.query<TypeRow>(sql, [missing])).rows;
        } finally {
          await own.end().catch(() => {});
        }
      }
      for (const r of rows)
        this.#types.set(Number(r.oid), { name: r.name, kind: kindFromCategory(r.name, r.category) });
    }
    return fields.map((f) => {
      const info = builtinPgType(f.dataTypeID) ?? this.#types.get(f.dataTypeID);
      return { name: f.name, type: info?.name ?? `oid ${f.dataTypeID}`, kind: info?.kind ?? 'unknown' };
    });
  }

  #unavailable(error: unknown): DatabaseError {
    return unavailableError(postgresError(error, this.#secrets), ENGINE, this.#secrets, error);
  }
}

function ignore(): void {}
