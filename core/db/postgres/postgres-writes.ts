/**
 * PostgreSQL's side of the shared write path (core/db/write-batch.ts): what a dry run may try, and the batch
 * runner's view of an open transaction on one client.
 */
import type pg from 'pg';
import Cursor from 'pg-cursor';
import type { DryRunRules, WriteTransaction } from '../write-batch.ts';

/** SQLSTATE 25001 active_sql_transaction: "… cannot run inside a transaction block" (VACUUM, CONCURRENTLY…). */
export const NO_TRANSACTION_BLOCK = '25001';

/** A statement in the extended protocol: one statement per call, so a statement list can never smuggle a COMMIT. */
export const extended = (text: string): pg.QueryConfig => ({ text, queryMode: 'extended' }) as pg.QueryConfig;

/** DDL is transactional here, so only `other` statements (their effects can escape) are not tried. */
export const POSTGRES_DRY_RUN_RULES: DryRunRules = {
  cannotTry: (statement) =>
    statement.verdict === 'other'
      ? `${statement.type} can act outside a transaction (locks, settings, maintenance or server functions), so it cannot be tried and rolled back; it was not run.`
      : undefined,
  untriable: (error) =>
    (error as { code?: unknown } | null)?.code === NO_TRANSACTION_BLOCK
      ? 'PostgreSQL cannot run it inside a transaction, so it cannot be tried and rolled back; it was not run.'
      : undefined,
};

/** The batch runner's view of an open transaction: reads fetch one row (a cursor), writes report rowCount. */
export function postgresWriteTransaction(client: pg.PoolClient): WriteTransaction {
  return {
    run: async (statement) => {
      if (statement.verdict === 'read') {
        // A read changes nothing: one row proves it runs, without buffering a large result.
        const cursor = client.query(new Cursor(statement.sql, undefined, { rowMode: 'array' }));
        await new Promise<void>((resolve, reject) =>
          cursor.read(1, (error) => (error ? reject(error) : resolve())),
        );
        await cursor.close();
        return 0;
      }
      return (await client.query(extended(statement.sql))).rowCount ?? 0;
    },
    // EXPLAIN inside a savepoint: a failing EXPLAIN would otherwise abort the whole transaction.
    estimate: async (statement) => {
      await client.query('SAVEPOINT threadql_explain');
      try {
        const result = await client.query<{ 'QUERY PLAN': unknown }>(
          extended(`EXPLAIN (FORMAT JSON) ${statement.sql}`),
        );
        await client.query('RELEASE SAVEPOINT threadql_explain');
        return planRows(result.rows[0]?.['QUERY PLAN']);
      } catch {
        await client.query('ROLLBACK TO SAVEPOINT threadql_explain');
        return undefined;
      }
    },
  };
}

/** Rows the plan expects to touch: below a ModifyTable node, the rows its input produces. */
function planRows(plan: unknown): number | undefined {
  const top = (Array.isArray(plan) ? (plan[0] as { Plan?: unknown })?.Plan : undefined) as
    { 'Node Type'?: string; 'Plan Rows'?: number; Plans?: { 'Plan Rows'?: number }[] } | undefined;
  if (!top) return undefined;
  const rows = top['Node Type'] === 'ModifyTable' ? top.Plans?.[0]?.['Plan Rows'] : top['Plan Rows'];
  return typeof rows === 'number' ? rows : undefined;
}
