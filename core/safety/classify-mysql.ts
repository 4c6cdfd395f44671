/**
 * MySQL/MariaDB classification on sqlparser-rs (Apache DataFusion's parser, MySQL dialect, via WASM).
 *
 * Why sqlparser-rs: the candidates (sql-parser-cst, node-sql-parser, sqlparser-rs) were run on the hard cases now kept in
 * test/safety/mysql-cases.ts.
 * It is the only one that lexes like the server where it matters for safety: it runs the code inside executable
 * comments (`/*!50000 DROP TABLE x *\/` is a DROP to it, as to MySQL) and knows that `--` starts a comment only
 * before whitespace (`SELECT 1 --1; DROP TABLE t` is two statements). sql-parser-cst and node-sql-parser both
 * read those two inputs as a lone harmless SELECT, and also reject SHOW/DESCRIBE/FLUSH/KILL, which sqlparser-rs
 * parses. Its gaps (INTO OUTFILE, LOCK IN SHARE MODE, LOAD DATA, HANDLER, DO, TABLE t, WITH ROLLUP) fail to parse
 * and so are `other`, never `read`. MariaDB's own executable comments (`/*M! … *\/`) are comments to it, so their
 * presence makes the batch `other`. node-sql-parser is consulted for one thing only: naming a lone LOAD DATA
 * statement (a write) that sqlparser-rs cannot parse.
 */
import nodeSqlParser from 'node-sql-parser';
import { Findings, forEachNode, isRecord } from './findings.ts';
import { judgeFunctionCall, type ClassifyOptions } from './function-policy.ts';
import { MYSQL_FUNCTION_POLICY } from './mysql-function-policy.ts';
import { readMysqlShow } from './mysql-show-forms.ts';
import { splitMysql, type MysqlPiece } from './split-mysql.ts';
import { parseWithSqlparserRs } from './sqlparser-rs.ts';
import { batchVerdict, TRANSACTION_CONTROL, type StatementVerdict, type Verdict } from './verdict.ts';

/** Classifies a MySQL/MariaDB batch: every statement, the batch taking the most dangerous class. */
export async function classifyMysql(sql: string, options: ClassifyOptions = {}): Promise<Verdict> {
  const pieces = splitMysql(sql);
  let parsed;
  try {
    parsed = await parseWithSqlparserRs(sql, 'mysql');
  } catch (error) {
    return unparseable(pieces, sql, error);
  }
  const mariadbExecutable = parsed.comments.some((c) => /^M!/.test(c.content));
  const texts = pieces.length === parsed.statements.length ? pieces.map((p) => p.text) : undefined;
  const statements = parsed.statements.map((stmt, i): StatementVerdict => {
    const [kind, body] = unwrap(stmt);
    const text = texts?.[i] ?? sql.trim();
    if (kind === 'ShowVariable' && !readMysqlShow(text)) return notAShowForm(text);
    const f = classifyNode(kind, body, options);
    if (mariadbExecutable) f.raise('other', MARIADB_EXECUTABLE);
    return f.toStatement(text, displayType(kind, body));
  });
  if (statements.length === 0 && mariadbExecutable) {
    statements.push({ sql: sql.trim(), verdict: 'other', type: 'COMMENT', reasons: [MARIADB_EXECUTABLE] });
  }
  return batchVerdict(statements);
}

/** Splits a MySQL batch into statement texts with the server's lexical rules (comments and quotes respected). */
export function splitMysqlStatements(sql: string): string[] {
  return splitMysql(sql).map((p) => p.text);
}

/**
 * sqlparser-rs reads any `SHOW <words>` it does not know as `SHOW VARIABLE`, a statement MySQL does not have (so
 * `show me the top customers` would be a read). Unless the words are one of the server's real SHOW forms, the
 * statement is as good as unparsed: `other`, flagged so callers know it may be prose.
 */
function notAShowForm(text: string): StatementVerdict {
  return {
    sql: text,
    verdict: 'other',
    type: 'SHOW',
    unparsed: true,
    reasons: ['not one of the SHOW statements MySQL and MariaDB have (SHOW TABLES, SHOW CREATE TABLE t, …)'],
  };
}

const MARIADB_EXECUTABLE =
  'contains a MariaDB executable comment (/*M! … */), which the server runs but the parser reads as a comment';

