import { classifyMongoQuery } from '../../core/safety/classify-mongo-query.ts';
import { classifySql } from '../../core/safety/classify-sql.ts';

// The ask flow's repair loop and pasted-query check rely on the flag, not the statement type (MySQL names
// unparsed statements by their leading keyword), to tell text the dialect cannot read.
describe('unparsed statements are flagged in every dialect', () => {
  it.each(['postgres', 'mysql', 'sqlite'] as const)(
    '%s: prose that starts like SQL is unparsed, SQL is not',
    async (dialect) => {
      const prose = await classifySql('select the top customers by revenue', dialect);
      expect(prose.verdict).toBe('other');
      expect(prose.statements.every((s) => s.unparsed === true)).toBe(true);
      const sql = await classifySql('SELECT name FROM customers', dialect);
      expect(sql.statements.some((s) => s.unparsed)).toBe(false);
    },
  );

  it('mongodb: text that is not one JSON object is unparsed', () => {
    expect(classifyMongoQuery('show me the orders').statements[0]).toMatchObject({
      type: 'UNPARSEABLE',
      unparsed: true,
    });
    expect(
      classifyMongoQuery('{"collection": "orders", "operation": "find"}').statements[0]?.unparsed,
    ).toBeUndefined();
    // A read written in a shape the dialect does not run cannot run either.
    expect(classifyMongoQuery('{"collection": "orders", "pipeline": []}').statements[0]).toMatchObject({
      verdict: 'other',
      unparsed: true,
    });
  });
});
