/**
 * Message intent against the real parsers of each dialect, over the corpus in intent-corpus.ts (issue 15): the
 * questions reach Claude, the statements are offered to run (bare and fenced), the ambiguous ones ask.
 */
import {
  fencedCode,
  readMessageIntent,
  type IntentInputs,
  type MessageIntent,
  type SchemaNames,
} from '../../core/conversation/message-intent.ts';
import { readSqlNames } from '../../core/safety/sql-names.ts';
import { sqlVocabulary } from '../../core/safety/sql-vocabulary.ts';
import { AMBIGUOUS, QUESTIONS, STATEMENTS, type StatementCase } from './intent-corpus.ts';
import { CHINOOK, SHOP } from './intent-schemas.ts';

const DIALECTS = ['postgres', 'mysql', 'sqlite'] as const;
type Dialect = (typeof DIALECTS)[number];
const SCHEMAS = { shop: SHOP, chinook: CHINOOK } as const;

function sqlInputs(dialect: Dialect, schema: SchemaNames, loads = { count: 0 }): IntentInputs {
  return {
    queryLanguage: 'sql',
    readNames: (text) => readSqlNames(text, dialect),
    schemaNames: async () => {
      loads.count += 1;
      return schema;
    },
    vocabulary: sqlVocabulary(dialect),
  };
}

const mongoInputs: IntentInputs = {
  queryLanguage: 'mongo',
  schemaNames: async () => ({ tables: ['orders', 'customers'], columns: ['status', 'total'] }),
};

/** Each message of `cases` that `expect` does not accept, with what it was read as (empty when all pass). */
async function misread(
  cases: readonly { text: string; inputs: IntentInputs; label: string }[],
  accept: (intent: MessageIntent, text: string) => boolean,
): Promise<string[]> {
  const wrong: string[] = [];
  for (const { text, inputs, label } of cases) {
    const intent = await readMessageIntent(text, inputs);
    if (!accept(intent, text))
      wrong.push(`${label} ${JSON.stringify(text)} → ${intent.kind}: ${intent.reason}`);
  }
  return wrong;
}

const casesOf = (list: readonly StatementCase[], dialect: Dialect) =>
  list.filter((c) => !c.dialects || c.dialects.includes(dialect));

describe('the intent corpus', () => {
  test('has at least 200 questions and 100 statements', () => {
    expect(QUESTIONS.length).toBeGreaterThanOrEqual(200);
    expect(new Set(QUESTIONS).size).toBe(QUESTIONS.length);
    expect(STATEMENTS.length).toBeGreaterThanOrEqual(100);
    for (const dialect of DIALECTS) expect(casesOf(STATEMENTS, dialect).length).toBeGreaterThanOrEqual(50);
  });

  describe.each(DIALECTS)('%s', (dialect) => {
    test('every question is a question, on the shop and on the Chinook schema', async () => {
      const cases = Object.entries(SCHEMAS).flatMap(([name, schema]) =>
        QUESTIONS.map((text) => ({ text, inputs: sqlInputs(dialect, schema), label: name })),
      );
      expect(await misread(cases, (i, text) => i.kind === 'question' && i.question === text)).toEqual([]);
    });

    test('every statement is offered to run as written, bare', async () => {
      const cases = casesOf(STATEMENTS, dialect).map((c) => ({
        text: c.sql,
        inputs: sqlInputs(dialect, SCHEMAS[c.schema]),
        label: c.schema,
      }));
      expect(
        await misread(cases, (i, text) => i.kind === 'query' && !i.fenced && i.query === text.trim()),
      ).toEqual([]);
    });

    test('every statement is offered to run, fenced (with or without a language tag, on one line or several)', async () => {
      const fences = [
        (sql: string) => `\`\`\`sql\n${sql}\n\`\`\``,
        (sql: string) => `run this please:\n\`\`\`\n${sql}\n\`\`\``,
        (sql: string) => `\`\`\`${sql.replace(/\n/g, ' ')}\`\`\``,
      ];
      const wrong: string[] = [];
      for (const c of casesOf(STATEMENTS, dialect)) {
        for (const fence of fences) {
          const text = fence(c.sql);
          const intent = await readMessageIntent(text, sqlInputs(dialect, SCHEMAS[c.schema]));
          const expected = text.includes('\n' + c.sql) ? c.sql : c.sql.replace(/\n/g, ' ');
          if (intent.kind !== 'query' || !intent.fenced || intent.query !== expected) {
            wrong.push(`${JSON.stringify(text)} → ${JSON.stringify(intent)}`);
          }
        }
      }
      expect(wrong).toEqual([]);
    });

    test('the ambiguous messages ask, naming why', async () => {
      const cases = casesOf(AMBIGUOUS, dialect).map((c) => ({
        text: c.sql,
        inputs: sqlInputs(dialect, SCHEMAS[c.schema]),
        label: c.schema,
      }));
      expect(
        await misread(cases, (i) => i.kind === 'ambiguous' && i.query === i.question && i.reason.length > 10),
      ).toEqual([]);
    });
  });
});

