import { classifySql, splitSqlStatements } from '../../core/safety/classify-sql.ts';
import { POSTGRES_CASES } from './postgres-cases.ts';

describe('PostgreSQL classification (libpg-query)', () => {
  test.each(POSTGRES_CASES)('%j is %s', async (sql, expected) => {
    const verdict = await classifySql(sql, 'postgres');
    expect(verdict.verdict).toBe(expected);
    expect(verdict.reasons.length).toBeGreaterThan(0);
    for (const s of verdict.statements) expect(s.reasons.length).toBeGreaterThan(0);
  });

  test('a comment cannot hide a second statement; each statement carries its own text, type and class', async () => {
    const verdict = await classifySql('SELECT 1; -- harmless\n DROP TABLE x', 'postgres');
    expect(verdict.statements.map((s) => [s.sql, s.type, s.verdict])).toEqual([
      ['SELECT 1', 'SELECT', 'read'],
      ['DROP TABLE x', 'DROP TABLE', 'ddl'],
    ]);
    expect(verdict.reasons).toEqual([
      'statement 2 (DROP TABLE): DROP TABLE changes the schema or its permissions',
    ]);
  });

  test('semicolons inside strings and dollar quotes do not split; multibyte text keeps statement boundaries', async () => {
    const sql = "SELECT 'é;ü', $q$ ; $q$; SELECT 'ß'";
    expect(await splitSqlStatements(sql, 'postgres')).toEqual(["SELECT 'é;ü', $q$ ; $q$", "SELECT 'ß'"]);
  });

  test('the batch takes the most dangerous class, and reasons name the statements that made it so', async () => {
    const verdict = await classifySql('SELECT 1; INSERT INTO t VALUES (1); SELECT pg_sleep(1)', 'postgres');
    expect(verdict.statements.map((s) => s.verdict)).toEqual(['read', 'write', 'other']);
    expect(verdict.verdict).toBe('other');
    expect(verdict.reasons).toContain('statement 3 (SELECT): calls pg_sleep(), which blocks the session');
    expect(verdict.reasons.some((r) => r.startsWith('statement 2 (INSERT)'))).toBe(true);
  });

  test('a deployment can vouch for its own pure functions, but never over the deny-list', async () => {
    expect((await classifySql('SELECT my_func(1)', 'postgres', { safeFunctions: ['my_func'] })).verdict).toBe(
      'read',
    );
    expect((await classifySql('SELECT s.f(1)', 'postgres', { safeFunctions: ['s.f'] })).verdict).toBe('read');
    expect(
      (await classifySql('SELECT pg_sleep(1)', 'postgres', { safeFunctions: ['pg_sleep'] })).verdict,
    ).toBe('other');
  });

  test('a parse error is reported as the reason', async () => {
    const verdict = await classifySql('SELEC 1', 'postgres');
    expect(verdict.statements).toEqual([
      expect.objectContaining({ sql: 'SELEC 1', verdict: 'other', type: 'UNPARSEABLE' }),
    ]);
    expect(verdict.reasons[0]).toMatch(/syntax error at or near "SELEC"/);
  });
});
