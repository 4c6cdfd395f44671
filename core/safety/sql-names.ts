/**
 * The names a SQL text uses, as the dialect's own parser reads them (the same parsers the classifier uses): which
 * words are tables, columns and functions, which the statement itself defines (aliases, CTEs, window names), and
 * what kind of statement each is. Message intent (core/conversation/message-intent.ts) uses it to tell SQL from
 * English that happens to parse: `select all customers` parses, but `customers` is used as a column and is a table.
 */
import type { SqlDialect } from './classify-sql.ts';
import { readMysqlNames } from './sql-names-mysql.ts';
import { readPostgresNames } from './sql-names-postgres.ts';
import { readSqliteNames } from './sql-names-sqlite.ts';

/** How a name is used: looked up as a table or column, called as a function, or defined by the statement. */
export type SqlNameRole = 'table' | 'column' | 'function' | 'defined';

export interface SqlName {
  /** As written, quotes removed. */
  name: string;
  role: SqlNameRole;
  /** Qualified (`s.t`, `t.c`, `pg_catalog.f`): an identifier by its shape. */
  qualified: boolean;
}

/**
 * The kind of a statement, as far as intent cares: a query or DML statement (EXPLAIN of one included), a
 * DESCRIBE/EXPLAIN of a table, SHOW, SET, CALL, ANALYZE, or anything else (DDL, transactions, PRAGMA, GRANT…).
 */
export type SqlStatementKind = 'query' | 'describe' | 'show' | 'set' | 'call' | 'analyze' | 'other';

export interface SqlStatementNames {
  kind: SqlStatementKind;
  names: SqlName[];
  /** SHOW and SET: the setting or variable named (lower-case), when the parser names one. */
  setting?: string;
}

/** The names of every statement in `sql`, or undefined when the dialect's parser does not accept it. */
export async function readSqlNames(
  sql: string,
  dialect: SqlDialect,
): Promise<SqlStatementNames[] | undefined> {
  try {
    switch (dialect) {
      case 'postgres':
        return await readPostgresNames(sql);
      case 'mysql':
        return await readMysqlNames(sql);
      case 'sqlite':
        return readSqliteNames(sql);
    }
  } catch {
    return undefined;
  }
}

/** Collects names while a walker visits a statement. */
export class NameCollector {
  readonly names: SqlName[] = [];

  add(name: unknown, role: SqlNameRole, qualified = false): void {
    if (typeof name === 'string' && name !== '') this.names.push({ name, role, qualified });
  }

  /** A dotted name given as its parts (`[schema, table]`): the last part, qualified when there are more. */
  addParts(parts: readonly string[], role: SqlNameRole): void {
    if (parts.length > 0) this.add(parts[parts.length - 1], role, parts.length > 1);
  }
}

/** True for a plain object (an AST node). */
export function isNode(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
