/**
 * Template parameters without a database: placeholders found by each dialect's own lexer or parser (strings,
 * comments, casts and slices are not parameters), typed values with their messages, and the bound text.
 */
import { bindTemplate, checkPlaceholders, templatePlaceholders } from '../../core/templates/bind-template.ts';
import {
  checkParameterDefinitions,
  coerceParameterValue,
  resolveParameterValues,
  type ParameterDefinition,
} from '../../core/templates/parameter-values.ts';
import { findSqlPlaceholders } from '../../core/templates/sql-placeholders.ts';
import { ValidationError } from '../../core/errors.ts';

function problemOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof ValidationError) return error.message;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

async function rejection(promise: Promise<unknown>): Promise<ValidationError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('placeholders, found by the dialect', () => {
  it('PostgreSQL: strings, dollar quotes, E-strings, comments, ::casts and array slices are not parameters', async () => {
    const sql = [
      "SELECT created_at::date, ':in_string', $$ :in_dollars $$, E'\\':in_escape', \"col:name\"",
      'FROM t -- :in_line_comment',
      '/* :in_block /* :nested */ */',
      'WHERE country = :country AND created_at >= :since::timestamptz AND tags[1:2] = tags[lo:hi]',
      '  AND region = :Country AND kind = :from',
    ].join('\n');
    const found = await findSqlPlaceholders('postgres', sql);
    expect(found.map((p) => p.name)).toEqual(['country', 'since', 'country', 'from']);
    for (const p of found) expect(sql.slice(p.start, p.end).toLowerCase()).toBe(`:${p.name}`);
    expect(await templatePlaceholders('postgres', sql)).toEqual(['country', 'since', 'from']);
  });

  it('PostgreSQL: offsets stay right after multi-byte text', async () => {
    const sql = "SELECT 'größe 🚀' AS label, :size AS s";
    const [p] = await findSqlPlaceholders('postgres', sql);
    expect(sql.slice(p!.start, p!.end)).toBe(':size');
  });

  it('MySQL: quotes with backslash escapes, backticks, # and -- comments are not parameters', async () => {
    const sql =
      "SELECT ':a', 'it\\'s :b', \"dq :c\", `col:d` FROM t -- :e\n# :f\n/* :g */ WHERE x = :country AND y = :from AND z = :country";
    const found = await findSqlPlaceholders('mysql', sql);
    expect(found.map((p) => p.name)).toEqual(['country', 'from', 'country']);
    for (const p of found) expect(sql.slice(p.start, p.end)).toBe(`:${p.name}`);
  });

  it('MySQL: offsets stay right on later lines and after astral characters', async () => {
    const sql = "SELECT '🚀🚀' AS a,\n  b\nFROM t\nWHERE c = :value";
    const [p] = await findSqlPlaceholders('mysql', sql);
    expect(sql.slice(p!.start, p!.end)).toBe(':value');
  });

  it('SQLite: strings, "identifiers", [brackets] and comments are not parameters', async () => {
    const sql =
      "SELECT ':a', 'it''s :b', \"c:d\", [e:f] FROM t -- :g\n/* :h */ WHERE x = :country AND y >= :since";
    expect((await findSqlPlaceholders('sqlite', sql)).map((p) => p.name)).toEqual(['country', 'since']);
  });

  it('MongoDB: only whole string values ":name" are parameters, not keys or longer strings', async () => {
    const query = JSON.stringify({
      collection: 'orders',
      operation: 'aggregate',
      pipeline: [
        { $match: { status: ':status', note: 'ratio 1:2', ':key': 1, placedAt: { $gte: ':since' } } },
        { $limit: 5 },
      ],
    });
    expect(await templatePlaceholders('mongodb', query)).toEqual(['status', 'since']);
  });

  it('refuses positional parameters, naming the fix', async () => {
    for (const [dialect, sql] of [
      ['postgres', 'SELECT * FROM t WHERE a = $1'],
      ['mysql', 'SELECT * FROM t WHERE a = ?'],
      ['sqlite', 'SELECT * FROM t WHERE a = ?'],
    ] as const) {
      const error = await rejection(findSqlPlaceholders(dialect, sql));
      expect(error.message).toMatch(/positional parameter|uses the parameter \?/);
      expect(error.hint).toContain(':country');
    }
  });

  it('compares definitions with the placeholders the query uses', async () => {
    const sql = "SELECT * FROM t WHERE a = :country AND b <> ':nope'";
    expect(
      await checkPlaceholders('postgres', sql, [{ name: 'country', type: 'text', required: true }]),
    ).toEqual([]);
    expect(
      await checkPlaceholders('postgres', sql, [{ name: 'since', type: 'date', required: false }]),
    ).toEqual(['the query uses :country without a definition', 'parameter(s) since not used in the query']);
  });
});

