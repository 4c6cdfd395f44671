/**
 * What a message is, decided in one place for every platform: a query the person pasted (SQL, or a MongoDB query
 * in JSON), a question for Claude, or, when it genuinely could be either, ambiguous (the ask flow then offers
 * "Run as SQL" and "Ask as a question"). Commands are recognised before this, by the chat grammar.
 *
 * The rules, in order:
 * 1. Fenced code (```…``` or a whole message in `backticks`) is a query.
 * 2. On a MongoDB connection, a JSON object with a `collection`, or whose first key is a database command, is a
 *    query; anything else is a question.
 * 3. On a SQL connection, a bare message is SQL only when it starts like a statement, parses in the connection's
 *    dialect, and reads as SQL there:
 *    - SHOW is one of the dialect's real SHOW forms (MySQL/MariaDB: SHOW TABLES, SHOW CREATE TABLE t, SHOW COLUMNS
 *      FROM t, SHOW PROCESSLIST…; PostgreSQL: SHOW <setting>, SHOW ALL), and SET names a real setting;
 *    - every other statement's names exist: tables in the schema (or defined by the statement, e.g. a CTE),
 *      columns in the schema (a table name used as a column does not count, nor a column with no table to come
 *      from), functions built in; aliases count as defined. Qualified, quoted, snake_case, camelCase and
 *      numbered names are identifiers by their shape.
 * 4. A statement that parses but names something unknown is ambiguous when it also has SQL punctuation (`*`, `=`,
 *    `(`, quotes, `;`, a dotted name, a comma), since English rarely does; so are the two-word statements
 *    `analyze <table>` and `explain <table>`, and a SHOW form whose word is also a table's name (`show events`
 *    with an `events` table). Anything else is a question.
 *
 * Pure logic: the parser's reading, the schema's names and the dialect's vocabulary are injected.
 */
import type { SqlStatementNames } from '../safety/sql-names.ts';

export type MessageIntent =
  /** A query to classify and offer as is; `fenced` when it came in a code block. */
  | { kind: 'query'; query: string; fenced: boolean; reason: string }
  | { kind: 'question'; question: string; reason: string }
  /** Could be either: `query` if run as SQL, `question` if asked. */
  | { kind: 'ambiguous'; query: string; question: string; reason: string };

/** The names a connection's schema has (tables or collections, and their columns or fields). */
export interface SchemaNames {
  tables: readonly string[];
  columns: readonly string[];
}

export interface IntentInputs {
  queryLanguage: 'sql' | 'mongo';
  /** SQL: the dialect parser's reading of a text (sql-names.ts), undefined when it does not parse. */
  readNames?: (text: string) => Promise<SqlStatementNames[] | undefined>;
  /** The connection's schema names; called only when a message needs them. */
  schemaNames: () => Promise<SchemaNames>;
  /** SQL: the dialect's built-in functions, settings and (MySQL) SHOW forms (sql-vocabulary.ts). */
  vocabulary?: {
    functions: ReadonlySet<string>;
    settings: ReadonlySet<string>;
    readShow?: (text: string) => { object: string } | undefined;
  };
}

const FENCE_TAGS = new Set([
  'sql',
  'mysql',
  'mariadb',
  'postgres',
  'postgresql',
  'psql',
  'pgsql',
  'plpgsql',
  'sqlite',
  'sqlite3',
  'json',
  'json5',
  'js',
  'javascript',
  'mongo',
  'mongodb',
]);

/** Words a SQL statement starts with, in any of the dialects. */
const STATEMENT_WORDS = new Set(
  `select with explain show describe desc table values pragma insert update delete merge replace upsert create alter
  drop truncate rename comment grant revoke set reset call do copy vacuum analyze reindex cluster refresh begin start
  commit rollback savepoint release end abort lock unlock load attach detach prepare execute deallocate declare fetch
  close move listen notify unlisten discard checkpoint use kill flush optimize repair check checksum handler help
  purge install uninstall import`
    .split(/\s+/)
    .filter(Boolean),
);

/** MongoDB commands a pasted document may start with (its first key). */
const MONGO_COMMANDS = new Set(
  `find aggregate count distinct insert update delete findAndModify getMore drop create createIndexes dropIndexes
  collMod renameCollection mapReduce validate compact listIndexes listCollections listDatabases dropDatabase
  currentOp killOp serverStatus dbStats collStats explain ping buildInfo eval shutdown`
    .split(/\s+/)
    .filter(Boolean),
);

/** Built-in values written without parentheses, which parsers may read as column names. */
const NILADIC = new Set(
  `current_date current_time current_timestamp localtime localtimestamp current_user session_user system_user user
  current_role current_schema current_catalog utc_date utc_time utc_timestamp sysdate`
    .split(/\s+/)
    .filter(Boolean),
);

/** Decides what a message is (see the rules above). */
export async function readMessageIntent(text: string, inputs: IntentInputs): Promise<MessageIntent> {
  const message = text.trim();
  const fenced = fencedCode(message);
  if (fenced !== undefined) {
    return fenced === ''
      ? question(message, 'the code block is empty')
      : { kind: 'query', query: fenced, fenced: true, reason: 'fenced code is a query' };
  }
  if (message === '') return question(message, 'empty message');
  if (inputs.queryLanguage === 'mongo') return readMongoMessage(message);
  return new SqlReading(message, inputs).read();
}

