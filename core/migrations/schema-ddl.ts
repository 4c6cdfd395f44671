/**
 * DDL that recreates an introspected schema (tables, columns, primary keys, indexes, unique constraints, foreign
 * keys) on an empty database of the same engine: how a shadow database gets the target's shape, as Atlas's dev
 * database does. A snapshot is not a dump: views, CHECK constraints, triggers, partial-index predicates, index
 * methods and engine options are not in it, so they are not recreated (the notes say so).
 */
import type { ColumnInfo, IndexInfo, SchemaSnapshot, TableInfo } from '../db/database-dialect.ts';
import type { SqlDialect } from '../safety/classify-sql.ts';
import { userTables } from '../schema/schema-diff.ts';

export interface DdlStatement {
  sql: string;
  /** What it creates, for notes when it fails: `table orders`, `index orders_status_idx`. */
  what: string;
  /** For a table: the same statement without column defaults, tried when the full one fails. */
  withoutDefaults?: string;
}

export interface DdlPlan {
  /** Schemas and sequences, then tables, then indexes, then foreign keys (every table exists by then). */
  statements: DdlStatement[];
  notes: string[];
}

export interface DdlOptions {
  /** The type to declare for a column (PostgreSQL: user-defined types missing on the shadow become text). */
  typeOf?: (column: ColumnInfo) => string;
}

/** Quotes an identifier for the dialect. */
export function quoteIdent(name: string, dialect: SqlDialect): string {
  return dialect === 'mysql' ? `\`${name.replace(/`/g, '``')}\`` : `"${name.replace(/"/g, '""')}"`;
}

/** The table's own name without its schema prefix (PostgreSQL names tables outside `public` as `schema.name`). */
function bareName(table: Pick<TableInfo, 'schema' | 'name'>): string {
  return table.schema && table.name.startsWith(`${table.schema}.`)
    ? table.name.slice(table.schema.length + 1)
    : table.name;
}

function tableRef(table: Pick<TableInfo, 'schema' | 'name'>, dialect: SqlDialect): string {
  const own = quoteIdent(bareName(table), dialect);
  return dialect === 'postgres' && table.schema && table.schema !== 'public'
    ? `${quoteIdent(table.schema, dialect)}.${own}`
    : own;
}

/** A referenced table by its snapshot name: found in the snapshot, or split at the first dot. */
function referencedRef(name: string, tables: readonly TableInfo[], dialect: SqlDialect): string {
  const found = tables.find((t) => t.name === name);
  if (found) return tableRef(found, dialect);
  const dot = name.indexOf('.');
  return dot > 0 && dialect === 'postgres'
    ? `${quoteIdent(name.slice(0, dot), dialect)}.${quoteIdent(name.slice(dot + 1), dialect)}`
    : quoteIdent(name, dialect);
}

const cols = (names: readonly string[], dialect: SqlDialect): string =>
  names.map((n) => quoteIdent(n, dialect)).join(', ');

/** A default as DDL: MySQL 8 reports string defaults unquoted, MariaDB quoted; SQLite's may be any expression. */
function defaultSql(column: ColumnInfo, dialect: SqlDialect): string | undefined {
  const value = column.defaultValue;
  if (value === null || value === undefined) return undefined;
  if (dialect === 'sqlite') return `(${value})`;
  if (dialect === 'mysql') {
    if (value === 'NULL') return undefined;
    const literalOrCall =
      /^'.*'$/s.test(value) ||
      /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value) ||
      /^(current_timestamp|now|localtimestamp)(\(\d*\))?$/i.test(value) ||
      /^[a-z_]+\(.*\)$/i.test(value);
    return literalOrCall ? value : `'${value.replace(/'/g, "''")}'`;
  }
  return value;
}

function columnSql(column: ColumnInfo, dialect: SqlDialect, options: DdlOptions, defaults: boolean): string {
  const type = options.typeOf?.(column) ?? column.type;
  const parts = [quoteIdent(column.name, dialect)];
  if (type.trim() !== '') parts.push(type);
  if (!column.nullable) parts.push('NOT NULL');
  const dflt = defaults ? defaultSql(column, dialect) : undefined;
  if (dflt !== undefined) parts.push(`DEFAULT ${dflt}`);
  return parts.join(' ');
}

/** Index key parts: column names quoted; PostgreSQL expression parts (not a column of the table) kept as written. */
function indexParts(index: IndexInfo, table: TableInfo, dialect: SqlDialect): string | undefined {
  const names = new Set(table.columns.map((c) => c.name));
  const parts: string[] = [];
  for (const part of index.columns) {
    if (names.has(part)) parts.push(quoteIdent(part, dialect));
    else if (dialect === 'postgres') parts.push(`(${part})`);
    else return undefined;
  }
  return parts.join(', ');
}

