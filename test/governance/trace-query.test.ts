/** The tracer on its own (no engine): the cases where it must fall back rather than guess. */
import type { SchemaSnapshot, TableInfo } from '../../core/db/database-dialect.ts';
import { MaskingPolicy } from '../../core/governance/masking-policy.ts';
import { planMasking } from '../../core/governance/plan-masking.ts';
import { traceQuery } from '../../core/governance/trace-query.ts';

function table(name: string, columns: string[], schema?: string): TableInfo {
  return {
    ...(schema ? { schema } : {}),
    name,
    kind: 'table',
    columns: columns.map((c) => ({ name: c, type: 'text', nullable: true, isPrimaryKey: c === 'id' })),
    primaryKey: ['id'],
    foreignKeys: [],
    indexes: [],
  };
}

const snapshot: Pick<SchemaSnapshot, 'tables'> = {
  tables: [
    table('customers', ['id', 'name', 'email', 'country'], 'public'),
    table('orders', ['id', 'customer_id', 'total'], 'public'),
    // PostgreSQL names tables outside `public` schema-qualified.
    table('hr.staff', ['id', 'email', 'salary'], 'hr'),
  ],
};
const policy = new MaskingPolicy('postgres', [
  { column: 'customers.email', mode: 'redact' },
  { column: 'hr.staff.salary', mode: 'hide' },
]);

async function modes(query: string, names: string[], type: 'postgres' | 'mysql' | 'sqlite' = 'postgres') {
  const plan = planMasking(await traceQuery(query, type, snapshot), policy);
  return plan.decide(names.map((name) => ({ name }))).map((d) => d?.mode);
}

describe('traceQuery and planMasking', () => {
  it('resolves schema-qualified tables outside public', async () => {
    expect(await modes('SELECT s.email, s.salary FROM hr.staff s', ['email', 'salary'])).toEqual([
      undefined,
      'hide',
    ]);
  });

  it('masks every column of text no parser reads when it names a table with masked columns', async () => {
    expect(await modes('SELEKT name, email FROM customers', ['name', 'email'])).toEqual(['redact', 'redact']);
    expect(await modes('SELEKT id FROM orders', ['id'])).toEqual([undefined]);
  });

  it('matches by name when * crosses a USING join (the engine merges columns)', async () => {
    for (const type of ['postgres', 'mysql', 'sqlite'] as const) {
      expect(
        await modes(
          'SELECT * FROM customers JOIN orders USING (id)',
          ['id', 'name', 'email', 'country', 'customer_id', 'total'],
          type,
        ),
      ).toEqual([undefined, undefined, 'redact', undefined, undefined, undefined]);
    }
  });

  it('traces a recursive CTE to a fixed point', async () => {
    const query =
      'WITH RECURSIVE r(n, e) AS (SELECT 1, email FROM customers UNION ALL SELECT n + 1, e FROM r WHERE n < 3) SELECT n, e FROM r';
    for (const type of ['postgres', 'mysql', 'sqlite'] as const)
      expect(await modes(query, ['n', 'e'], type)).toEqual([undefined, 'redact']);
  });

  it('reads a CTE named like a table as that table inside its own body', async () => {
    expect(
      await modes('WITH customers AS (SELECT id, email FROM customers) SELECT email FROM customers', [
        'email',
      ]),
    ).toEqual(['redact']);
  });

  it('masks the columns of an unknown table when it reads a column named like a masked one', async () => {
    // Nothing is known of archive_customers: its `email` may be the masked value, and so may anything beside it.
    expect(await modes('SELECT email, id FROM archive_customers', ['email', 'id'])).toEqual([
      'redact',
      'redact',
    ]);
    expect(await modes('SELECT id, country FROM archive_customers', ['id', 'country'])).toEqual([
      undefined,
      undefined,
    ]);
  });

  it('masks an untraced column when the statement reads a masked column anywhere', async () => {
    const query = 'SELECT g.x FROM customers c, LATERAL (SELECT c.email AS x) g';
    expect(await modes(query, ['x'])).toEqual(['redact']);
    const tableFunction =
      'SELECT f FROM customers c, LATERAL unnest(ARRAY[c.country]) AS f WHERE c.email LIKE $1';
    expect(await modes(tableFunction, ['f'])).toEqual(['redact']);
    expect(await modes('SELECT f FROM customers c, LATERAL unnest(ARRAY[c.country]) AS f', ['f'])).toEqual([
      undefined,
    ]);
  });

  it('keeps counts, EXISTS and window partitions unmasked', async () => {
    expect(
      await modes(
        'SELECT count(DISTINCT email) AS n, row_number() OVER (PARTITION BY email) AS rn, EXISTS (SELECT 1 FROM customers WHERE email = $1) AS known FROM customers',
        ['n', 'rn', 'known'],
      ),
    ).toEqual([undefined, undefined, undefined]);
  });

  it('does not trust positions when the snapshot is older than the table', async () => {
    // The snapshot predates `email`: SELECT * expands to three columns, the engine returns four.
    const stale = { tables: [table('customers', ['id', 'name', 'country'], 'public')] };
    const plan = planMasking(await traceQuery('SELECT * FROM customers', 'postgres', stale), policy);
    expect(
      plan.decide(['id', 'name', 'email', 'country'].map((name) => ({ name }))).map((d) => d?.mode),
    ).toEqual([undefined, undefined, 'redact', undefined]);
    // Same count, other names (a column renamed since): matched by name, not by position.
    const renamed = planMasking(await traceQuery('SELECT * FROM customers', 'postgres', snapshot), policy);
    expect(
      renamed.decide(['id', 'email', 'full_name', 'country'].map((name) => ({ name }))).map((d) => d?.mode),
    ).toEqual([undefined, 'redact', 'redact', undefined]);
  });
});
