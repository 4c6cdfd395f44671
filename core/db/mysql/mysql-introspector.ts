import type { ColumnInfo, IndexInfo, SchemaSnapshot, TableInfo } from '../database-dialect.ts';
import { groupBy, relationshipsFromForeignKeys } from '../relationships.ts';

/** Runs one catalog query and returns its rows as objects. */
export type CatalogQuery = (sql: string) => Promise<Record<string, unknown>[]>;

// Upper-case aliases: information_schema column names differ in case between MySQL and MariaDB.
const TABLES_SQL = `
SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, TABLE_TYPE AS type, TABLE_ROWS AS estimate, TABLE_COMMENT AS comment
FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME`;

const COLUMNS_SQL = `
SELECT TABLE_NAME AS tbl, COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable,
  COLUMN_DEFAULT AS dflt, COLUMN_COMMENT AS comment
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION`;

const FOREIGN_KEYS_SQL = `
SELECT TABLE_NAME AS tbl, CONSTRAINT_NAME AS name, COLUMN_NAME AS col, REFERENCED_TABLE_SCHEMA AS ref_db,
  REFERENCED_TABLE_NAME AS ref_table, REFERENCED_COLUMN_NAME AS ref_col
FROM information_schema.KEY_COLUMN_USAGE
WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`;

const INDEXES_SQL = `
SELECT TABLE_NAME AS tbl, INDEX_NAME AS name, NON_UNIQUE AS non_unique, COLUMN_NAME AS col
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`;

const str = (v: unknown): string => String(v);
const optionalStr = (v: unknown): string | null =>
  v === null || v === undefined || v === '' ? null : String(v);

/** Introspects the connection's database with four information_schema queries, whatever the number of tables. */
export async function introspectMysql(query: CatalogQuery): Promise<SchemaSnapshot> {
  const tableRows = await query(TABLES_SQL);
  const columnRows = await query(COLUMNS_SQL);
  const fkRows = await query(FOREIGN_KEYS_SQL);
  const indexRows = await query(INDEXES_SQL);
  const columnsBy = groupBy(columnRows, (r) => str(r.tbl));
  const fksBy = groupBy(fkRows, (r) => str(r.tbl));
  const indexesBy = groupBy(indexRows, (r) => str(r.tbl));

  const tables: TableInfo[] = tableRows.map((t) => {
    const name = str(t.name);
    const indexes: IndexInfo[] = [...groupBy(indexesBy.get(name) ?? [], (r) => str(r.name)).entries()].map(
      ([indexName, parts]) => ({
        name: indexName,
        // A functional key part has no column name; show it rather than drop it.
        columns: parts.map((p) => (p.col === null ? '(expression)' : str(p.col))),
        unique: Number(parts[0]?.non_unique) === 0,
        primary: indexName === 'PRIMARY',
      }),
    );
    const primaryKey = indexes.find((i) => i.primary)?.columns ?? [];
    const columns: ColumnInfo[] = (columnsBy.get(name) ?? []).map((c) => ({
      name: str(c.name),
      type: str(c.type),
      nullable: c.nullable === 'YES',
      defaultValue: c.dflt === null || c.dflt === undefined ? null : String(c.dflt),
      isPrimaryKey: primaryKey.includes(str(c.name)),
      comment: optionalStr(c.comment),
    }));
    const foreignKeys = [...groupBy(fksBy.get(name) ?? [], (r) => str(r.name)).entries()].map(
      ([fkName, parts]) => ({
        name: fkName,
        columns: parts.map((p) => str(p.col)),
        // A key into another database keeps that database's name.
        referencedTable:
          parts[0]?.ref_db === t.db
            ? str(parts[0]?.ref_table)
            : `${str(parts[0]?.ref_db)}.${str(parts[0]?.ref_table)}`,
        referencedColumns: parts.map((p) => str(p.ref_col)),
      }),
    );
    const isView = str(t.type).toUpperCase().includes('VIEW');
    const estimate = t.estimate === null || t.estimate === undefined ? undefined : Number(t.estimate);
    return {
      schema: str(t.db),
      name,
      kind: isView ? 'view' : 'table',
      columns,
      primaryKey,
      foreignKeys,
      indexes,
      ...(estimate === undefined || isView ? {} : { rowEstimate: estimate }),
      comment: optionalStr(t.comment),
    };
  });
  return {
    databaseType: 'mysql',
    tables,
    relationships: relationshipsFromForeignKeys(tables),
    introspectedAt: new Date(),
    catalogQueries: 4,
  };
}
