/**
 * The connections of one MySQL/MariaDB pool as the driver uses them: a session is one pooled connection with the
 * statement time limit and access mode set, a transaction begun, a guard that kills the query on abort or past
 * the limit (KILL QUERY from another connection), and a rollback before it goes back to the pool.
 */
import mysql from 'mysql2';
import type { Pool, PoolConnection } from 'mysql2';
import { ThreadqlError, type DatabaseError } from '../../errors.ts';
import type { DriverOptions } from '../database-dialect.ts';
import { databaseError, secretsOf, unavailableError } from '../database-errors.ts';
import { mysqlError } from './mysql-errors.ts';
import { run } from './mysql-query.ts';

const ENGINE = 'MySQL';
// The server-side limit should fire first; this client-side KILL QUERY is the backstop (MySQL's
// max_execution_time covers SELECT only, so a DML dry run relies on it).
const BACKSTOP_GRACE_MS = 1000;

/** How a session begins: a read-only or read-write transaction, or none (DDL, which MySQL commits anyway). */
export type Begin = 'START TRANSACTION READ ONLY' | 'START TRANSACTION' | 'AUTOCOMMIT';

export interface Session {
  conn: PoolConnection;
  /** The connection was destroyed (to stop a result early); it must not be released. */
  destroyed: boolean;
}

/** What a guard gives its session's user: stop it, and map an error (a timeout named as such). */
export interface SessionGuard {
  stop(): void;
  map(error: unknown): DatabaseError;
}

export class MysqlSessions {
  /** The URL's secrets, masked out of every error message. */
  readonly secrets: string[];
  readonly #pool: Pool;
  #mariadb: boolean | undefined;
  #closing: Promise<void> | undefined;

  constructor(url: string, options: DriverOptions) {
    this.secrets = secretsOf(url);
    this.#pool = mysql.createPool({
      uri: url,
      connectionLimit: options.poolSize ?? 5,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: ['DATE'],
      timezone: 'Z',
      multipleStatements: false,
      enableKeepAlive: true,
    });
  }

  /** Ends the pool once; later calls return the same promise. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => this.#pool.end(() => resolve()));
    return this.#closing;
  }

  /** A connection from the pool; database_unavailable when there is none to be had. */
  async connect(): Promise<Session> {
    if (this.#closing)
      throw databaseError('database_unavailable', ENGINE, 'the connection is closed', this.secrets);
    try {
      const conn = await new Promise<PoolConnection>((resolve, reject) =>
        this.#pool.getConnection((error, c) => (error ? reject(error) : resolve(c))),
      );
      return { conn, destroyed: false };
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  /** Session time limit (MariaDB: max_statement_time in s; MySQL: max_execution_time in ms), access mode, BEGIN. */
  async prepare(session: Session, timeoutMs: number, begin: Begin): Promise<void> {
    if (this.#mariadb === undefined) {
      const [row] = (await run(session.conn, 'SELECT VERSION() AS v')) as { v: string }[];
      this.#mariadb = /mariadb/i.test(row?.v ?? '');
    }
    const ms = Math.max(1, Math.floor(timeoutMs));
    await run(
      session.conn,
      this.#mariadb
        ? `SET SESSION max_statement_time = ${ms / 1000}`
        : `SET SESSION max_execution_time = ${ms}`,
    );
    // START TRANSACTION READ ONLY alone does not stop DDL: DDL commits implicitly and runs in a new, read-write
    // transaction. The session's default access mode covers that implicit transaction too.
    await run(
      session.conn,
      begin === 'START TRANSACTION READ ONLY'
        ? 'SET SESSION TRANSACTION READ ONLY'
        : 'SET SESSION TRANSACTION READ WRITE',
    );
    // AUTOCOMMIT: no transaction at all, for statements MySQL commits implicitly anyway (DDL).
    if (begin !== 'AUTOCOMMIT') await run(session.conn, begin);
  }

  /** One transaction on one connection, always rolled back at the end (a no-op after COMMIT). */
  async run<T>(
    begin: Begin,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    work: (session: Session) => Promise<T>,
  ): Promise<T> {
    if (signal?.aborted) throw databaseError('query_failed', ENGINE, 'the query was cancelled', this.secrets);
    const session = await this.connect();
    const guard = this.guard(session, timeoutMs, signal);
    try {
      // Aborted while waiting for a connection: the listener came too late to fire.
      if (signal?.aborted)
        throw databaseError('query_failed', ENGINE, 'the query was cancelled', this.secrets);
      await this.prepare(session, timeoutMs, begin);
      return await work(session);
    } catch (error) {
      throw error instanceof ThreadqlError ? error : guard.map(error);
    } finally {
      guard.stop();
      await this.end(session);
    }
  }

  /** Abort signal and client-side backstop timer, both by KILL QUERY from another connection. */
  guard(session: Session, timeoutMs: number, signal: AbortSignal | undefined): SessionGuard {
    let cancelled = false;
    let timedOut = false;
    const kill = (): void => {
      if (!session.destroyed) this.#pool.query(`KILL QUERY ${session.conn.threadId}`, () => {});
    };
    const onAbort = (): void => {
      cancelled = true;
      kill();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs + BACKSTOP_GRACE_MS);
    signal?.addEventListener('abort', onAbort, { once: true });
    return {
      stop: (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      },
      map: (error: unknown): DatabaseError => {
        const mapped = mysqlError(error, this.secrets, cancelled);
        return timedOut && !cancelled && mapped.code === 'query_failed'
          ? databaseError(
              'query_timeout',
              ENGINE,
              `the statement ran longer than ${timeoutMs} ms`,
              this.secrets,
              error,
            )
          : mapped;
      },
    };
  }

  /** Drops the connection (stopping a result mid-stream): the server rolls back and frees it. */
  destroy(session: Session): void {
    if (session.destroyed) return;
    session.destroyed = true;
    session.conn.destroy();
  }

  /** Rolls back and returns the connection; one that cannot roll back is dropped instead. */
  async end(session: Session): Promise<void> {
    if (session.destroyed) return;
    try {
      await run(session.conn, 'ROLLBACK');
      session.conn.release();
    } catch {
      this.destroy(session);
    }
  }

  /** Any error on the way to a connection, as database_unavailable. */
  unavailable(error: unknown): DatabaseError {
    return unavailableError(mysqlError(error, this.secrets), ENGINE, this.secrets, error);
  }
}
