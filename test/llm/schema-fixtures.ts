import type {
  ColumnInfo,
  ForeignKeyInfo,
  SchemaSnapshot,
  TableInfo,
} from '../../core/db/database-dialect.ts';

function column(name: string, type: string, isPrimaryKey = false): ColumnInfo {
  return { name, type, nullable: !isPrimaryKey, isPrimaryKey };
}

function fk(columnName: string, referencedTable: string): ForeignKeyInfo {
  return { columns: [columnName], referencedTable, referencedColumns: ['id'] };
}

/** A table with an `id` primary key, the given columns, and FKs from `<x>_id` columns named in `refs`. */
export function table(
  name: string,
  columns: [string, string][],
  refs: Record<string, string> = {},
  rowEstimate?: number,
): TableInfo {
  const t: TableInfo = {
    name,
    kind: 'table',
    columns: [column('id', 'bigint', true), ...columns.map(([n, ty]) => column(n, ty))],
    primaryKey: ['id'],
    foreignKeys: Object.entries(refs).map(([c, target]) => fk(c, target)),
    indexes: [],
  };
  if (rowEstimate !== undefined) t.rowEstimate = rowEstimate;
  return t;
}

function snapshot(tables: TableInfo[]): SchemaSnapshot {
  return {
    databaseType: 'postgres',
    tables,
    relationships: tables.flatMap((t) =>
      t.foreignKeys.map((f) => ({
        fromTable: t.name,
        fromColumns: f.columns,
        toTable: f.referencedTable,
        toColumns: f.referencedColumns,
        cardinality: 'many-to-one' as const,
      })),
    ),
    introspectedAt: new Date('2026-01-01T00:00:00Z'),
    catalogQueries: 4,
  };
}

/** The shop tables every LLM test talks about. */
export function shopTables(): TableInfo[] {
  return [
    table('countries', [
      ['code', 'char(2)'],
      ['name', 'text'],
    ]),
    table(
      'addresses',
      [
        ['street', 'text'],
        ['city', 'text'],
        ['country_id', 'bigint'],
      ],
      { country_id: 'countries' },
    ),
    table(
      'customers',
      [
        ['email', 'text'],
        ['name', 'text'],
        ['signed_up_at', 'timestamptz'],
        ['country_id', 'bigint'],
      ],
      { country_id: 'countries' },
      12_000,
    ),
    table('categories', [['name', 'text']]),
    table(
      'products',
      [
        ['name', 'text'],
        ['price', 'numeric(10,2)'],
        ['category_id', 'bigint'],
      ],
      { category_id: 'categories' },
    ),
    table(
      'orders',
      [
        ['customer_id', 'bigint'],
        ['address_id', 'bigint'],
        ['status', 'text'],
        ['created_at', 'timestamptz'],
        ['total', 'numeric(12,2)'],
      ],
      { customer_id: 'customers', address_id: 'addresses' },
      250_000,
    ),
    table(
      'order_items',
      [
        ['order_id', 'bigint'],
        ['product_id', 'bigint'],
        ['quantity', 'integer'],
        ['unit_price', 'numeric(10,2)'],
      ],
      { order_id: 'orders', product_id: 'products' },
    ),
  ];
}

/** A small shop schema that fits any budget whole. */
export function shopSchema(): SchemaSnapshot {
  return snapshot(shopTables());
}

// A tiny deterministic PRNG (mulberry32) so the big schema is the same on every run.
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MODULES = [
  'ledger',
  'crm',
  'hr',
  'warehouse',
  'telemetry',
  'billing',
  'support',
  'marketing',
  'iam',
  'cms',
];
const NOUNS = ['entry', 'record', 'setting', 'snapshot', 'job', 'batch', 'token', 'event', 'rule', 'metric'];

/**
 * The shop tables among `total` tables of 15 columns each: enterprise filler (ledger_entry_0042, …) with a web of
 * foreign keys among themselves, and a few filler tables pointing at `customers` (incoming FK noise).
 */
export function bigSchema(total = 1_000): SchemaSnapshot {
  const random = prng(42);
  const tables = shopTables();
  const fillerCount = total - tables.length;
  const names: string[] = [];
  for (let i = 0; i < fillerCount; i++) {
    const module = MODULES[i % MODULES.length]!;
    const noun = NOUNS[Math.floor(i / MODULES.length) % NOUNS.length]!;
    names.push(`${module}_${noun}_${String(i).padStart(4, '0')}`);
  }
  names.forEach((name, i) => {
    const cols: [string, string][] = [];
    for (let c = 0; c < 12; c++)
      cols.push([`attr_${c}_value`, c % 3 === 0 ? 'integer' : c % 3 === 1 ? 'text' : 'timestamptz']);
    const refs: Record<string, string> = {};
    if (i > 0) {
      const target = names[Math.floor(random() * i)]!;
      cols.push(['parent_ref', 'bigint']);
      refs.parent_ref = target;
    }
    cols.push(['owner_ref', 'bigint']);
    if (i % 250 === 7) refs.owner_ref = 'customers';
    tables.push(table(name, cols, refs, Math.floor(random() * 100_000)));
  });
  return snapshot(tables);
}
