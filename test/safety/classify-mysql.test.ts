import { classifySql, splitSqlStatements } from '../../core/safety/classify-sql.ts';
import { MYSQL_CASES } from './mysql-cases.ts';

describe('MySQL/MariaDB classification (sqlparser-rs)', () => {
  test.each(MYSQL_CASES)('%j is %s', async (sql, expected) => {
    const verdict = await classifySql(sql, 'mysql');
    expect(verdict.verdict).toBe(expected);
    expect(verdict.reasons.length).toBeGreaterThan(0);
  });

  test('`--` without a space is arithmetic, so the DROP after it is its own statement', async () => {
    const verdict = await classifySql('SELECT 1 --1; DROP TABLE t', 'mysql');
    expect(verdict.statements.map((s) => [s.sql, s.type, s.verdict])).toEqual([
      ['SELECT 1 --1', 'SELECT', 'read'],
      ['DROP TABLE t', 'DROP TABLE', 'ddl'],
    ]);
  });

  test('an executable comment is code: its statement is classified', async () => {
    const verdict = await classifySql('/*!50000 DROP TABLE x */', 'mysql');
    expect(verdict.statements).toEqual([expect.objectContaining({ type: 'DROP TABLE', verdict: 'ddl' })]);
  });

  test('a statement the parser cannot read is named by its first word and explained', async () => {
    const verdict = await classifySql('HANDLER t OPEN', 'mysql');
    expect(verdict.statements).toEqual([
      expect.objectContaining({ sql: 'HANDLER t OPEN', type: 'HANDLER', verdict: 'other' }),
    ]);
    expect(verdict.reasons[0]).toMatch(/could not parse/);
  });

  test('splitting respects quotes, backslash escapes, backticks and comments', async () => {
    const sql = "SELECT 'a\\';b', `c;d` FROM t; # note; here\nSELECT \"e;f\" -- tail; comment\n;";
    expect(await splitSqlStatements(sql, 'mysql')).toEqual([
      "SELECT 'a\\';b', `c;d` FROM t",
      '# note; here\nSELECT "e;f" -- tail; comment',
    ]);
  });

  test('functions are matched case-insensitively; a deployment can vouch for its own', async () => {
    expect((await classifySql('SELECT Sleep(1)', 'mysql')).verdict).toBe('other');
    expect((await classifySql('SELECT My_Func(1)', 'mysql', { safeFunctions: ['my_func'] })).verdict).toBe(
      'read',
    );
  });
});