function createTable(table: TableInfo, dialect: SqlDialect, options: DdlOptions, defaults: boolean): string {
  const lines = table.columns.map((c) => `  ${columnSql(c, dialect, options, defaults)}`);
  if (table.primaryKey.length > 0) lines.push(`  PRIMARY KEY (${cols(table.primaryKey, dialect)})`);
  if (dialect === 'sqlite') {
    // SQLite cannot add a unique constraint or a foreign key later: both go inside CREATE TABLE.
    const autoIndexes = table.indexes
      .filter((i) => i.constraint && !i.primary)
      .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    for (const i of autoIndexes) lines.push(`  UNIQUE (${cols(i.columns, dialect)})`);
    for (const fk of table.foreignKeys) {
      lines.push(
        `  FOREIGN KEY (${cols(fk.columns, dialect)}) REFERENCES ${quoteIdent(fk.referencedTable, dialect)} (${cols(fk.referencedColumns, dialect)})`,
      );
    }
  }
  return `CREATE TABLE ${tableRef(table, dialect)} (\n${lines.join(',\n')}\n)`;
}

function sequencesOf(tables: readonly TableInfo[]): string[] {
  const names = new Set<string>();
  for (const t of tables) {
    for (const c of t.columns) {
      const m = /^nextval\('(.+)'::regclass\)$/.exec(c.defaultValue ?? '');
      if (m?.[1]) names.add(m[1].replace(/''/g, "'"));
    }
  }
  return [...names];
}

/** The statements that recreate `snapshot`'s tables on an empty database of the dialect, with what they skip. */
export function schemaToDdl(
  snapshot: SchemaSnapshot,
  dialect: SqlDialect,
  options: DdlOptions = {},
): DdlPlan {
  const tables = userTables(snapshot).filter((t) => t.kind === 'table');
  const views = userTables(snapshot).filter((t) => t.kind === 'view');
  const statements: DdlStatement[] = [];
  const notes: string[] = [];
  if (views.length > 0) {
    notes.push(
      `views are not recreated in the shadow (${views.map((v) => v.name).join(', ')}): a snapshot has no view definitions`,
    );
  }
  if (dialect === 'postgres') {
    const schemas = [...new Set(tables.map((t) => t.schema).filter((s) => s && s !== 'public'))] as string[];
    for (const schema of schemas)
      statements.push({
        sql: `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema, dialect)}`,
        what: `schema ${schema}`,
      });
    for (const sequence of sequencesOf(tables))
      statements.push({ sql: `CREATE SEQUENCE IF NOT EXISTS ${sequence}`, what: `sequence ${sequence}` });
  }
  for (const table of tables) {
    statements.push({
      sql: createTable(table, dialect, options, true),
      withoutDefaults: createTable(table, dialect, options, false),
      what: `table ${table.name}`,
    });
  }
  for (const table of tables) {
    for (const index of table.indexes) {
      if (index.primary || (dialect === 'sqlite' && index.constraint)) continue;
      // MySQL creates an index named after a foreign key when it has none to use, and silently drops it once
      // another index covers the key; leaving that one to the FOREIGN KEY keeps the shadow behaving the same.
      if (dialect === 'mysql' && table.foreignKeys.some((fk) => fk.name === index.name)) continue;
      const parts = indexParts(index, table, dialect);
      if (parts === undefined) {
        notes.push(
          `index ${index.name} is on an expression the snapshot does not hold, so it is not in the shadow`,
        );
        continue;
      }
      const name = quoteIdent(index.name, dialect);
      const sql =
        dialect === 'postgres' && index.constraint
          ? `ALTER TABLE ${tableRef(table, dialect)} ADD CONSTRAINT ${name} UNIQUE (${parts})`
          : `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${name} ON ${tableRef(table, dialect)} (${parts})`;
      statements.push({ sql, what: `index ${index.name}` });
    }
  }
  if (dialect !== 'sqlite') {
    for (const table of tables) {
      for (const fk of table.foreignKeys) {
        if (dialect === 'mysql' && fk.referencedTable.includes('.')) {
          notes.push(`foreign key ${fk.name ?? ''} points into another database, so it is not in the shadow`);
          continue;
        }
        const constraint = fk.name ? `CONSTRAINT ${quoteIdent(fk.name, dialect)} ` : '';
        statements.push({
          sql: `ALTER TABLE ${tableRef(table, dialect)} ADD ${constraint}FOREIGN KEY (${cols(fk.columns, dialect)}) REFERENCES ${referencedRef(fk.referencedTable, tables, dialect)} (${cols(fk.referencedColumns, dialect)})`,
          what: `foreign key ${fk.name ?? `${table.name} (${fk.columns.join(', ')})`}`,
        });
      }
    }
  }
  return { statements, notes };
}
