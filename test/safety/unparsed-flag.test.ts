import { classifyMongoQuery } from '../../core/safety/classify-mongo-query.ts';
import { classifySql } from '../../core/safety/classify-sql.ts';
import { extractSql } from '../../core/conversation/extract-sql.ts';

// The engine sends a keyword-led message to Claude when the dialect's parser cannot read it: the flag,
// not the statement type, tells it so (MySQL names unparsed statements by their leading keyword).
describe('unparsed statements are flagged in every dialect', () => {
  it.each(['postgres', 'mysql', 'sqlite'] as const)(
    '%s: prose that starts like SQL is unparsed, SQL is not',
    async (dialect) => {
      const prose = await classifySql('select the top customers by revenue', dialect);
      expect(prose.verdict).toBe('other');
      expect(prose.statements.every((s) => s.unparsed === true)).toBe(true);
      const sql = await classifySql('SELECT name FROM customers', dialect);
      expect(sql.statements.some((s) => s.unparsed)).toBe(false);
      expect(extractSql('select the top customers by revenue')).toEqual({
        query: 'select the top customers by revenue',
        certain: false,
      });
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
  });
});
