import { readSqlNames } from '../../core/safety/sql-names.ts';

const SQL =
  'WITH t AS (SELECT customer_id FROM orders) SELECT c.name, count(*) AS n, lower(email) FROM t JOIN customers c ON c.id = t.customer_id GROUP BY c.name, email';

describe('readSqlNames reads tables, columns, functions and defined names with each dialect’s parser', () => {
  test.each(['postgres', 'mysql', 'sqlite'] as const)('%s', async (dialect) => {
    const [statement, ...rest] = (await readSqlNames(SQL, dialect)) ?? [];
    expect(rest).toEqual([]);
    expect(statement!.kind).toBe('query');
    const of = (role: string) =>
      [...new Set(statement!.names.filter((n) => n.role === role && !n.qualified).map((n) => n.name))].sort();
    expect(of('table')).toEqual(['customers', 'orders', 't']);
    expect(of('column')).toEqual(['customer_id', 'email']);
    expect(of('function')).toEqual(['count', 'lower']);
    expect(of('defined')).toEqual(['c', 'n', 't']);
    expect(await readSqlNames('select the top customers', dialect)).toBeUndefined();
  });

  test('statement kinds and settings', async () => {
    expect(await readSqlNames('SHOW work_mem', 'postgres')).toEqual([
      { kind: 'show', names: [], setting: 'work_mem' },
    ]);
    expect(await readSqlNames('SET search_path TO public', 'postgres')).toEqual([
      { kind: 'set', names: [], setting: 'search_path' },
    ]);
    expect((await readSqlNames('DESCRIBE customers', 'mysql'))?.[0]).toMatchObject({
      kind: 'describe',
      names: [{ name: 'customers', role: 'table' }],
    });
    expect((await readSqlNames('INSERT INTO t (a) VALUES (1)', 'sqlite'))?.[0]).toMatchObject({
      kind: 'query',
      names: [
        { name: 't', role: 'table' },
        { name: 'a', role: 'column' },
      ],
    });
    expect((await readSqlNames('CREATE TABLE x (id int)', 'postgres'))?.[0]).toEqual({
      kind: 'other',
      names: [],
    });
    // sql-parser-cst accepts `DELETE t`; SQLite does not.
    expect(await readSqlNames('delete customers', 'sqlite')).toBeUndefined();
  });
});