describe('typed values', () => {
  const definitions: ParameterDefinition[] = [
    { name: 'since', type: 'date', required: true },
    { name: 'country', type: 'text', default: 'Germany', required: false },
    { name: 'limit', type: 'number', default: 10, required: false },
    { name: 'active', type: 'boolean', required: false },
  ];

  it('says what a date looks like when given something else', () => {
    expect(coerceParameterValue('since', 'date', 'last tuesday')).toEqual({
      problem: 'since: expected a date like 2026-01-31, got "last tuesday"',
    });
    expect(coerceParameterValue('since', 'date', '2026-02-30')).toHaveProperty('problem');
    expect(coerceParameterValue('since', 'date', '2024-02-29')).toEqual({ value: '2024-02-29' });
  });

  it('reads numbers and booleans the way people type them', () => {
    expect(coerceParameterValue('n', 'number', '1_000')).toEqual({ value: 1000 });
    expect(coerceParameterValue('n', 'number', '-3.5e2')).toEqual({ value: -350 });
    expect(coerceParameterValue('n', 'number', 'ten')).toEqual({
      problem: 'n: expected a number like 42 or 3.5, got "ten"',
    });
    expect(coerceParameterValue('n', 'number', '')).toHaveProperty('problem');
    expect(coerceParameterValue('b', 'boolean', 'Yes')).toEqual({ value: true });
    expect(coerceParameterValue('b', 'boolean', 'off')).toEqual({ value: false });
    expect(coerceParameterValue('b', 'boolean', 'maybe')).toEqual({
      problem: 'b: expected true or false, got "maybe"',
    });
  });

  it('fills defaults, leaves optional values null, and keys case-insensitively', () => {
    expect(resolveParameterValues(definitions, { SINCE: '2026-01-31', active: 'true' })).toEqual({
      since: '2026-01-31',
      country: 'Germany',
      limit: 10,
      active: true,
    });
    expect(resolveParameterValues(definitions, { since: '2026-01-01' }).active).toBeNull();
  });

  it('reports every problem at once: unknown names, missing and malformed values', () => {
    const message = problemOf(() =>
      resolveParameterValues(definitions, { since: 'last tuesday', limit: 'lots', colour: 'red' }),
    );
    expect(message).toContain('since: expected a date like 2026-01-31, got "last tuesday"');
    expect(message).toContain('limit: expected a number like 42 or 3.5, got "lots"');
    expect(message).toContain('colour: this template has no such parameter');
    expect(problemOf(() => resolveParameterValues(definitions, {}))).toBe(
      'since: a value is required (a date like 2026-01-31), e.g. since=2026-01-31',
    );
  });

  it('checks definitions: names, duplicates, defaults of the wrong type', () => {
    expect(
      checkParameterDefinitions([
        { name: 'since', type: 'date', default: 'yesterday', required: false },
        { name: 'Since', type: 'text', required: true },
        { name: 'bad-name', type: 'text', required: true },
      ]),
    ).toEqual([
      'default of since: expected a date like 2026-01-31, got "yesterday"',
      'parameter "Since" is defined twice',
      '"bad-name" is not a parameter name (letters, digits, _)',
    ]);
  });
});

describe('binding', () => {
  const defs: ParameterDefinition[] = [
    { name: 'country', type: 'text', required: true },
    { name: 'since', type: 'date', required: true },
  ];
  const values = { country: "x' OR '1'='1", since: '2026-01-31' };
  const sql =
    "SELECT ':country' AS literal, :country AS c FROM t WHERE created_at >= :since AND country = :country";

  it('PostgreSQL: one $n per name, values beside the text', async () => {
    expect(await bindTemplate('postgres', sql, defs, values)).toEqual({
      query: "SELECT ':country' AS literal, $1 AS c FROM t WHERE created_at >= $2 AND country = $1",
      params: ["x' OR '1'='1", '2026-01-31'],
    });
  });

  it('MySQL and SQLite: one ? per occurrence', async () => {
    for (const dialect of ['mysql', 'sqlite'] as const) {
      expect(await bindTemplate(dialect, sql, defs, values)).toEqual({
        query: "SELECT ':country' AS literal, ? AS c FROM t WHERE created_at >= ? AND country = ?",
        params: ["x' OR '1'='1", '2026-01-31', "x' OR '1'='1"],
      });
    }
  });

  it('MongoDB: values by name, dates as BSON dates', async () => {
    const query = JSON.stringify({
      collection: 'o',
      operation: 'find',
      filter: { c: ':country', at: { $gte: ':since' } },
    });
    const bound = await bindTemplate('mongodb', query, defs, values);
    expect(bound.query).toBe(query);
    expect(bound.params).toEqual({ country: "x' OR '1'='1", since: new Date('2026-01-31T00:00:00.000Z') });
  });
});