function unparseable(pieces: MysqlPiece[], sql: string, error: unknown): Verdict {
  const message = error instanceof Error ? error.message : String(error);
  const only = pieces.length === 1 ? pieces[0] : undefined;
  if (only && only.lead === 'LOAD DATA' && !only.executableComment) {
    const load = loadData(only.text);
    if (load) return batchVerdict([{ sql: only.text, type: 'LOAD DATA', ...load }]);
  }
  const reason = `the MySQL parser could not parse ${pieces.length > 1 ? 'the batch' : 'it'}: ${message}`;
  const statements: StatementVerdict[] = (pieces.length ? pieces : [{ text: sql.trim(), lead: '' }]).map(
    (p) => ({
      sql: p.text,
      verdict: 'other',
      type: p.lead.split(' ')[0] || 'UNPARSEABLE',
      unparsed: true,
      reasons: [reason],
    }),
  );
  return batchVerdict(statements);
}

/** A lone LOAD DATA statement as node-sql-parser reads it; LOCAL reads a file from the bot's own host. */
function loadData(text: string): Pick<StatementVerdict, 'verdict' | 'reasons'> | undefined {
  try {
    const ast: unknown = new nodeSqlParser.Parser().astify(text, { database: 'MariaDB' });
    const list = Array.isArray(ast) ? ast : [ast];
    const [stmt] = list;
    if (list.length !== 1 || !isRecord(stmt) || stmt.type !== 'load_data') return undefined;
    if (stmt.local) {
      return {
        verdict: 'other',
        reasons: ['LOAD DATA LOCAL reads a file from the client, i.e. the bot’s own host'],
      };
    }
    return {
      verdict: 'write',
      reasons: ['LOAD DATA loads rows into a table from a file on the database server'],
    };
  } catch {
    return undefined;
  }
}

function unwrap(node: Record<string, unknown>): [string, Record<string, unknown>] {
  const [kind, body] = Object.entries(node)[0] ?? ['Unknown', {}];
  return [kind, isRecord(body) ? body : {}];
}

const ROLE_ADMIN = new Set(['CreateUser', 'AlterUser', 'CreateRole', 'AlterRole', 'DropRole', 'SetRole']);
const DDL = new Set(['Truncate', 'RenameTable', 'Grant', 'Revoke', 'Comment', 'Deny']);

const OTHER_REASONS: Record<string, string> = {
  Set: 'changes a session or server variable',
  SetVariable: 'changes a session or server variable',
  SetNames: 'changes the connection character set',
  SetTransaction: 'changes transaction characteristics',
  Use: 'switches the default database',
  StartTransaction: TRANSACTION_CONTROL,
  Commit: TRANSACTION_CONTROL,
  Rollback: TRANSACTION_CONTROL,
  Savepoint: TRANSACTION_CONTROL,
  ReleaseSavepoint: TRANSACTION_CONTROL,
  LockTables: 'takes explicit table locks',
  UnlockTables: 'releases table locks',
  Flush: 'flushes server caches, logs or privileges',
  Kill: 'kills a connection or query',
  Call: 'calls a stored procedure, which can do anything',
  Prepare: 'prepares a statement for later execution',
  Execute: 'executes a prepared statement the classifier cannot see',
  Deallocate: 'changes session state',
  Analyze: 'runs maintenance (ANALYZE TABLE)',
  OptimizeTable: 'rebuilds a table',
  Install: 'installs a server plugin or component',
};

function classifyNode(kind: string, body: Record<string, unknown>, options: ClassifyOptions): Findings {
  const type = displayType(kind, body);
  switch (kind) {
    case 'Query': {
      const f = new Findings('read', 'reads data; nothing with side effects found');
      inspect(body, f, options);
      return f;
    }
    case 'Insert':
    case 'Update':
    case 'Delete':
    case 'Merge': {
      const f = new Findings('write', `${type} changes rows`);
      if (isRecord(body.on) && 'DuplicateKeyUpdate' in body.on)
        f.raise('write', 'updates rows ON DUPLICATE KEY');
      inspect(body, f, options);
      return f;
    }
    case 'Explain':
      return classifyExplain(body, options);
    case 'ExplainTable':
      return new Findings('read', 'DESCRIBE reads a table definition');
  }
  if (kind.startsWith('Show')) return new Findings('read', `${type} reads server metadata`);
  if (ROLE_ADMIN.has(kind) || (kind === 'Drop' && /^(User|Role)$/.test(String(body.object_type)))) {
    return new Findings('other', 'manages accounts or roles');
  }
  if (kind === 'Truncate') {
    return new Findings(
      'ddl',
      'TRUNCATE empties a whole table and commits implicitly, so it is DDL, not a row change',
    );
  }
  if (DDL.has(kind) || /^(Create|Alter|Drop)/.test(kind)) {
    const f = new Findings('ddl', `${type} changes the schema or its permissions`);
    // CREATE TABLE … AS SELECT runs its query now, so that query's functions count.
    if (kind === 'CreateTable' && isRecord(body.query)) inspect(body.query, f, options);
    return f;
  }
  return new Findings('other', OTHER_REASONS[kind] ?? `${type} is not a statement known to be safe`);
}

