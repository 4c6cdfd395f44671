/**
 * SQLite classification on sql-parser-cst (SQLite dialect).
 *
 * Why sql-parser-cst: on the SQLite hard cases it was the only candidate to parse every statement kind SQLite has
 * (PRAGMA in all three forms, VACUUM INTO, ATTACH/DETACH, REINDEX, INDEXED BY, WITH … DELETE, UPSERT clauses,
 * [bracket] identifiers), and it reports each statement's source range. sqlparser-rs rejected PRAGMA assignments,
 * VACUUM INTO, DETACH and GLOB; node-sql-parser rejected PRAGMA, VACUUM, EXPLAIN and transactions outright.
 * SQLite's lexer is simple (no executable comments, `--` always a comment, no backslash escapes), and
 * sql-parser-cst lexes it the same way, so statement boundaries agree with the engine's.
 */
import { parse } from 'sql-parser-cst';
import { Findings, forEachObject, isRecord } from './findings.ts';
import { judgeFunctionCall, type ClassifyOptions } from './function-policy.ts';
import {
  SQLITE_FUNCTION_POLICY,
  SQLITE_PRAGMAS_WITH_SUBJECT,
  SQLITE_READ_PRAGMAS,
} from './sqlite-function-policy.ts';
import { batchVerdict, TRANSACTION_CONTROL, type StatementVerdict, type Verdict } from './verdict.ts';

type Node = Record<string, unknown>;

function parseSqlite(sql: string): Node[] {
  const program = parse(sql, {
    dialect: 'sqlite',
    includeRange: true,
    paramTypes: ['?', '?nr', ':name', '@name', '$name'],
  }) as unknown as { statements: Node[] };
  return program.statements.filter((s) => s.type !== 'empty');
}

/** Classifies a SQLite batch: every statement, the batch taking the most dangerous class. */
export async function classifySqlite(sql: string, options: ClassifyOptions = {}): Promise<Verdict> {
  let statements: Node[];
  try {
    statements = parseSqlite(sql);
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
    const only: StatementVerdict = {
      sql: sql.trim(),
      verdict: 'other',
      type: 'UNPARSEABLE',
      unparsed: true,
      reasons: [`the SQLite parser could not parse it: ${message}`],
    };
    return batchVerdict([only]);
  }
  return batchVerdict(
    statements.map((s) => classifyNode(s, options).toStatement(textOf(sql, s), displayType(s))),
  );
}

/** Splits a SQLite batch into statement texts; throws when it does not parse. */
export function splitSqliteStatements(sql: string): string[] {
  return parseSqlite(sql).map((s) => textOf(sql, s));
}

function textOf(sql: string, node: Node): string {
  const range = Array.isArray(node.range) ? (node.range as number[]) : [0, sql.length];
  return sql.slice(range[0], range[1]).trim();
}

const OTHER_REASONS: Record<string, string> = {
  attach_database_stmt: 'ATTACH opens (or creates) another database file',
  detach_database_stmt: 'DETACH changes the connection’s databases',
  analyze_stmt: 'runs maintenance (ANALYZE)',
  reindex_stmt: 'rebuilds indexes',
  start_transaction_stmt: TRANSACTION_CONTROL,
  commit_transaction_stmt: TRANSACTION_CONTROL,
  rollback_transaction_stmt: TRANSACTION_CONTROL,
  savepoint_stmt: TRANSACTION_CONTROL,
  release_savepoint_stmt: TRANSACTION_CONTROL,
};

function classifyNode(stmt: Node, options: ClassifyOptions): Findings {
  const kind = String(stmt.type);
  const type = displayType(stmt);
  switch (kind) {
    case 'select_stmt':
    case 'compound_select_stmt': {
      const f = new Findings('read', 'reads data; nothing with side effects found');
      inspect(stmt, f, options);
      return f;
    }
    case 'insert_stmt':
    case 'update_stmt':
    case 'delete_stmt': {
      const f = new Findings('write', `${type} changes rows`);
      inspect(stmt, f, options);
      return f;
    }
    case 'explain_stmt': {
      // SQLite's EXPLAIN (QUERY PLAN) compiles its statement and never runs it.
      const inner = isRecord(stmt.statement) ? stmt.statement : {};
      const innerClass = classifyNode(inner, options).verdict;
      if (innerClass === 'write' || innerClass === 'ddl') {
        // It does not run, but sqlite3_stmt_readonly() judges EXPLAIN by its statement, so it keeps that class.
        return new Findings(innerClass, `EXPLAIN of a ${displayType(inner)} is not read-only to SQLite`);
      }
      const f = new Findings('read', `EXPLAIN compiles the ${displayType(inner)} without running it`);
      const probe = new Findings('read', '');
      inspect(inner, probe, options);
      for (const r of probe.reasons) if (r.startsWith('calls ')) f.raise('other', r);
      return f;
    }
    case 'pragma_stmt':
      return classifyPragma(stmt);
    case 'vacuum_stmt':
      return stmt.file
        ? new Findings('other', 'VACUUM INTO writes a copy of the database to a file')
        : new Findings('other', 'VACUUM rebuilds the database file');
  }
  if (/^(create|alter|drop|rename)_/.test(kind)) {
    const f = new Findings('ddl', `${type} changes the schema`);
    // CREATE TABLE … AS SELECT runs its query now, so that query's functions count.
    if (kind === 'create_table_stmt') {
      forEachObject(stmt, (node) => {
        if (node.type === 'select_stmt' || node.type === 'compound_select_stmt')
          inspect({ node }, f, options);
      });
    }
    return f;
  }
  return new Findings('other', OTHER_REASONS[kind] ?? `${type} is not a statement known to be safe`);
}

