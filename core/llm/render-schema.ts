import type { SchemaSnapshot, TableInfo } from '../db/database-dialect.ts';

/**
 * The compact one-line-per-table schema text the model reads:
 *   orders(id bigint PK, customer_id bigint FK→customers.id, status text, created_at timestamptz) ~12k rows -- comment
 * Terse on purpose: a 50-table schema fits in a few thousand tokens and the line format is easy for the model to scan.
 */

function clip(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

function approxRows(n: number): string {
  if (n >= 1_000_000) return `~${Math.round(n / 100_000) / 10}M rows`;
  if (n >= 1_000) return `~${Math.round(n / 1_000)}k rows`;
  return `~${n} rows`;
}

/** True when tables come from more than one schema/database, so names must be qualified to be unambiguous. */
export function needsQualifiedNames(snapshot: Pick<SchemaSnapshot, 'tables'>): boolean {
  const schemas = new Set(snapshot.tables.map((t) => t.schema ?? ''));
  return schemas.size > 1;
}

/** The name a query uses for a table: `schema.name` when qualified, else `name`. */
export function tableLabel(table: Pick<TableInfo, 'schema' | 'name'>, qualified: boolean): string {
  return qualified && table.schema ? `${table.schema}.${table.name}` : table.name;
}

/** One table as one line of compact schema text. */
export function renderTableLine(table: TableInfo, qualified: boolean): string {
  const fkByColumn = new Map<string, string>();
  for (const fk of table.foreignKeys) {
    fk.columns.forEach((column, i) => {
      fkByColumn.set(
        column,
        `${fk.referencedTable}.${fk.referencedColumns[i] ?? fk.referencedColumns[0] ?? '?'}`,
      );
    });
  }
  const pk = new Set(
    table.primaryKey.length
      ? table.primaryKey
      : table.columns.filter((c) => c.isPrimaryKey).map((c) => c.name),
  );
  const columns = table.columns.map((c) => {
    let text = `${c.name} ${c.type}`;
    if (pk.has(c.name)) text += ' PK';
    const fk = fkByColumn.get(c.name);
    if (fk) text += ` FK→${fk}`;
    if (c.masked) text += ' MASKED';
    if (c.comment) text += ` "${clip(c.comment, 60)}"`;
    return text;
  });
  const prefix = table.kind === 'view' ? 'view ' : table.kind === 'collection' ? 'collection ' : '';
  let line = `${prefix}${tableLabel(table, qualified)}(${columns.join(', ')})`;
  if (table.rowEstimate !== undefined && table.rowEstimate >= 0) line += ` ${approxRows(table.rowEstimate)}`;
  if (table.comment) line += ` -- ${clip(table.comment, 120)}`;
  return line;
}

/** Several tables as schema text, one line each, in the order given. */
export function renderTables(tables: readonly TableInfo[], qualified: boolean): string {
  return tables.map((t) => renderTableLine(t, qualified)).join('\n');
}
