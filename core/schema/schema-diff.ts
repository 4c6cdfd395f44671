/**
 * What changed between two introspected schemas, object by object (tables, views, columns, primary keys,
 * indexes, foreign keys), in a form both people ("index orders_customer_id_idx added") and the ERD diff can use.
 * Row estimates, introspection times and column order are not schema and are ignored.
 */
import type {
  ColumnInfo,
  ForeignKeyInfo,
  IndexInfo,
  SchemaSnapshot,
  TableInfo,
} from '../db/database-dialect.ts';

export type SchemaObjectKind = 'table' | 'view' | 'column' | 'primary key' | 'index' | 'foreign key';

export interface SchemaChange {
  kind: SchemaObjectKind;
  change: 'added' | 'removed' | 'changed';
  /** The table the object belongs to (for a table or view: itself). */
  table: string;
  /** Column or index name; a foreign key's name or, unnamed (SQLite), its columns; the table name for tables. */
  name: string;
  /** Shown after the object's name, e.g. `(customer_id)` or `(customer_id → customers.id)`. */
  shape?: string;
  /** For `changed`: what differs, e.g. `type integer → bigint`. */
  detail?: string;
}

/** Tables threadql keeps in a target or shadow database for itself; never part of a schema comparison. */
export const THREADQL_TABLES = ['threadql_schema_history', 'threadql_shadow'];

/** True for threadql's own bookkeeping tables (any schema). */
export function isThreadqlTable(name: string): boolean {
  return THREADQL_TABLES.includes(name.split('.').pop()!.toLowerCase());
}

/** The user's tables of a snapshot, threadql's own left out. */
export function userTables(schema: SchemaSnapshot | readonly TableInfo[]): TableInfo[] {
  const tables = 'tables' in schema ? schema.tables : schema;
  return tables.filter((t) => !isThreadqlTable(t.name));
}

const list = (values: readonly string[]): string => values.join(', ');

function fkShape(fk: ForeignKeyInfo): string {
  return `(${list(fk.columns)} → ${fk.referencedTable}.${fk.referencedColumns.length === 1 ? fk.referencedColumns[0] : `(${list(fk.referencedColumns)})`})`;
}

function fkKey(fk: ForeignKeyInfo): string {
  return fk.name ?? fkShape(fk);
}

function columnDifferences(a: ColumnInfo, b: ColumnInfo): string[] {
  const out: string[] = [];
  if (a.type !== b.type) out.push(`type ${a.type} → ${b.type}`);
  if (a.nullable !== b.nullable) out.push(a.nullable ? 'nullable → NOT NULL' : 'NOT NULL → nullable');
  const da = a.defaultValue ?? null;
  const db = b.defaultValue ?? null;
  if (da !== db) out.push(`default ${da ?? 'none'} → ${db ?? 'none'}`);
  if ((a.comment ?? null) !== (b.comment ?? null)) out.push('comment changed');
  return out;
}

function indexDifferences(a: IndexInfo, b: IndexInfo): string[] {
  const out: string[] = [];
  if (list(a.columns) !== list(b.columns)) out.push(`columns (${list(a.columns)}) → (${list(b.columns)})`);
  if (a.unique !== b.unique) out.push(a.unique ? 'unique → not unique' : 'not unique → unique');
  return out;
}

/** Pairs items of two lists by key and reports added, removed and changed ones. */
function pair<T>(
  before: readonly T[],
  after: readonly T[],
  key: (item: T) => string,
  emit: (change: 'added' | 'removed' | 'changed', item: T, other?: T) => void,
): void {
  const afterBy = new Map(after.map((item) => [key(item), item]));
  const beforeKeys = new Set(before.map(key));
  for (const item of before) {
    const other = afterBy.get(key(item));
    if (other === undefined) emit('removed', item);
    else emit('changed', item, other);
  }
  for (const item of after) if (!beforeKeys.has(key(item))) emit('added', item);
}

