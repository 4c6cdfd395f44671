import type { SchemaSnapshot, TableInfo } from '../../core/db/database-dialect.ts';
import { mermaidId, mermaidType, neighbourhood, schemaToMermaid } from '../../renderers/erd/erd-mermaid.ts';
import { syntheticSchema } from './fixtures/synthetic-schema.ts';

function table(
  name: string,
  columns: [string, string, boolean?][],
  extra: Partial<TableInfo> = {},
): TableInfo {
  return {
    name,
    kind: 'table',
    columns: columns.map(([n, type, nullable]) => ({
      name: n,
      type,
      nullable: nullable ?? false,
      isPrimaryKey: n === 'id',
    })),
    primaryKey: columns.some(([n]) => n === 'id') ? ['id'] : [],
    foreignKeys: [],
    indexes: [],
    ...extra,
  };
}

const shop: SchemaSnapshot = {
  databaseType: 'postgres',
  introspectedAt: new Date(0),
  catalogQueries: 4,
  tables: [
    table(
      'customers',
      [
        ['id', 'bigint'],
        ['email', 'character varying(255)'],
        ['created_at', 'timestamp with time zone'],
      ],
      { indexes: [{ name: 'customers_email_key', columns: ['email'], unique: true, primary: false }] },
    ),
    table(
      'orders',
      [
        ['id', 'bigint'],
        ['customer_id', 'bigint'],
        ['coupon_id', 'bigint', true],
      ],
      {
        foreignKeys: [
          { columns: ['customer_id'], referencedTable: 'customers', referencedColumns: ['id'] },
          { columns: ['coupon_id'], referencedTable: 'coupons', referencedColumns: ['id'] },
        ],
      },
    ),
    table(
      'payments',
      [
        ['id', 'bigint'],
        ['order_id', 'bigint'],
      ],
      {
        foreignKeys: [{ columns: ['order_id'], referencedTable: 'orders', referencedColumns: ['id'] }],
        indexes: [{ name: 'payments_order_id_key', columns: ['order_id'], unique: true, primary: false }],
      },
    ),
    table('coupons', [['id', 'bigint']]),
    table(
      'refunds',
      [
        ['id', 'bigint'],
        ['payment_id', 'bigint'],
      ],
      { foreignKeys: [{ columns: ['payment_id'], referencedTable: 'payments', referencedColumns: ['id'] }] },
    ),
    table('audit_log', [['id', 'bigint']]),
  ],
  relationships: [
    {
      fromTable: 'orders',
      fromColumns: ['customer_id'],
      toTable: 'customers',
      toColumns: ['id'],
      cardinality: 'many-to-one',
    },
    {
      fromTable: 'orders',
      fromColumns: ['coupon_id'],
      toTable: 'coupons',
      toColumns: ['id'],
      cardinality: 'many-to-one',
    },
    {
      fromTable: 'payments',
      fromColumns: ['order_id'],
      toTable: 'orders',
      toColumns: ['id'],
      cardinality: 'one-to-one',
    },
    {
      fromTable: 'refunds',
      fromColumns: ['payment_id'],
      toTable: 'payments',
      toColumns: ['id'],
      cardinality: 'many-to-one',
    },
  ],
};

