/**
 * MySQL/MariaDB's side of the shared write path (core/db/write-batch.ts). MySQL commits DDL (and many other
 * statements) implicitly and some table engines cannot roll back, so: only DML is dry-run, only DML runs in a
 * transaction, a batch mixing DML with implicitly-committing statements is refused, and the result says plainly
 * what could not be undone.
 */
import type { PoolConnection } from 'mysql2';
import type { Verdict } from '../../safety/verdict.ts';
import { planWriteBatch, type DryRunRules, type WritePlan, type WriteTransaction } from '../write-batch.ts';
import { rowReader, run } from './mysql-query.ts';

const TRANSACTIONAL_ENGINES = ['INNODB', 'ROCKSDB', 'TOKUDB'];
const DRAIN_BATCH = 1000;

export interface FixedTable {
  name: string;
  engine: string;
}

/**
 * The shared plan, plus MySQL's own refusal: DDL (and most other statements) commit implicitly, so a batch that
 * mixes them with DML could neither be dry-run nor rolled back as one unit.
 */
export function mysqlPlan(text: string, verdict: Verdict): WritePlan {
  const plan = planWriteBatch(text, verdict);
  if ('unrunnable' in plan) return plan;
  const dml = plan.statements.some((s) => s.verdict === 'write');
  const implicit = plan.statements.filter((s) => s.verdict === 'ddl' || s.verdict === 'other');
  if (dml && implicit.length > 0) {
    return {
      unrunnable: `MySQL and MariaDB commit ${implicit.map((s) => s.type).join(', ')} implicitly, so this batch cannot run as one unit with its data changes; request the schema change and the data change separately.`,
    };
  }
  return plan;
}

/** Only DML is tried, and only on tables that can roll back. */
export function mysqlDryRunRules(fixed: readonly FixedTable[]): DryRunRules {
  return {
    cannotTry: (s) => {
      if (s.verdict === 'ddl')
        return 'MySQL and MariaDB commit DDL implicitly, so it cannot be tried and rolled back; it was not run.';
      if (s.verdict === 'other')
        return `A ${s.type} statement may commit implicitly or act outside a transaction on MySQL and MariaDB, so it cannot be tried and rolled back; it was not run.`;
      const named = fixed.filter((t) => mentions(s.sql, t.name));
      if (named.length === 0) return undefined;
      return `${tableList(named)} cannot roll back changes, so it was not tried.`;
    },
  };
}

/** What the thread should know about an executed batch that was not fully atomic. */
export function executionNote(transactional: boolean, named: readonly FixedTable[]): string | undefined {
  if (!transactional)
    return 'MySQL and MariaDB commit DDL implicitly: it cannot be rolled back, and had a statement failed, the ones before it would have stayed applied.';
  return named.length
    ? `${tableList(named)} cannot roll back changes, so a failure part-way would have left earlier changes in place.`
    : undefined;
}

/** Base tables of the current database whose engine cannot roll back (MyISAM, Aria, MEMORY…). */
export async function nonTransactionalTables(conn: PoolConnection): Promise<FixedTable[]> {
  return (await run(
    conn,
    `SELECT TABLE_NAME AS name, ENGINE AS engine FROM information_schema.TABLES
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND ENGINE IS NOT NULL
       AND UPPER(ENGINE) NOT IN (${TRANSACTIONAL_ENGINES.map((e) => `'${e}'`).join(', ')})`,
  )) as FixedTable[];
}

/** The batch runner's view of the open transaction: reads are drained (never buffered), DML reports affectedRows. */
export function mysqlWriteTransaction(conn: PoolConnection): WriteTransaction {
  return {
    run: async (statement) => {
      if (statement.verdict === 'read') {
        // Drained, not skipped: a read may set a user variable (SELECT @x := …) that a later statement uses.
        const reader = rowReader(conn, statement.sql, DRAIN_BATCH);
        while (!(await reader.next(DRAIN_BATCH)).done);
        return 0;
      }
      return ((await run(conn, statement.sql)) as { affectedRows?: number }).affectedRows ?? 0;
    },
    estimate: async (statement) => {
      try {
        const rows = (await run(conn, `EXPLAIN ${statement.sql}`)) as Record<string, unknown>[];
        const estimates = rows.map((r) => Number(r.rows)).filter((n) => Number.isFinite(n) && n > 0);
        return estimates.length ? Math.max(...estimates) : undefined;
      } catch {
        // MySQL keeps the transaction open after a failed statement, so a refused EXPLAIN costs nothing.
        return undefined;
      }
    },
  };
}

/** True when `sql` names `table` as an identifier (bare or back-quoted), case-insensitively. */
export function mentions(sql: string, table: string): boolean {
  const escaped = table.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_$])\`?${escaped}\`?($|[^A-Za-z0-9_$])`, 'i').test(sql);
}

function tableList(tables: readonly FixedTable[]): string {
  return tables.map((t) => `${t.name} (${t.engine})`).join(', ');
}