function tableChanges(a: TableInfo, b: TableInfo): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const table = b.name;
  if (a.kind !== b.kind) {
    changes.push({ kind: 'table', change: 'changed', table, name: table, detail: `${a.kind} → ${b.kind}` });
  }
  pair(
    a.columns,
    b.columns,
    (c) => c.name,
    (change, col, other) => {
      if (change !== 'changed') {
        changes.push({ kind: 'column', change, table, name: col.name, shape: col.type });
        return;
      }
      const diff = columnDifferences(col, other!);
      if (diff.length > 0)
        changes.push({ kind: 'column', change, table, name: col.name, detail: diff.join(', ') });
    },
  );
  if (list(a.primaryKey) !== list(b.primaryKey)) {
    const change = a.primaryKey.length === 0 ? 'added' : b.primaryKey.length === 0 ? 'removed' : 'changed';
    changes.push({
      kind: 'primary key',
      change,
      table,
      name: table,
      shape: `(${list(change === 'removed' ? a.primaryKey : b.primaryKey)})`,
      ...(change === 'changed' ? { detail: `(${list(a.primaryKey)}) → (${list(b.primaryKey)})` } : {}),
    });
  }
  // The primary key's own index is reported as the primary key.
  const indexes = (t: TableInfo) => t.indexes.filter((i) => !i.primary);
  pair(
    indexes(a),
    indexes(b),
    (i) => i.name,
    (change, index, other) => {
      if (change !== 'changed') {
        changes.push({ kind: 'index', change, table, name: index.name, shape: `(${list(index.columns)})` });
        return;
      }
      const diff = indexDifferences(index, other!);
      if (diff.length > 0)
        changes.push({ kind: 'index', change, table, name: index.name, detail: diff.join(', ') });
    },
  );
  pair(a.foreignKeys, b.foreignKeys, fkKey, (change, fk, other) => {
    if (change !== 'changed') {
      changes.push({ kind: 'foreign key', change, table, name: fkKey(fk), shape: fkShape(fk) });
      return;
    }
    if (fkShape(fk) !== fkShape(other!)) {
      changes.push({
        kind: 'foreign key',
        change,
        table,
        name: fkKey(fk),
        detail: `${fkShape(fk)} → ${fkShape(other!)}`,
      });
    }
  });
  return changes;
}

/** Every difference from `before` to `after` (threadql's own tables ignored), in a stable order. */
export function diffSchemas(
  before: SchemaSnapshot | readonly TableInfo[],
  after: SchemaSnapshot | readonly TableInfo[],
): SchemaChange[] {
  const changes: SchemaChange[] = [];
  pair(
    userTables(before),
    userTables(after),
    (t) => t.name,
    (change, table, other) => {
      if (change === 'changed') changes.push(...tableChanges(table, other!));
      else
        changes.push({
          kind: table.kind === 'view' ? 'view' : 'table',
          change,
          table: table.name,
          name: table.name,
        });
    },
  );
  return changes;
}

/** The tables a list of changes touches, in first-seen order. */
export function touchedTables(changes: readonly SchemaChange[]): string[] {
  return [...new Set(changes.map((c) => c.table))];
}

/** `index orders_customer_id_idx`, `column orders.customer_id`, `table orders`, `primary key of orders`. */
export function objectLabel(change: SchemaChange): string {
  switch (change.kind) {
    case 'table':
    case 'view':
      return `${change.kind} ${change.table}`;
    case 'column':
      return `column ${change.table}.${change.name}`;
    case 'primary key':
      return `primary key of ${change.table}`;
    case 'index':
      return `index ${change.name}`;
    case 'foreign key':
      return change.name.startsWith('(')
        ? `foreign key ${change.table} ${change.name}`
        : `foreign key ${change.name}`;
  }
}

/** One change as a phrase: "adds index orders_customer_id_idx on orders (customer_id)". */
export function describeChange(change: SchemaChange): string {
  const label = objectLabel(change);
  const where =
    change.kind === 'index' || change.kind === 'foreign key'
      ? ` on ${change.table}${change.shape && !change.name.startsWith('(') ? ` ${change.shape}` : ''}`
      : change.kind === 'column' && change.shape
        ? ` (${change.shape})`
        : change.kind === 'primary key' && change.shape
          ? ` ${change.shape}`
          : '';
  switch (change.change) {
    case 'added':
      return `adds ${label}${where}`;
    case 'removed':
      return `removes ${label}${where}`;
    case 'changed':
      return `changes ${label}: ${change.detail ?? 'definition differs'}`;
  }
}
