/**
 * The SQL classifier's front door (DESIGN §4): every statement of a batch is classified by a real parser for its
 * dialect, and the batch takes the most dangerous class. Whatever the parser does not fully understand is `other`.
 * This is one layer: a read still runs inside the database's own read-only scope, which catches the writes this
 * layer might miss, while this layer catches what read-only cannot (sleeps, kills, file access, locks).
 */
import { classifyMysql, splitMysqlStatements } from './classify-mysql.ts';
import { classifyPostgres, splitPostgres } from './classify-postgres.ts';
import { classifySqlite, splitSqliteStatements } from './classify-sqlite.ts';
import type { ClassifyOptions } from './function-policy.ts';
import type { Verdict } from './verdict.ts';

export type { ClassifyOptions } from './function-policy.ts';

export const SQL_DIALECTS = ['postgres', 'mysql', 'sqlite'] as const;
/** The SQL dialects the classifier knows; MariaDB uses `mysql`. */
export type SqlDialect = (typeof SQL_DIALECTS)[number];

/** True when `value` names a SQL dialect the classifier knows. */
export function isSqlDialect(value: string): value is SqlDialect {
  return (SQL_DIALECTS as readonly string[]).includes(value);
}

/** Classifies a batch of SQL: one verdict per statement, the batch taking the most dangerous class. */
export async function classifySql(
  sql: string,
  dialect: SqlDialect,
  options: ClassifyOptions = {},
): Promise<Verdict> {
  switch (dialect) {
    case 'postgres':
      return classifyPostgres(sql, options);
    case 'mysql':
      return classifyMysql(sql, options);
    case 'sqlite':
      return classifySqlite(sql, options);
  }
}

/**
 * Splits a batch into its statements' texts (trimmed), for display, using the dialect's parser (or, for MySQL, the
 * server's lexical rules). Text that does not parse comes back whole, as one entry; blank input gives none.
 */
export async function splitSqlStatements(sql: string, dialect: SqlDialect): Promise<string[]> {
  try {
    switch (dialect) {
      case 'postgres':
        return await splitPostgres(sql);
      case 'mysql':
        return splitMysqlStatements(sql);
      case 'sqlite':
        return splitSqliteStatements(sql);
    }
  } catch {
    return sql.trim() ? [sql.trim()] : [];
  }
}
