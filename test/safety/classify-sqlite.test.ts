import { classifySql, splitSqlStatements } from '../../core/safety/classify-sql.ts';
import { SQLITE_CASES } from './sqlite-cases.ts';

describe('SQLite classification (sql-parser-cst)', () => {
  test.each(SQLITE_CASES)('%j is %s', async (sql, expected) => {
    const verdict = await classifySql(sql, 'sqlite');
    expect(verdict.verdict).toBe(expected);
    expect(verdict.reasons.length).toBeGreaterThan(0);
  });

  test('statement texts come from the parser’s ranges', async () => {
    expect(await splitSqlStatements("SELECT 'a;b'; -- note\nDELETE FROM t;", 'sqlite')).toEqual([
      "SELECT 'a;b'",
      'DELETE FROM t',
    ]);
    const verdict = await classifySql('SELECT 1; DROP TABLE x', 'sqlite');
    expect(verdict.statements.map((s) => [s.sql, s.type, s.verdict])).toEqual([
      ['SELECT 1', 'SELECT', 'read'],
      ['DROP TABLE x', 'DROP TABLE', 'ddl'],
    ]);
  });

  test('text that does not parse is split as one whole entry', async () => {
    expect(await splitSqlStatements('SELEC 1; SELECT 2', 'sqlite')).toEqual(['SELEC 1; SELECT 2']);
    expect(await splitSqlStatements('  ', 'sqlite')).toEqual([]);
  });
});