describe('message intent rules', () => {
  test('the reports from the issue are questions on MySQL/MariaDB; real SHOW statements are SQL', async () => {
    const inputs = sqlInputs('mysql', CHINOOK);
    for (const text of [
      'show me the top 5 customers by total spend',
      'show monthly revenue over time',
      'Show the albums with the most tracks',
    ]) {
      expect(await readMessageIntent(text, inputs)).toMatchObject({
        kind: 'question',
        reason: 'not one of the SHOW statements this database has',
      });
    }
    expect(await readMessageIntent('select the top customers', inputs)).toMatchObject({ kind: 'question' });
    expect(await readMessageIntent('SHOW CREATE TABLE albums', inputs)).toMatchObject({
      kind: 'query',
      query: 'SHOW CREATE TABLE albums',
      fenced: false,
    });
  });

  test('a SHOW form whose word is also a table asks which was meant', async () => {
    const schema = { tables: ['events', 'customers'], columns: ['id', 'name'] };
    expect(await readMessageIntent('show events', sqlInputs('mysql', schema))).toMatchObject({
      kind: 'ambiguous',
      reason: 'SHOW EVENTS is a statement, and events is a table',
    });
    expect(await readMessageIntent('show events', sqlInputs('mysql', SHOP))).toMatchObject({ kind: 'query' });
  });

  test('PostgreSQL SHOW and SET need a real setting', async () => {
    const inputs = sqlInputs('postgres', SHOP);
    expect(await readMessageIntent('show work_mem', inputs)).toMatchObject({ kind: 'query' });
    expect(await readMessageIntent('show my_extension.level', inputs)).toMatchObject({ kind: 'query' });
    expect(await readMessageIntent('show revenue', inputs)).toMatchObject({
      kind: 'question',
      reason: '"revenue" is not a setting SHOW can read',
    });
    expect(await readMessageIntent('set currency to euro', inputs)).toMatchObject({ kind: 'question' });
  });

  test('an unknown name reads as a question without SQL punctuation, and asks with it', async () => {
    const inputs = sqlInputs('postgres', SHOP);
    expect(await readMessageIntent('select customers from germany', inputs)).toMatchObject({
      kind: 'question',
      reason: 'it parses, but "germany" is not in the schema',
    });
    expect(await readMessageIntent('SELECT nme FROM customers;', inputs)).toMatchObject({
      kind: 'ambiguous',
      reason: 'it parses as SQL, but "nme" is not in the schema',
    });
    expect(await readMessageIntent('select name, email', inputs)).toMatchObject({
      kind: 'ambiguous',
      reason: 'it parses as SQL, but "name", "email" have no table to read from',
    });
  });

  test('the schema is read only for messages that start like SQL and parse', async () => {
    const loads = { count: 0 };
    const inputs = sqlInputs('postgres', SHOP, loads);
    await readMessageIntent('how many customers signed up each week?', inputs);
    await readMessageIntent('select the top customers by revenue', inputs);
    await readMessageIntent('```sql\nSELECT 1\n```', inputs);
    expect(loads.count).toBe(0);
    await readMessageIntent('SELECT name FROM customers', inputs);
    expect(loads.count).toBe(1);
  });

  test('MongoDB: a JSON object with a collection or a command is a query; anything else is a question', async () => {
    const find = '{"collection": "orders", "operation": "find", "filter": {"status": "paid"}}';
    const command = '{"aggregate": "orders", "pipeline": [{"$count": "n"}], "cursor": {}}';
    expect(await readMessageIntent(find, mongoInputs)).toEqual({
      kind: 'query',
      query: find,
      fenced: false,
      reason: 'a MongoDB query in JSON',
    });
    expect(await readMessageIntent(command, mongoInputs)).toMatchObject({ kind: 'query', query: command });
    expect(await readMessageIntent(`\`\`\`json\n${find}\n\`\`\``, mongoInputs)).toMatchObject({
      kind: 'query',
      query: find,
      fenced: true,
    });
    for (const text of [
      'show me the paid orders',
      'SELECT * FROM orders',
      'db.orders.find({})',
      '{"status": "paid"}',
      '{"collection": "orders", "filter": }',
      'find orders over 100',
      'count orders per status',
    ]) {
      expect(await readMessageIntent(text, mongoInputs)).toMatchObject({ kind: 'question', question: text });
    }
  });

  test('MongoDB JSON on a SQL connection is a question (Claude writes the SQL)', async () => {
    const text = '{"collection": "orders", "operation": "count"}';
    expect(await readMessageIntent(text, sqlInputs('sqlite', SHOP))).toMatchObject({ kind: 'question' });
  });

  test('fences: language tags are dropped, an empty block is no query, inline code counts', () => {
    expect(fencedCode('```sql\nSELECT 1\n```')).toBe('SELECT 1');
    expect(fencedCode('```postgresql SELECT 1```')).toBe('SELECT 1');
    expect(fencedCode('```select\n* from t```')).toBe('select\n* from t');
    expect(fencedCode('```sql\n```')).toBe('');
    expect(fencedCode('```SELECT `name` FROM `t````')).toBe('SELECT `name` FROM `t`');
    expect(fencedCode('`SELECT 1`')).toBe('SELECT 1');
    expect(fencedCode('what does `count(*)` do?')).toBeUndefined();
    expect(fencedCode('no code here')).toBeUndefined();
  });
});
