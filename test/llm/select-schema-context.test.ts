import { questionStems, stem } from '../../core/llm/name-tokens.ts';
import { renderTableLine, renderTables } from '../../core/llm/render-schema.ts';
import { selectSchemaContext } from '../../core/llm/select-schema-context.ts';
import { bigSchema, shopSchema, table } from './schema-fixtures.ts';

describe('name stems', () => {
  test('fold plurals and verb endings so question words meet table names', () => {
    expect(stem('categories')).toBe('category');
    expect(stem('orders')).toBe('order');
    expect(stem('addresses')).toBe('address');
    expect(stem('boxes')).toBe('box');
    expect(stem('shipped')).toBe('ship');
    expect(stem('shipping')).toBe('ship');
    expect(stem('status')).toBe('status');
    expect(stem('address')).toBe('address');
    expect(stem('call')).toBe('call');
  });

  test('question stems drop stop words and numbers', () => {
    expect([...questionStems('How many Orders did the customers place in 2025, per week?')].sort()).toEqual([
      'customer',
      'order',
      'place',
    ]);
  });
});

describe('renderTableLine', () => {
  test('one compact line with types, PK, FK targets and the row estimate', () => {
    const line = renderTableLine(
      table(
        'orders',
        [
          ['customer_id', 'bigint'],
          ['created_at', 'timestamptz'],
        ],
        { customer_id: 'customers' },
        250_000,
      ),
      false,
    );
    expect(line).toBe(
      'orders(id bigint PK, customer_id bigint FK→customers.id, created_at timestamptz) ~250k rows',
    );
  });
});

describe('selectSchemaContext', () => {
  test('a small schema goes whole', () => {
    const schema = shopSchema();
    const ctx = selectSchemaContext(schema, 'orders per week');
    expect(ctx.complete).toBe(true);
    expect(ctx.tables).toHaveLength(schema.tables.length);
    expect(ctx.reasons.every((r) => r === 'all')).toBe(true);
    expect(ctx.text).toBe(renderTables(schema.tables, false));
  });

  describe('on a synthetic 1,000-table schema', () => {
    const schema = bigSchema(1_000);
    const maxChars = 12_000;

    test('the schema is far over budget whole, so selection is what keeps the prompt small', () => {
      expect(schema.tables).toHaveLength(1_000);
      expect(renderTables(schema.tables, false).length).toBeGreaterThan(maxChars * 10);
    });

    test('picks the tables the question names plus their FK neighbours, within budget', () => {
      const ctx = selectSchemaContext(schema, 'How many orders did customers in Germany place per week?', {
        maxChars,
      });
      const names = ctx.tables.map((t) => t.name);
      const why = Object.fromEntries(names.map((n, i) => [n, ctx.reasons[i]]));

      // Named in the question.
      expect(why.orders).toBe('relevant');
      expect(why.customers).toBe('relevant');
      // Outgoing FK neighbours (where a join goes: orders → addresses, customers → countries).
      expect(why.addresses).toBe('neighbour');
      expect(why.countries).toBe('neighbour');
      // Shares the word "order" with the question.
      expect(why.order_items).toBe('relevant');
      // Incoming FK neighbour: a filler table whose owner_ref points at customers.
      expect(why.marketing_entry_0007).toBe('neighbour');
      // A filler table with no link to the tables in question stays out.
      expect(names).not.toContain('ledger_entry_0000');
      // The two tables the question is about come first.
      expect(names.slice(0, 2).sort()).toEqual(['customers', 'orders']);
      expect(names[2]).toBe('order_items');
      // order_items → products is one hop from a relevant table; categories is two hops away and stays out.
      expect(why.products).toBe('neighbour');
      expect(names).not.toContain('categories');

      expect(ctx.text.length).toBeLessThanOrEqual(maxChars);
      expect(ctx.complete).toBe(false);
      expect(ctx.totalTables).toBe(1_000);
      expect(ctx.omittedTables).toBe(1_000 - ctx.tables.length);
      expect(ctx.tables.length).toBeLessThan(60);
      expect(ctx.text.split('\n')).toHaveLength(ctx.tables.length);
      expect(ctx.text).toContain('orders(id bigint PK, customer_id bigint FK→customers.id');
    });

    test('is deterministic', () => {
      const a = selectSchemaContext(schema, 'revenue by product category', { maxChars });
      const b = selectSchemaContext(schema, 'revenue by product category', { maxChars });
      expect(a.text).toBe(b.text);
      expect(a.reasons).toEqual(b.reasons);
      const names = a.tables.map((t) => t.name);
      expect(names.slice(0, 2).sort()).toEqual(['categories', 'products']);
      expect(names).toContain('order_items'); // incoming neighbour of products: where revenue lives
    });

    test('a follow-up without table words keeps the tables of the earlier turn', () => {
      const ctx = selectSchemaContext(schema, 'only Germany, and make it monthly', {
        maxChars,
        earlierQueries: [
          'SELECT date_trunc(\'week\', o.created_at) AS week, count(*) FROM orders o JOIN "customers" c ON c.id = o.customer_id GROUP BY 1',
        ],
        earlierQuestions: ['weekly orders by customer country'],
      });
      const names = ctx.tables.map((t) => t.name);
      expect(names).toContain('orders');
      expect(names).toContain('customers');
      expect(ctx.reasons[names.indexOf('orders')]).toBe('earlier');
      expect(names).toContain('countries');
      expect(ctx.text.length).toBeLessThanOrEqual(maxChars);
    });

    test('a question matching nothing falls back to the most connected tables, still within budget', () => {
      const ctx = selectSchemaContext(schema, 'hello there', { maxChars: 4_000 });
      expect(ctx.tables.length).toBeGreaterThan(0);
      expect(ctx.reasons.every((r) => r === 'hub')).toBe(true);
      expect(ctx.text.length).toBeLessThanOrEqual(4_000);
    });

    test('a tight budget is never exceeded and the table cap holds', () => {
      const tight = selectSchemaContext(schema, 'orders and customers', { maxChars: 300 });
      expect(tight.text.length).toBeLessThanOrEqual(300);
      expect(tight.tables.length).toBeGreaterThan(0);
      const capped = selectSchemaContext(schema, 'orders and customers', {
        maxChars: 1_000_000,
        maxTables: 5,
      });
      expect(capped.tables).toHaveLength(5);
    });
  });

  test('qualifies names when tables span several schemas', () => {
    const a = { ...table('orders', [['total', 'numeric']]), schema: 'sales' };
    const b = { ...table('orders', [['total', 'numeric']]), schema: 'archive' };
    const ctx = selectSchemaContext({ tables: [a, b], relationships: [] }, 'orders');
    expect(ctx.qualifiedNames).toBe(true);
    expect(ctx.text).toContain('sales.orders(');
    expect(ctx.text).toContain('archive.orders(');
  });
});