function question(message: string, reason: string): MessageIntent {
  return { kind: 'question', question: message, reason };
}

/** The code of the first fenced block (or of a message that is one inline `code` span), else undefined. */
export function fencedCode(message: string): string | undefined {
  const block = /```([\s\S]*?)```(?!`)/.exec(message);
  if (block) {
    let code = block[1] ?? '';
    const tag = /^([\w+-]+)(?:[ \t]*\n|[ \t]+)/.exec(code);
    if (tag && FENCE_TAGS.has(tag[1]!.toLowerCase())) code = code.slice(tag[0].length);
    else if (/^[\w+-]+\s*$/.test(code) && FENCE_TAGS.has(code.trim().toLowerCase())) code = '';
    return code.trim();
  }
  const inline = /^`([^`]+)`$/.exec(message);
  return inline ? inline[1]!.trim() : undefined;
}

function readMongoMessage(message: string): MessageIntent {
  if (!message.startsWith('{') || !message.endsWith('}')) {
    return question(message, 'not a MongoDB query in JSON');
  }
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return question(message, 'looks like JSON but does not parse, so Claude gets it to write the query');
  }
  const doc = value as Record<string, unknown>;
  const first = Object.keys(doc)[0];
  if (typeof doc.collection === 'string' || (first !== undefined && MONGO_COMMANDS.has(first))) {
    return { kind: 'query', query: message, fenced: false, reason: 'a MongoDB query in JSON' };
  }
  return question(message, 'a JSON object that names no collection or command');
}

/** Text with leading comments removed, for finding the first word. */
function withoutLeadingComments(text: string): string {
  let rest = text;
  for (;;) {
    const next = rest.replace(/^\s*(?:--[^\n]*(?:\n|$)|#[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)/, '');
    if (next === rest) return rest.trim();
    rest = next;
  }
}

/** A name that is an identifier by its shape: snake_case, camelCase, digits, sigils. */
function identifierShaped(name: string): boolean {
  return /[_\d$@#]/.test(name) || /[a-z][A-Z]/.test(name);
}

/** Punctuation SQL has and English questions rarely do. */
function hasSqlPunctuation(text: string): boolean {
  return /[*=<>();'"`,]|::|\w\.\w/.test(text);
}

class SqlReading {
  private readonly message: string;
  private readonly inputs: IntentInputs;
  private schema: Promise<SchemaNames> | undefined;

  constructor(message: string, inputs: IntentInputs) {
    this.message = message;
    this.inputs = inputs;
  }

  async read(): Promise<MessageIntent> {
    const { message } = this;
    const code = withoutLeadingComments(message);
    const first = /^[a-z]+/i.exec(code)?.[0]?.toLowerCase();
    if (!code.startsWith('(') && (first === undefined || !STATEMENT_WORDS.has(first))) {
      return question(message, 'does not start like a SQL statement');
    }
    const readShow = this.inputs.vocabulary?.readShow;
    if (first === 'show' && readShow) {
      const form = readShow(code);
      if (!form) return question(message, 'not one of the SHOW statements this database has');
      if (await this.isTable(form.object)) {
        return this.ambiguous(
          `SHOW ${form.object.toUpperCase()} is a statement, and ${form.object} is a table`,
        );
      }
      return this.query('one of the SHOW statements this database has');
    }
    const statements = await this.inputs.readNames?.(message);
    if (!statements || statements.length === 0) {
      return question(message, 'does not parse as SQL in this dialect');
    }
    const unknown: UnknownName[] = [];
    for (const statement of statements) {
      const verdict = await this.check(statement);
      if (verdict.kind !== 'names') return verdict.intent;
      unknown.push(...verdict.unknown);
    }
    if (unknown.length > 0) {
      const why = describeUnknown(unknown);
      return hasSqlPunctuation(code)
        ? this.ambiguous(`it parses as SQL, but ${why}`)
        : question(message, `it parses, but ${why}`);
    }
    const [only] = statements;
    const words = code.replace(/;\s*$/, '').split(/\s+/);
    if (
      statements.length === 1 &&
      words.length === 2 &&
      (only!.kind === 'analyze' || (only!.kind === 'describe' && first === 'explain'))
    ) {
      return this.ambiguous(`${words.join(' ')} is a statement, and reads as a request too`);
    }
    return this.query('parses, and every name it uses is in the schema or built in');
  }

  private query(reason: string): MessageIntent {
    return { kind: 'query', query: this.message, fenced: false, reason };
  }

  private ambiguous(reason: string): MessageIntent {
    return { kind: 'ambiguous', query: this.message, question: this.message, reason };
  }

  private async schemaNames(): Promise<{ tables: Set<string>; columns: Set<string> }> {
    this.schema ??= this.inputs.schemaNames();
    const { tables, columns } = await this.schema;
    return {
      tables: new Set(tables.map((t) => t.toLowerCase())),
      columns: new Set(columns.map((c) => c.toLowerCase())),
    };
  }

  private async isTable(name: string): Promise<boolean> {
    return (await this.schemaNames()).tables.has(name.toLowerCase());
  }

  /** One statement: a decision of its own (SHOW, SET), or the names it uses that are not known. */
  private async check(
    statement: SqlStatementNames,
  ): Promise<{ kind: 'names'; unknown: UnknownName[] } | { kind: 'decided'; intent: MessageIntent }> {
    const settings = this.inputs.vocabulary?.settings ?? new Set<string>();
    const known = (setting: string): boolean =>
      settings.has(setting) || setting.includes('.') || setting.startsWith('@');
    switch (statement.kind) {
      case 'show': {
        const setting = statement.setting;
        if (setting === undefined) return { kind: 'names', unknown: [] };
        if (!known(setting)) {
          return {
            kind: 'decided',
            intent: question(this.message, `"${setting}" is not a setting SHOW can read`),
          };
        }
        if (await this.isTable(setting)) {
          return {
            kind: 'decided',
            intent: this.ambiguous(`SHOW ${setting} reads a setting, and ${setting} is a table`),
          };
        }
        return { kind: 'names', unknown: [] };
      }
      case 'set':
        return statement.setting === undefined || known(statement.setting)
          ? { kind: 'names', unknown: [] }
          : {
              kind: 'decided',
              intent: question(this.message, `"${statement.setting}" is not a setting SET can change`),
            };
      case 'other':
        return { kind: 'names', unknown: [] };
      default:
        if (statement.kind === 'query' && statement.names.length === 0 && /^[a-z\s;]+$/i.test(this.message)) {
          // `select all`, `values`: keywords alone, with nothing to select.
          return { kind: 'decided', intent: question(this.message, 'SQL keywords with nothing to read') };
        }
        return { kind: 'names', unknown: await this.unknownNames(statement) };
    }
  }

  private async unknownNames(statement: SqlStatementNames): Promise<UnknownName[]> {
    const { tables, columns } = await this.schemaNames();
    const functions = this.inputs.vocabulary?.functions ?? new Set<string>();
    const quoted = quotedNames(this.message);
    const defined = new Set(
      statement.names.filter((n) => n.role === 'defined').map((n) => n.name.toLowerCase()),
    );
    const byShape = (name: string, qualified: boolean): boolean =>
      qualified || identifierShaped(name) || quoted.has(name.toLowerCase());
    const tablesRead = statement.names.filter((n) => n.role === 'table');
    // A table the schema does not list (a system catalog such as sqlite_master, a table newer than the cached
    // schema) has columns nobody here knows, so columns are only checked when every table is known.
    const columnsCheckable = tablesRead.every(
      (t) => tables.has(t.name.toLowerCase()) || defined.has(t.name.toLowerCase()),
    );
    const readsNothing = !statement.names.some((n) => n.role === 'table' || n.role === 'function');
    const unknown: UnknownName[] = [];
    for (const { name, role, qualified } of statement.names) {
      const key = name.toLowerCase();
      if (byShape(name, qualified)) continue;
      if (role === 'defined') {
        // `select 10 customers` parses as `SELECT 10 AS customers`: an alias without AS, and nothing read.
        const introduced = new RegExp(`\\bas\\s+["'\`[]?${escapeRegExp(name)}\\b`, 'i').test(this.message);
        if (readsNothing && !introduced) unknown.push({ name, fromNowhere: true });
        continue;
      }
      const isKnown =
        role === 'table'
          ? tables.has(key) || defined.has(key)
          : role === 'function'
            ? functions.has(key)
            : defined.has(key) ||
              NILADIC.has(key) ||
              (tablesRead.length > 0 && (columns.has(key) || !columnsCheckable));
      if (!isKnown) {
        unknown.push({ name, fromNowhere: role === 'column' && columns.has(key) && tablesRead.length === 0 });
      }
    }
    return unknown;
  }
}

/** A name a statement uses that is not known; `fromNowhere`: a column, but no table to read it from. */
interface UnknownName {
  name: string;
  fromNowhere: boolean;
}

function describeUnknown(unknown: readonly UnknownName[]): string {
  const listed = (names: readonly UnknownName[]): string =>
    [...new Set(names.map((n) => `"${n.name}"`))].join(', ');
  const missing = unknown.filter((n) => !n.fromNowhere);
  const nowhere = unknown.filter((n) => n.fromNowhere);
  const parts: string[] = [];
  if (missing.length) parts.push(`${listed(missing)} ${missing.length > 1 ? 'are' : 'is'} not in the schema`);
  if (nowhere.length)
    parts.push(`${listed(nowhere)} ${nowhere.length > 1 ? 'have' : 'has'} no table to read from`);
  return parts.join(', and ');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Names the message writes in identifier quotes ("x", `x`, [x]), lower-case. */
function quotedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(/"([^"]+)"|`([^`]+)`|\[([^\]]+)\]/g)) {
    names.add((match[1] ?? match[2] ?? match[3] ?? '').toLowerCase());
  }
  return names;
}
