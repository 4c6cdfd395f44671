import type { RelationshipInfo, TableInfo } from './database-dialect.ts';

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((c) => b.includes(c));

/**
 * Relationships from foreign keys: one per FK, one-to-one when the FK columns are also the primary key or a
 * unique index of the referencing table (each row then points at a different parent), many-to-one otherwise.
 * Table names are the tables' `name` as introspected (qualified where the engine qualifies them).
 */
export function relationshipsFromForeignKeys(tables: readonly TableInfo[]): RelationshipInfo[] {
  const relationships: RelationshipInfo[] = [];
  for (const table of tables) {
    for (const fk of table.foreignKeys) {
      const unique =
        (table.primaryKey.length > 0 && sameSet(table.primaryKey, fk.columns)) ||
        table.indexes.some((i) => i.unique && sameSet(i.columns, fk.columns));
      relationships.push({
        ...(fk.name === undefined ? {} : { name: fk.name }),
        fromTable: table.name,
        fromColumns: fk.columns,
        toTable: fk.referencedTable,
        toColumns: fk.referencedColumns,
        cardinality: unique ? 'one-to-one' : 'many-to-one',
      });
    }
  }
  return relationships;
}

/** Groups rows by a key, keeping first-seen order (catalog rows arrive sorted; order is meaningful). */
export function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = groups.get(k);
    if (list) list.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}
