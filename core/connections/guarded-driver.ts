/**
 * A target database driver as threadql runs it: every call through the connection's breaker (a database that is
 * down fails fast after the first turns find out, and is tried again after a pause), reads cancelled when threadql
 * shuts down (the process-wide signal joins the caller's), and each read counted by outcome.
 */
import type { DatabaseDriver, ExecuteOptions } from '../db/database-dialect.ts';
import { hasCode } from '../errors.ts';
import type { ThreadqlMetrics } from '../metrics/threadql-metrics.ts';
import type { DependencyBreakers } from '../resilience/dependency-breakers.ts';
import { DependencyDownError } from '../resilience/dependency-errors.ts';

export interface GuardOptions {
  /** The connection's name (breaker `database:<name>`, metrics label). */
  name: string;
  breakers?: DependencyBreakers;
  metrics?: ThreadqlMetrics;
  /** Aborted at shutdown: reads in flight are cancelled on the server, not waited for. */
  signal?: AbortSignal;
}

/** The outcome label of a read for the metrics. */
function outcomeOf(error: unknown): string {
  if (error instanceof DependencyDownError || hasCode(error, 'database_unavailable')) return 'unavailable';
  if (hasCode(error, 'query_timeout')) return 'timeout';
  if (error instanceof Error && /cancelled/.test(error.message)) return 'cancelled';
  return 'error';
}

/** Wraps a driver; see the file comment. */
export function guardDriver(driver: DatabaseDriver, options: GuardOptions): DatabaseDriver {
  const key = `database:${options.name}` as const;
  const run = <T>(work: () => Promise<T>): Promise<T> =>
    options.breakers ? options.breakers.call(key, work) : work();
  const withSignal = (execute: ExecuteOptions): ExecuteOptions => {
    const signals = [execute.signal, options.signal].filter((s): s is AbortSignal => s !== undefined);
    if (signals.length === 0) return execute;
    return { ...execute, signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals) };
  };
  const counted = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      const result = await run(work);
      options.metrics?.queries.inc({ connection: options.name, outcome: 'success' });
      return result;
    } catch (error) {
      options.metrics?.queries.inc({ connection: options.name, outcome: outcomeOf(error) });
      throw error;
    }
  };
  return {
    dialect: driver.dialect,
    validate: () => run(() => driver.validate()),
    introspect: (introspect) => run(() => driver.introspect(introspect)),
    executeRead: (query, execute) => counted(() => driver.executeRead(query, withSignal(execute))),
    streamRead: (query, execute) => run(() => driver.streamRead(query, withSignal(execute))),
    dryRun: (statement, execute) => run(() => driver.dryRun(statement, execute)),
    executeWrite: (statement, execute) => run(() => driver.executeWrite(statement, execute)),
    explain: (query, execute) => run(() => driver.explain(query, execute)),
    // Not behind the breaker: a migration may run for minutes (longer than any breaker timeout), and a script's
    // own SQL error says nothing about the database being reachable.
    ...(driver.schemaSession
      ? { schemaSession: (session, work) => driver.schemaSession!(session, work) }
      : {}),
    close: () => driver.close(),
  };
}
