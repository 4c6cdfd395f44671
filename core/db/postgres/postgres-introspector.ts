import type {
  ColumnInfo,
  IndexInfo,
  IntrospectOptions,
  SchemaSnapshot,
  TableInfo,
} from '../database-dialect.ts';
import { groupBy, relationshipsFromForeignKeys } from '../relationships.ts';

/** Runs one catalog query and returns its rows as objects. */
export type CatalogQuery = (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

const RELKINDS = `('r','p','v','m','f')`;
// $1: text[] of schemas to include, or NULL for every non-system schema.
const SCHEMA_FILTER = `n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
  AND ($1::text[] IS NULL OR n.nspname = ANY($1::text[]))`;

const TABLES_SQL = `
SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind, c.reltuples::float8 AS estimate, ds.description AS comment
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description ds ON ds.objoid = c.oid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0
WHERE c.relkind IN ${RELKINDS} AND NOT c.relispartition AND ${SCHEMA_FILTER}
ORDER BY 1, 2`;

const COLUMNS_SQL = `
SELECT n.nspname AS schema, c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
  a.attnotnull AS notnull, pg_get_expr(d.adbin, d.adrelid) AS default, ds.description AS comment
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_description ds ON ds.objoid = c.oid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ${RELKINDS} AND NOT c.relispartition AND ${SCHEMA_FILTER}
ORDER BY 1, 2, a.attnum`;

const CONSTRAINTS_SQL = `
SELECT n.nspname AS schema, c.relname AS table, con.conname AS name, con.contype AS type,
  ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord)::text[] AS columns,
  fn.nspname AS ref_schema, fc.relname AS ref_table,
  ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
        JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord)::text[] AS ref_columns
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.contype IN ('p', 'f', 'u') AND ${SCHEMA_FILTER}
ORDER BY 1, 2, 3`;

const INDEXES_SQL = `
SELECT n.nspname AS schema, c.relname AS table, ic.relname AS name, i.indisunique AS unique, i.indisprimary AS primary,
  EXISTS (SELECT 1 FROM pg_constraint uc WHERE uc.conindid = i.indexrelid AND uc.contype = 'u') AS constraint,
  ARRAY(SELECT CASE WHEN i.indkey[k.ord - 1] = 0 THEN pg_get_indexdef(i.indexrelid, k.ord, true)
                    ELSE (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[k.ord - 1])
               END
        FROM generate_series(1, i.indnkeyatts) k(ord) ORDER BY k.ord)::text[] AS columns
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ${RELKINDS} AND ${SCHEMA_FILTER}
ORDER BY 1, 2, 3`;

/** `orders` in `public`, `sales.orders` elsewhere: the name users and the LLM write. */
export function qualifiedName(schema: string, name: string): string {
  return schema === 'public' ? name : `${schema}.${name}`;
}

const key = (row: Record<string, unknown>, field = 'table'): string =>
  `${String(row.schema)}\u0000${String(row[field])}`;
const str = (v: unknown): string => String(v);
const optionalStr = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/**
 * Introspects PostgreSQL with exactly four catalog queries (tables, columns, constraints, indexes), whatever the
 * number of tables.
 */
export async function introspectPostgres(
  query: CatalogQuery,
  options: IntrospectOptions = {},
): Promise<SchemaSnapshot> {
  const params = [options.schemas && options.schemas.length > 0 ? options.schemas : null];
  // Sequential on purpose: the four run on one connection inside one read-only transaction.
  const tableRows = await query(TABLES_SQL, params);
  const columnRows = await query(COLUMNS_SQL, params);
  const constraintRows = await query(CONSTRAINTS_SQL, params);
  const indexRows = await query(INDEXES_SQL, params);
  const columnsBy = groupBy(columnRows, (r) => key(r));
  const constraintsBy = groupBy(constraintRows, (r) => key(r));
  const indexesBy = groupBy(indexRows, (r) => key(r));

  const tables: TableInfo[] = tableRows.map((t) => {
    const k = key(t, 'name');
    const constraints = constraintsBy.get(k) ?? [];
    const primaryKey = (constraints.find((c) => c.type === 'p')?.columns as string[] | undefined) ?? [];
    const columns: ColumnInfo[] = (columnsBy.get(k) ?? []).map((c) => ({
      name: str(c.name),
      type: str(c.type),
      nullable: c.notnull !== true,
      defaultValue: optionalStr(c.default),
      isPrimaryKey: primaryKey.includes(str(c.name)),
      comment: optionalStr(c.comment),
    }));
    const indexes: IndexInfo[] = (indexesBy.get(k) ?? []).map((i) => ({
      name: str(i.name),
      columns: i.columns as string[],
      unique: i.unique === true,
      primary: i.primary === true,
      ...(i.constraint === true ? { constraint: true } : {}),
    }));
    const estimate = Number(t.estimate);
    return {
      schema: str(t.schema),
      name: qualifiedName(str(t.schema), str(t.name)),
      kind: t.kind === 'v' || t.kind === 'm' ? 'view' : 'table',
      columns,
      primaryKey,
      foreignKeys: constraints
        .filter((c) => c.type === 'f')
        .map((c) => ({
          name: str(c.name),
          columns: c.columns as string[],
          referencedTable: qualifiedName(str(c.ref_schema), str(c.ref_table)),
          referencedColumns: c.ref_columns as string[],
        })),
      indexes,
      // reltuples is -1 for a table never analysed: unknown, not empty.
      ...(estimate >= 0 ? { rowEstimate: Math.round(estimate) } : {}),
      comment: optionalStr(t.comment),
    };
  });
  return {
    databaseType: 'postgres',
    tables,
    relationships: relationshipsFromForeignKeys(tables),
    introspectedAt: new Date(),
    catalogQueries: 4,
  };
}