/** EXPLAIN only plans; EXPLAIN ANALYZE runs its statement and takes that statement's class. */
function classifyExplain(body: Record<string, unknown>, options: ClassifyOptions): Findings {
  const [innerKind, innerBody] = unwrap(isRecord(body.statement) ? body.statement : {});
  const innerType = displayType(innerKind, innerBody);
  const inner = classifyNode(innerKind, innerBody, options);
  if (body.analyze) {
    const f = new Findings(inner.verdict, `EXPLAIN ANALYZE executes the ${innerType}`);
    for (const r of inner.reasons) f.raise(inner.verdict, r);
    return f;
  }
  if (inner.verdict === 'write' || inner.verdict === 'ddl') {
    // It does not run, but MariaDB refuses EXPLAIN of a write inside a read-only transaction, so it cannot run as
    // a read either; it keeps its statement's class.
    return new Findings(inner.verdict, `EXPLAIN of a ${innerType} is refused in a read-only transaction`);
  }
  const f = new Findings('read', `EXPLAIN plans the ${innerType} without running it`);
  const probe = new Findings('read', '');
  inspect(innerBody, probe, options);
  for (const r of probe.reasons) if (r.startsWith('calls ')) f.raise('other', r);
  return f;
}

/** Walks a statement for what makes it more than a read: nested DML, row locks, INTO, `:=`, function calls. */
function inspect(tree: unknown, f: Findings, options: ClassifyOptions): void {
  forEachNode(tree, (key, node) => {
    if (key === 'locks' && Array.isArray(node) && node.length > 0) {
      f.raise('write', 'locks rows (FOR UPDATE/FOR SHARE) as a write would');
    } else if (key === 'op' && node === 'Assignment') {
      f.raise('other', 'assigns a user variable (:=)');
    } else if (!isRecord(node)) {
      return;
    } else if (key === 'into' && Array.isArray(node.name)) {
      const target = identifiers(node.name)[0] ?? '';
      if (target.startsWith('@')) f.raise('other', 'SELECT … INTO @variable assigns session variables');
      else f.raise('write', 'SELECT INTO writes its result into a table or variable');
    } else if (key === 'Insert' || key === 'Update' || key === 'Delete' || key === 'Merge') {
      f.raise('write', `contains a data-modifying ${key.toUpperCase()}`);
    } else if (key === 'Function' && Array.isArray(node.name)) {
      const reason = judgeFunction(node);
      if (reason) f.raise('other', reason);
      else if (identifiers(node.name).at(-1)?.toLowerCase() === 'last_insert_id' && argCount(node) > 0) {
        f.raise('other', 'calls last_insert_id(expr), which sets the session value');
      }
    }
  });

  function judgeFunction(node: Record<string, unknown>): string | undefined {
    const parts = identifiers(node.name);
    const name = parts.at(-1) ?? '';
    const schema = parts.length > 1 ? parts.slice(0, -1).join('.') : undefined;
    return judgeFunctionCall({ name, ...(schema === undefined ? {} : { schema }) }, MYSQL_FUNCTION_POLICY, {
      ...options,
      caseInsensitive: true,
    });
  }
}

function identifiers(name: unknown): string[] {
  return (Array.isArray(name) ? name : []).map((part) => {
    const ident = isRecord(part) && isRecord(part.Identifier) ? part.Identifier : part;
    return isRecord(ident) ? String(ident.value ?? '') : '';
  });
}

function argCount(fn: Record<string, unknown>): number {
  const list = isRecord(fn.args) && isRecord(fn.args.List) ? fn.args.List.args : undefined;
  return Array.isArray(list) ? list.length : 0;
}

/** The statement's kind in SQL words: SELECT, REPLACE, DROP TABLE, SHOW TABLES, START TRANSACTION… */
function displayType(kind: string, body: Record<string, unknown>): string {
  if (kind === 'Query') return 'SELECT';
  if (kind === 'Insert') return body.replace_into ? 'REPLACE' : 'INSERT';
  if (kind === 'ExplainTable') return 'DESCRIBE';
  if (kind === 'Drop' && typeof body.object_type === 'string') return `DROP ${words(body.object_type)}`;
  return words(kind);
}

function words(camel: string): string {
  return camel.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}
