/**
 * Where the `:name` placeholders of a SQL template are, found by each dialect's own lexer or parser rather than a
 * regex, so that `':x'` in a string, `-- :x` in a comment, a PostgreSQL `::type` cast or an array slice
 * `a[lo:hi]` is never taken for a parameter:
 * - PostgreSQL: libpg-query's scanner (PostgreSQL's own lexer): a `:` token directly followed by a word, outside
 *   brackets. Dollar quotes, E'' escapes and nested comments are the server's rules.
 * - MySQL / MariaDB: sqlparser-rs (MySQL dialect), which parses `:name` as a Placeholder value with its span.
 * - SQLite: sql-parser-cst, which parses `:name` (SQLite's own named-parameter syntax) as a parameter node.
 * Positional placeholders (`?`, `$1`) are refused: a template names its parameters.
 */
import { scan } from 'libpg-query';
import { parse as parseSqliteCst } from 'sql-parser-cst';
import { ValidationError } from '../errors.ts';
import { parseWithSqlparserRs } from '../safety/sqlparser-rs.ts';

/** One occurrence of `:name` in the text; offsets are JavaScript string indexes covering the colon and the name. */
export interface Placeholder {
  /** Lower-cased, so `:Since` and `:since` are one parameter (SQL identifiers fold case too). */
  name: string;
  start: number;
  end: number;
}

export type SqlDialectName = 'postgres' | 'mysql' | 'sqlite';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const POSITIONAL_HINT = 'Name each parameter with a colon instead, e.g. `WHERE country = :country`.';

/** The placeholders of `sql` in text order, found with the dialect's own lexer or parser. */
export async function findSqlPlaceholders(dialect: SqlDialectName, sql: string): Promise<Placeholder[]> {
  switch (dialect) {
    case 'postgres':
      return findPostgres(sql);
    case 'mysql':
      return findMysql(sql);
    case 'sqlite':
      return findSqlite(sql);
  }
}

async function findPostgres(sql: string): Promise<Placeholder[]> {
  let tokens: Awaited<ReturnType<typeof scan>>['tokens'];
  try {
    tokens = (await scan(sql)).tokens;
  } catch (error) {
    throw new ValidationError(`PostgreSQL's lexer could not read the query: ${(error as Error).message}`);
  }
  // The scanner reports UTF-8 byte offsets; map them back to string indexes.
  const bytes = Buffer.from(sql, 'utf8');
  const index = (byte: number) => bytes.subarray(0, byte).toString('utf8').length;
  const found: Placeholder[] = [];
  let brackets = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.text === '[') brackets += 1;
    else if (token.text === ']') brackets = Math.max(0, brackets - 1);
    else if (token.tokenName === 'PARAM') {
      throw new ValidationError(`The query uses the positional parameter ${token.text}.`, {
        hint: POSITIONAL_HINT,
      });
    } else if (token.text === ':' && brackets === 0) {
      const next = tokens[i + 1];
      // Adjacent word: `:name` (a keyword such as `:from` counts too); `a[lo:hi]` is a slice, `::` a cast token.
      if (next && next.start === token.end && NAME.test(next.text)) {
        found.push({ name: next.text.toLowerCase(), start: index(token.start), end: index(next.end) });
        i += 1;
      }
    }
  }
  return found;
}

async function findMysql(sql: string): Promise<Placeholder[]> {
  let statements: Array<Record<string, unknown>>;
  try {
    statements = (await parseWithSqlparserRs(sql, 'mysql')).statements;
  } catch (error) {
    throw new ValidationError(`The MySQL parser could not read the query: ${(error as Error).message}`);
  }
  const lines = lineStarts(sql);
  const found: Placeholder[] = [];
  walk(statements, (node) => {
    const value = node.Value as
      { value?: { Placeholder?: string }; span?: { start?: Span; end?: Span } } | undefined;
    const text = value?.value?.Placeholder;
    if (typeof text !== 'string') return;
    if (!text.startsWith(':') || !NAME.test(text.slice(1))) {
      throw new ValidationError(`The query uses the positional parameter ${text}.`, {
        hint: POSITIONAL_HINT,
      });
    }
    const start = offsetOf(sql, lines, value!.span?.start);
    const end = offsetOf(sql, lines, value!.span?.end);
    if (
      start === undefined ||
      end === undefined ||
      sql.slice(start, end).toLowerCase() !== text.toLowerCase()
    ) {
      throw new ValidationError(`Could not locate the parameter ${text} in the query text.`);
    }
    found.push({ name: text.slice(1).toLowerCase(), start, end });
  });
  return found.sort((a, b) => a.start - b.start);
}

function findSqlite(sql: string): Placeholder[] {
  let program: unknown;
  try {
    program = parseSqliteCst(sql, {
      dialect: 'sqlite',
      includeRange: true,
      paramTypes: ['?', '?nr', ':name', '@name', '$name'],
    });
  } catch (error) {
    const message = ((error as Error).message ?? '').split('\n')[0];
    throw new ValidationError(`The SQLite parser could not read the query: ${message}`);
  }
  const found: Placeholder[] = [];
  walk(program, (node) => {
    if (node.type !== 'parameter') return;
    const text = String(node.text);
    if (!text.startsWith(':') || !NAME.test(text.slice(1))) {
      throw new ValidationError(`The query uses the parameter ${text}.`, { hint: POSITIONAL_HINT });
    }
    const [start, end] = node.range as [number, number];
    found.push({ name: text.slice(1).toLowerCase(), start, end });
  });
  return found.sort((a, b) => a.start - b.start);
}

interface Span {
  line: number;
  column: number;
}

function walk(value: unknown, visit: (node: Record<string, unknown>) => void): void {
  const stack: unknown[] = [value];
  while (stack.length) {
    const current = stack.pop();
    if (Array.isArray(current)) stack.push(...current);
    else if (current && typeof current === 'object') {
      visit(current as Record<string, unknown>);
      stack.push(...Object.values(current));
    }
  }
}

/** String index where each line starts (lines split at \n, as sqlparser-rs counts them). */
function lineStarts(sql: string): number[] {
  const starts = [0];
  for (let i = 0; i < sql.length; i++) if (sql[i] === '\n') starts.push(i + 1);
  return starts;
}

/** sqlparser-rs locations are 1-based lines and columns counted in characters (code points). */
function offsetOf(sql: string, lines: number[], at: Span | undefined): number | undefined {
  if (!at || at.line < 1 || at.column < 1) return undefined;
  let offset = lines[at.line - 1];
  if (offset === undefined) return undefined;
  for (let column = 1; column < at.column; column++) {
    const code = sql.codePointAt(offset);
    if (code === undefined) return undefined;
    offset += code > 0xffff ? 2 : 1;
  }
  return offset;
}
