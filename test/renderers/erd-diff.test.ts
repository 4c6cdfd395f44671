import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import type { SchemaSnapshot, TableInfo } from '../../core/db/database-dialect.ts';
import { relationshipsFromForeignKeys } from '../../core/db/relationships.ts';
import { migrationErdDiff } from '../../renderers/erd/erd-diff.ts';
import { MermaidBrowser } from '../../renderers/erd/mermaid-browser.ts';
import { services } from '../support/services.ts';
import { svgLabels } from './support/svg-labels.ts';

function table(name: string, columns: [string, string][], extra: Partial<TableInfo> = {}): TableInfo {
  return {
    name,
    kind: 'table',
    columns: columns.map(([n, type]) => ({ name: n, type, nullable: n !== 'id', isPrimaryKey: n === 'id' })),
    primaryKey: ['id'],
    foreignKeys: [],
    indexes: [{ name: `${name}_pkey`, columns: ['id'], unique: true, primary: true }],
    ...extra,
  };
}

function snapshot(tables: TableInfo[]): SchemaSnapshot {
  return {
    databaseType: 'postgres',
    tables,
    relationships: relationshipsFromForeignKeys(tables),
    introspectedAt: new Date('2026-11-28T09:30:00Z'),
    catalogQueries: 4,
  };
}

const customers = table('customers', [
  ['id', 'integer'],
  ['email', 'text'],
]);
const customerFk = {
  name: 'orders_customer_id_fkey',
  columns: ['customer_id'],
  referencedTable: 'customers',
  referencedColumns: ['id'],
};
const orders = table(
  'orders',
  [
    ['id', 'integer'],
    ['customer_id', 'integer'],
    ['total', 'numeric'],
    ['legacy_code', 'text'],
  ],
  { foreignKeys: [customerFk] },
);
const history = table('threadql_schema_history', [['installed_rank', 'integer']]);
const BEFORE = snapshot([customers, orders, history]);

describe('the migration ERD diff', () => {
  it('draws a changed table before and after, marking an added index, an added and a removed column', () => {
    const after = snapshot([
      customers,
      {
        ...orders,
        columns: [
          ...orders.columns.filter((c) => c.name !== 'legacy_code'),
          { name: 'note', type: 'text', nullable: true, isPrimaryKey: false },
        ],
        indexes: [
          ...orders.indexes,
          { name: 'orders_customer_id_idx', columns: ['customer_id'], unique: false, primary: false },
        ],
      },
      history,
    ]);
    const diff = migrationErdDiff(BEFORE, after, { title: '20261128093000_add_orders_customer_index' });
    expect(diff.tables).toEqual(['orders']);
    const text = diff.mermaid;
    expect(text).toContain(
      'title: "20261128093000_add_orders_customer_index · before → after   (+ added, − removed, ~ changed)"',
    );
    expect(text).toContain('orders__before["orders · before"] {');
    expect(text).toContain('orders["orders · after"] {');
    expect(text).toContain('text legacy_code "− removed"');
    expect(text).toContain('text note "+ added"');
    expect(text).toContain('index orders_customer_id_idx "+ added (customer_id)"');
    expect(text).toContain('orders__before ||..|| orders : "up →"');
    // The referenced table is context (keys only), threadql's own history table is never drawn.
    expect(text).toContain('customers["customers"] {\n    integer id PK\n  }');
    expect(text).toContain('orders }o--|| customers : "customer_id"');
    expect(text).not.toContain('threadql_schema_history');
    expect(text).toContain('class orders changed');
    expect(text).toContain('class orders__before before');
  });

  it('marks a new table, a dropped table, and foreign keys added and removed', () => {
    const shipments = table(
      'shipments',
      [
        ['id', 'integer'],
        ['order_id', 'integer'],
      ],
      {
        foreignKeys: [
          {
            name: 'shipments_order_id_fkey',
            columns: ['order_id'],
            referencedTable: 'orders',
            referencedColumns: ['id'],
          },
        ],
      },
    );
    const after = snapshot([
      table('customers', [
        ['id', 'integer'],
        ['email', 'text'],
      ]),
      { ...orders, foreignKeys: [] },
      shipments,
    ]);
    const before = snapshot([customers, orders, table('coupons', [['id', 'integer']])]);
    const text = migrationErdDiff(before, after).mermaid;
    expect(text).toContain('shipments["shipments · + new table"] {');
    expect(text).toContain('class shipments added');
    expect(text).toContain('coupons__before["coupons · − dropped"] {');
    expect(text).toContain('class coupons__before removed');
    expect(text).toContain('integer customer_id FK "− foreign key (customer_id → customers.id)"');
    expect(text).toContain('orders__before }o..|| customers : "− customer_id"');
    expect(text).toContain('shipments }o--|| orders : "order_id"');
  });

  it('renders to a PNG with the changed table in amber and the marks in the drawing (real Chromium)', async () => {
    const profiles = await mkdtemp(join(tmpdir(), 'threadql-erd-diff-'));
    const browser = new MermaidBrowser({ executablePath: services.chromiumPath!, tmpDir: profiles });
    try {
      const after = snapshot([
        customers,
        {
          ...orders,
          indexes: [
            ...orders.indexes,
            { name: 'orders_customer_id_idx', columns: ['customer_id'], unique: false, primary: false },
          ],
        },
      ]);
      const out = await browser.render(migrationErdDiff(BEFORE, after).mermaid);
      // Labels are SVG text, a <tspan> per word: read them per <text> element.
      const labels = svgLabels(out.svg);
      expect(labels).toContain('+ added (customer_id)');
      expect(labels).toContain('orders · before');
      expect(labels).toContain('orders · after');
      const image = PNG.sync.read(out.png);
      let amber = 0;
      for (let i = 0; i < image.data.length; i += 4) {
        const [r, g, b] = [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
        // #fff4d6, the changed table's fill.
        if (Math.abs(r - 0xff) < 4 && Math.abs(g - 0xf4) < 4 && Math.abs(b - 0xd6) < 4) amber++;
      }
      expect(amber / (image.width * image.height)).toBeGreaterThan(0.01);
    } finally {
      await browser.close();
      await rm(profiles, { recursive: true, force: true });
    }
  });
});