function classifyPragma(stmt: Node): Findings {
  const pragma = isRecord(stmt.pragma) ? stmt.pragma : {};
  const name = identifierName(
    pragma.type === 'identifier' || pragma.type === 'member_expr' ? pragma : pragma.name,
  );
  if (pragma.type === 'pragma_assignment')
    return new Findings('other', `PRAGMA ${name} = … changes a setting`);
  if (pragma.type === 'pragma_func_call') {
    return SQLITE_PRAGMAS_WITH_SUBJECT.has(name)
      ? new Findings('read', `PRAGMA ${name}(…) reports on a schema object`)
      : new Findings('other', `PRAGMA ${name}(…) sets a value`);
  }
  return SQLITE_READ_PRAGMAS.has(name)
    ? new Findings('read', `PRAGMA ${name} reports a setting or schema information`)
    : new Findings('other', `PRAGMA ${name} is not known to be free of side effects`);
}

/** Walks a statement for nested writes and function calls. */
function inspect(tree: unknown, f: Findings, options: ClassifyOptions): void {
  forEachObject(tree, (node) => {
    if (node === tree) return;
    if (node.type === 'insert_stmt' || node.type === 'update_stmt' || node.type === 'delete_stmt') {
      f.raise('write', `contains a data-modifying ${displayType(node)}`);
    } else if (node.type === 'func_call') {
      const reason = judgeFunction(node, options);
      if (reason) f.raise('other', reason);
    }
  });
}

function judgeFunction(call: Node, options: ClassifyOptions): string | undefined {
  const nameNode = isRecord(call.name) ? call.name : {};
  const name = identifierName(nameNode).toLowerCase();
  const schema =
    nameNode.type === 'member_expr' && isRecord(nameNode.object)
      ? identifierName(nameNode.object)
      : undefined;
  if (schema === undefined && name.startsWith('pragma_')) {
    const pragma = name.slice('pragma_'.length);
    const args = argumentCount(call);
    if (SQLITE_READ_PRAGMAS.has(pragma) && (args === 0 || SQLITE_PRAGMAS_WITH_SUBJECT.has(pragma)))
      return undefined;
    return `calls ${name}(), which may set PRAGMA ${pragma} rather than report it`;
  }
  return judgeFunctionCall({ name, ...(schema === undefined ? {} : { schema }) }, SQLITE_FUNCTION_POLICY, {
    ...options,
    caseInsensitive: true,
  });
}

function argumentCount(call: Node): number {
  let count = 0;
  const args = isRecord(call.args) ? call.args : undefined;
  const list = args && isRecord(args.expr) && isRecord(args.expr.args) ? args.expr.args.items : undefined;
  if (Array.isArray(list)) count = list.length;
  return count;
}

function identifierName(node: unknown): string {
  if (!isRecord(node)) return '';
  if (node.type === 'member_expr') return identifierName(node.property);
  return String(node.name ?? node.text ?? '');
}

/** The statement's kind in SQL words: SELECT, INSERT, CREATE TABLE, PRAGMA… */
function displayType(stmt: Node): string {
  const kind = String(stmt.type ?? 'unknown');
  if (kind === 'compound_select_stmt') return 'SELECT';
  if (kind === 'start_transaction_stmt') return 'BEGIN';
  if (kind === 'commit_transaction_stmt') return 'COMMIT';
  if (kind === 'rollback_transaction_stmt') return 'ROLLBACK';
  if (kind === 'attach_database_stmt') return 'ATTACH';
  if (kind === 'detach_database_stmt') return 'DETACH';
  if (kind === 'insert_stmt' && JSON.stringify(stmt).includes('"name":"REPLACE"')) return 'REPLACE';
  return kind
    .replace(/_stmt$/, '')
    .replace(/_/g, ' ')
    .toUpperCase();
}
