import type { ColumnInfo, IndexInfo, SchemaSnapshot, TableInfo } from '../database-dialect.ts';
import { groupBy, relationshipsFromForeignKeys } from '../relationships.ts';

type Row = Record<string, unknown>;

const USER_OBJECTS = `m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'`;

/** Three catalog queries: sqlite_master joined with the pragma table functions, whatever the number of tables. */
export const SQLITE_CATALOG_QUERIES = [
  `SELECT m.name AS tbl, m.type AS kind, p.cid, p.name, p.type, p."notnull" AS not_null, p.dflt_value AS dflt, p.pk
   FROM sqlite_master m JOIN pragma_table_info(m.name) p
   WHERE m.type IN ('table', 'view') AND ${USER_OBJECTS}
   ORDER BY m.name, p.cid`,
  `SELECT m.name AS tbl, f.id, f.seq, f."table" AS ref_table, f."from" AS col, f."to" AS ref_col
   FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
   WHERE m.type = 'table' AND ${USER_OBJECTS}
   ORDER BY m.name, f.id, f.seq`,
  `SELECT m.name AS tbl, il.name AS idx, il."unique" AS uniq, il.origin, ii.seqno, ii.name AS col
   FROM sqlite_master m JOIN pragma_index_list(m.name) il JOIN pragma_index_info(il.name) ii
   WHERE m.type = 'table' AND ${USER_OBJECTS}
   ORDER BY m.name, il.name, ii.seqno`,
];

const str = (v: unknown): string => String(v);

/** Builds the snapshot from the rows of SQLITE_CATALOG_QUERIES (run in the worker process). */
export function sqliteSnapshot([columnRows = [], fkRows = [], indexRows = []]: Row[][]): SchemaSnapshot {
  const fksBy = groupBy(fkRows, (r) => str(r.tbl));
  const indexesBy = groupBy(indexRows, (r) => str(r.tbl));
  const tables: TableInfo[] = [...groupBy(columnRows, (r) => str(r.tbl)).entries()].map(([name, cols]) => {
    const primaryKey = cols
      .filter((c) => Number(c.pk) > 0)
      .sort((a, b) => Number(a.pk) - Number(b.pk))
      .map((c) => str(c.name));
    const columns: ColumnInfo[] = cols.map((c) => {
      const type = str(c.type ?? '');
      const pk = Number(c.pk) > 0;
      return {
        name: str(c.name),
        type,
        // An INTEGER PRIMARY KEY is the rowid: never NULL even without NOT NULL.
        nullable:
          Number(c.not_null) === 0 && !(pk && primaryKey.length === 1 && type.toUpperCase() === 'INTEGER'),
        defaultValue: c.dflt === null || c.dflt === undefined ? null : str(c.dflt),
        isPrimaryKey: pk,
      };
    });
    const indexes: IndexInfo[] = [...groupBy(indexesBy.get(name) ?? [], (r) => str(r.idx)).entries()].map(
      ([idx, parts]) => ({
        name: idx,
        columns: parts.map((p) => (p.col === null ? '(expression)' : str(p.col))),
        unique: Number(parts[0]?.uniq) === 1,
        primary: parts[0]?.origin === 'pk',
        ...(parts[0]?.origin === 'u' ? { constraint: true } : {}),
      }),
    );
    const foreignKeys = [...groupBy(fksBy.get(name) ?? [], (r) => str(r.id)).values()].map((parts) => {
      const referencedTable = str(parts[0]?.ref_table);
      // `REFERENCES t` without columns means t's primary key; resolved below once every table is known.
      const referencedColumns = parts.map((p) => (p.ref_col === null ? '' : str(p.ref_col)));
      return { columns: parts.map((p) => str(p.col)), referencedTable, referencedColumns };
    });
    return {
      name,
      kind: cols[0]?.kind === 'view' ? 'view' : 'table',
      columns,
      primaryKey,
      foreignKeys,
      indexes,
    };
  });
  const byName = new Map(tables.map((t) => [t.name.toLowerCase(), t]));
  for (const table of tables) {
    for (const fk of table.foreignKeys) {
      if (fk.referencedColumns.some((c) => c === '')) {
        fk.referencedColumns =
          byName.get(fk.referencedTable.toLowerCase())?.primaryKey ?? fk.referencedColumns;
      }
    }
  }
  return {
    databaseType: 'sqlite',
    tables,
    relationships: relationshipsFromForeignKeys(tables),
    introspectedAt: new Date(),
    catalogQueries: SQLITE_CATALOG_QUERIES.length,
  };
}