describe('schemaToMermaid', () => {
  it('writes every table with typed columns and PK/FK/UK markers', () => {
    const { mermaid, tables, relationships, missing } = schemaToMermaid(shop);
    expect(mermaid.startsWith('erDiagram\n')).toBe(true);
    expect(tables).toEqual(['customers', 'orders', 'payments', 'coupons', 'refunds', 'audit_log']);
    expect(relationships).toBe(4);
    expect(missing).toEqual([]);
    expect(mermaid).toContain(
      '  customers {\n    bigint id PK\n    varchar(255) email UK\n    timestamptz created_at\n  }',
    );
    expect(mermaid).toContain('    bigint customer_id FK\n');
    expect(mermaid).toContain('    bigint order_id FK, UK\n');
  });

  it('draws cardinalities from the FK side: many-to-one, optional parent, one-to-one', () => {
    const { mermaid } = schemaToMermaid(shop);
    expect(mermaid).toContain('  orders }o--|| customers : "customer_id"');
    expect(mermaid).toContain('  orders }o--o| coupons : "coupon_id"');
    expect(mermaid).toContain('  payments |o--|| orders : "order_id"');
  });

  it('limits the diagram to the FK neighbourhood of given tables, depth 1 or 2', () => {
    expect(schemaToMermaid(shop, { tables: ['orders'] }).tables).toEqual([
      'customers',
      'orders',
      'payments',
      'coupons',
    ]);
    expect(schemaToMermaid(shop, { tables: ['ORDERS'], depth: 2 }).tables).toEqual([
      'customers',
      'orders',
      'payments',
      'coupons',
      'refunds',
    ]);
    const one = schemaToMermaid(shop, { tables: ['refunds'] });
    expect(one.tables).toEqual(['payments', 'refunds']);
    expect(one.mermaid).not.toContain('orders');
    expect(one.relationships).toBe(1);
    expect(schemaToMermaid(shop, { tables: ['audit_log', 'nope'] })).toMatchObject({
      tables: ['audit_log'],
      missing: ['nope'],
    });
    expect(() => schemaToMermaid(shop, { tables: ['nope'] })).toThrow(
      expect.objectContaining({ code: 'not_found' }),
    );
    expect([...neighbourhood(shop, ['coupons'], 2)].sort()).toEqual([
      'coupons',
      'customers',
      'orders',
      'payments',
    ]);
  });

  it('sanitises odd identifiers and keeps the original as a label', () => {
    const odd: SchemaSnapshot = {
      ...shop,
      tables: [
        table('order items', [
          ['id', 'int'],
          ['qty "x"', 'numeric(10,2)'],
          ['{brace}', 'int[]'],
          ['ünïcödé', 'text'],
          ['1st', 'USER-DEFINED'],
        ]),
        table('sales.orders', [['id', 'int']]),
        table('Orders', [['id', 'int']]),
        table('orders', [['id', 'int']]),
      ],
      relationships: [
        {
          fromTable: 'order items',
          fromColumns: ['id'],
          toTable: 'sales.orders',
          toColumns: ['id'],
          cardinality: 'one-to-one',
        },
      ],
    };
    const { mermaid } = schemaToMermaid(odd);
    expect(mermaid).toContain('  order_items["order items"] {');
    expect(mermaid).toContain(`    numeric(10_2) qty_x "qty 'x'"`);
    expect(mermaid).toContain('    int[] _brace "{brace}"');
    expect(mermaid).toContain('    text unicode "ünïcödé"');
    expect(mermaid).toContain('    USER-DEFINED _1st "1st"');
    expect(mermaid).toContain('  sales_orders["sales.orders"] {');
    expect(mermaid).toContain('  Orders {');
    expect(mermaid).toContain('  orders_2["orders"] {');
    expect(mermaid).toContain('  order_items |o--|| sales_orders : "id"');
    // Nothing in an entity or attribute position holds characters outside mermaid's identifier grammar.
    const tokens = mermaid
      .replace(/"[^"]*"/g, '')
      .split(/\s+/)
      .filter((t) => t && t !== 'erDiagram');
    for (const token of tokens) expect(token).toMatch(/^([A-Za-z_][\w()[\]-]*,?|[{}:]|[|}][o|]--[o|][|{])$/);
  });

  it('shows key columns first when a table has more columns than the limit', () => {
    const wide = table(
      'wide',
      [
        ['id', 'int'],
        ...Array.from({ length: 30 }, (_, i) => [`c${i}`, 'text'] as [string, string]),
        ['parent_id', 'int'],
      ],
      { foreignKeys: [{ columns: ['parent_id'], referencedTable: 'wide', referencedColumns: ['id'] }] },
    );
    const { mermaid } = schemaToMermaid(
      { ...shop, tables: [wide], relationships: [] },
      { maxColumnsPerTable: 5 },
    );
    expect(mermaid).toContain('    int parent_id FK\n');
    expect(mermaid).toContain('    more columns "+27 more columns"\n');
    expect(mermaid.split('\n').filter((l) => /^ {4}text c\d+$/.test(l))).toHaveLength(3);
  });

  it('scales to large schemas', () => {
    const big = schemaToMermaid(syntheticSchema(60));
    expect(big.tables).toHaveLength(60);
    expect(big.relationships).toBeGreaterThan(60);
  });
});

describe('mermaid identifiers', () => {
  it('never end in an underscore (mermaid would read _x_ as italics) and never start with a digit', () => {
    expect(mermaidId('_secret_')).toBe('_secret');
    expect(mermaidId('2024 sales')).toBe('_2024_sales');
    expect(mermaidId('***')).toBe('unnamed');
    expect(mermaidType('timestamp(3) without time zone')).toBe('timestamp(3)');
    expect(mermaidType('double precision')).toBe('double');
    expect(mermaidType('"quoted type"')).toBe('quoted_type');
  });
});
