/**
 * PostgreSQL classification on libpg-query, which is PostgreSQL's own parser (src/backend/parser) compiled to
 * WASM: what it accepts and how it splits statements, strings, dollar quotes and comments is what the server does.
 */
import { parse } from 'libpg-query';
import { Findings, forEachNode, isRecord } from './findings.ts';
import { judgeFunctionCall, type ClassifyOptions } from './function-policy.ts';
import { POSTGRES_BUILTIN_OPERATORS, POSTGRES_FUNCTION_POLICY } from './postgres-function-policy.ts';
import { batchVerdict, TRANSACTION_CONTROL, type StatementVerdict, type Verdict } from './verdict.ts';

interface RawStatement {
  stmt?: Record<string, unknown>;
  stmt_location?: number;
  stmt_len?: number;
}

/** Classifies a PostgreSQL batch: every statement, the batch taking the most dangerous class. */
export async function classifyPostgres(sql: string, options: ClassifyOptions = {}): Promise<Verdict> {
  let stmts: RawStatement[];
  try {
    stmts = ((await parse(sql)) as { stmts?: RawStatement[] }).stmts ?? [];
  } catch (error) {
    if (sql.trim() === '' || /cannot be empty/i.test(String((error as Error).message)))
      return batchVerdict([]);
    return unparseable(sql, error);
  }
  const texts = statementTexts(sql, stmts);
  const statements = stmts.map((raw, i) => classifyStatement(raw.stmt ?? {}, texts[i] ?? '', options));
  return batchVerdict(statements);
}

/** Splits a PostgreSQL batch into statement texts exactly where the server would; throws when it does not parse. */
export async function splitPostgres(sql: string): Promise<string[]> {
  const stmts = ((await parse(sql)) as { stmts?: RawStatement[] }).stmts ?? [];
  return statementTexts(sql, stmts);
}

function unparseable(sql: string, error: unknown): Verdict {
  const message = error instanceof Error ? error.message : String(error);
  const statement: StatementVerdict = {
    sql: sql.trim(),
    verdict: 'other',
    type: 'UNPARSEABLE',
    unparsed: true,
    reasons: [`PostgreSQL's parser rejected it: ${message}`],
  };
  return batchVerdict([statement]);
}

/** libpg-query reports byte offsets into the UTF-8 text; a missing length means "to the end". */
function statementTexts(sql: string, stmts: RawStatement[]): string[] {
  const bytes = Buffer.from(sql, 'utf8');
  return stmts.map((s) => {
    const start = s.stmt_location ?? 0;
    const end = s.stmt_len ? start + s.stmt_len : bytes.length;
    return bytes.subarray(start, end).toString('utf8').trim();
  });
}

const DDL = new Set([
  'CreateStmt',
  'CreateSchemaStmt',
  'AlterTableStmt',
  'ReplicaIdentityStmt',
  'AlterCollationStmt',
  'AlterDomainStmt',
  'GrantStmt',
  'AlterDefaultPrivilegesStmt',
  'CreateTableSpaceStmt',
  'DropTableSpaceStmt',
  'AlterTableSpaceOptionsStmt',
  'AlterTableMoveAllStmt',
  'CreateExtensionStmt',
  'AlterExtensionStmt',
  'AlterExtensionContentsStmt',
  'CreateFdwStmt',
  'AlterFdwStmt',
  'CreateForeignServerStmt',
  'AlterForeignServerStmt',
  'CreateForeignTableStmt',
  'CreateUserMappingStmt',
  'AlterUserMappingStmt',
  'DropUserMappingStmt',
  'ImportForeignSchemaStmt',
  'CreatePolicyStmt',
  'AlterPolicyStmt',
  'CreateAmStmt',
  'CreateTrigStmt',
  'CreateEventTrigStmt',
  'AlterEventTrigStmt',
  'CreatePLangStmt',
  'CreateSeqStmt',
  'AlterSeqStmt',
  'DefineStmt',
  'CreateDomainStmt',
  'CreateOpClassStmt',
  'CreateOpFamilyStmt',
  'AlterOpFamilyStmt',
  'DropStmt',
  'TruncateStmt',
  'CommentStmt',
  'SecLabelStmt',
  'IndexStmt',
  'CreateStatsStmt',
  'AlterStatsStmt',
  'CreateFunctionStmt',
  'AlterFunctionStmt',
  'RenameStmt',
  'AlterObjectDependsStmt',
  'AlterObjectSchemaStmt',
  'AlterOwnerStmt',
  'AlterOperatorStmt',
  'AlterTypeStmt',
  'RuleStmt',
  'CompositeTypeStmt',
  'CreateEnumStmt',
  'CreateRangeStmt',
  'AlterEnumStmt',
  'ViewStmt',
  'CreatedbStmt',
  'AlterDatabaseStmt',
  'AlterDatabaseRefreshCollStmt',
  'AlterDatabaseSetStmt',
  'DropdbStmt',
  'CreateConversionStmt',
  'CreateCastStmt',
  'CreateTransformStmt',
  'AlterTSDictionaryStmt',
  'AlterTSConfigurationStmt',
  'CreatePublicationStmt',
  'AlterPublicationStmt',
  'CreateSubscriptionStmt',
  'AlterSubscriptionStmt',
  'DropSubscriptionStmt',
  'CreateTableAsStmt',
]);

/** Statement kinds that are `other` with a specific reason; anything not named anywhere is `other` too. */
const OTHER_REASONS: Record<string, string> = {
  VariableSetStmt: 'changes a session setting (SET/RESET)',
  TransactionStmt: TRANSACTION_CONTROL,
  DoStmt: 'runs an anonymous code block the classifier cannot see into',
  CallStmt: 'calls a procedure, which can do anything',
  LockStmt: 'takes explicit table locks',
  VacuumStmt: 'runs maintenance (VACUUM/ANALYZE)',
  ClusterStmt: 'rewrites a table (CLUSTER)',
  ReindexStmt: 'rebuilds indexes',
  CheckPointStmt: 'forces a checkpoint',
  NotifyStmt: 'sends a notification to other sessions',
  ListenStmt: 'subscribes the session to notifications',
  UnlistenStmt: 'changes the session’s notification subscriptions',
  PrepareStmt: 'prepares a statement for later execution',
  ExecuteStmt: 'executes a prepared statement the classifier cannot see',
  DeallocateStmt: 'changes session state (DEALLOCATE)',
  DeclareCursorStmt: 'opens a cursor (session state)',
  FetchStmt: 'reads from a cursor declared elsewhere',
  ClosePortalStmt: 'changes session state (CLOSE)',
  DiscardStmt: 'discards session state',
  LoadStmt: 'loads a shared library into the server',
  AlterSystemStmt: "changes the server's configuration file",
  ConstraintsSetStmt: 'changes constraint timing for the transaction',
  CreateRoleStmt: 'manages roles and their privileges',
  AlterRoleStmt: 'manages roles and their privileges',
  AlterRoleSetStmt: 'manages roles and their privileges',
  DropRoleStmt: 'manages roles and their privileges',
  GrantRoleStmt: 'grants or revokes role membership',
  DropOwnedStmt: 'drops or reassigns everything a role owns',
  ReassignOwnedStmt: 'drops or reassigns everything a role owns',
};

function classifyStatement(
  node: Record<string, unknown>,
  sql: string,
  options: ClassifyOptions,
): StatementVerdict {
  const [kind, body] = unwrap(node);
  const findings = classifyNode(kind, body, options);
  return findings.toStatement(sql, displayType(kind, body));
}

function unwrap(node: Record<string, unknown>): [string, Record<string, unknown>] {
  const [kind, body] = Object.entries(node)[0] ?? ['Unknown', {}];
  return [kind, isRecord(body) ? body : {}];
}

function classifyNode(kind: string, body: Record<string, unknown>, options: ClassifyOptions): Findings {
  switch (kind) {
    case 'SelectStmt': {
      const f = body.intoClause
        ? new Findings('write', 'SELECT INTO creates and fills a table')
        : new Findings('read', 'reads data; nothing with side effects found');
      inspectExpressions(body, f, options);
      return f;
    }
    case 'InsertStmt':
    case 'UpdateStmt':
    case 'DeleteStmt':
    case 'MergeStmt': {
      const f = new Findings('write', `${displayType(kind, body)} changes rows`);
      inspectExpressions(body, f, options);
      return f;
    }
    case 'VariableShowStmt':
      return new Findings('read', 'SHOW reads a setting');
    case 'ExplainStmt':
      return classifyExplain(body, options);
    case 'CopyStmt':
      return classifyCopy(body, options);
    case 'RefreshMatViewStmt':
      return new Findings('write', "REFRESH MATERIALIZED VIEW replaces the view's stored rows");
    case 'CreateTableAsStmt': {
      // The only DDL whose query runs now, so its functions matter too.
      const f = new Findings('ddl', 'creates a table or materialized view from a query');
      inspectExpressions(body.query, f, options);
      return f;
    }
    case 'TruncateStmt':
      return new Findings(
        'ddl',
        'TRUNCATE empties whole tables; treated as DDL because it cannot be dry-run as a row change',
      );
    default:
      if (DDL.has(kind))
        return new Findings('ddl', `${displayType(kind, body)} changes the schema or its permissions`);
      return new Findings(
        'other',
        OTHER_REASONS[kind] ?? `${displayType(kind, body)} is not a statement known to be safe`,
      );
  }
}

/**
 * Walks a query's tree for what makes it more than a read: a data-modifying statement nested in WITH, row locks
 * (FOR UPDATE/SHARE need UPDATE privilege and write lock marks into the rows), and function calls.
 */
function inspectExpressions(tree: unknown, f: Findings, options: ClassifyOptions): void {
  forEachNode(tree, (key, node) => {
    if (!isRecord(node)) {
      if (key === 'lockingClause' && Array.isArray(node) && node.length > 0) {
        f.raise(
          'write',
          'locks rows (FOR UPDATE/FOR SHARE), which needs UPDATE privilege and writes row lock marks',
        );
      }
      return;
    }
    switch (key) {
      case 'InsertStmt':
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'MergeStmt':
        f.raise('write', `contains a data-modifying ${displayType(key, node)} (e.g. in a WITH clause)`);
        break;
      case 'FuncCall': {
        const reason = judgeFunction(node, options);
        if (reason) f.raise('other', reason);
        break;
      }
      case 'SelectStmt':
        if (node.intoClause) f.raise('write', 'SELECT INTO creates and fills a table');
        break;
      case 'A_Expr': {
        const reason = judgeOperator(node, options);
        if (reason) f.raise('other', reason);
        break;
      }
    }
  });
}

function judgeFunction(call: Record<string, unknown>, options: ClassifyOptions): string | undefined {
  const parts = (Array.isArray(call.funcname) ? call.funcname : []).map((p) =>
    isRecord(p) && isRecord(p.String) ? String(p.String.sval ?? '') : '',
  );
  const name = parts.at(-1) ?? '';
  const schema = parts.length > 1 ? parts.slice(0, -1).join('.') : undefined;
  return judgeFunctionCall(
    { name, ...(schema === undefined ? {} : { schema }), builtinSchema: 'pg_catalog' },
    POSTGRES_FUNCTION_POLICY,
    { ...options, caseInsensitive: false },
  );
}

/** Operator kinds whose `name` is a real operator (the others name a construct: BETWEEN, LIKE's ~~ and so on). */
const OPERATOR_KINDS = new Set([
  'AEXPR_OP',
  'AEXPR_OP_ANY',
  'AEXPR_OP_ALL',
  'AEXPR_DISTINCT',
  'AEXPR_NOT_DISTINCT',
  'AEXPR_NULLIF',
  'AEXPR_IN',
  'AEXPR_LIKE',
  'AEXPR_ILIKE',
  'AEXPR_SIMILAR',
]);

function judgeOperator(expr: Record<string, unknown>, options: ClassifyOptions): string | undefined {
  if (!OPERATOR_KINDS.has(String(expr.kind))) return undefined;
  const parts = (Array.isArray(expr.name) ? expr.name : []).map((p) =>
    isRecord(p) && isRecord(p.String) ? String(p.String.sval ?? '') : '',
  );
  const name = parts.at(-1) ?? '';
  const schema = parts.length > 1 ? parts.slice(0, -1).join('.') : undefined;
  const qualified = schema === undefined ? name : `${schema}.${name}`;
  if ((schema === undefined || schema === 'pg_catalog') && POSTGRES_BUILTIN_OPERATORS.has(name))
    return undefined;
  if (options.safeFunctions?.includes(`operator ${qualified}`)) return undefined;
  return `uses operator ${qualified}, which is not a built-in operator (an operator runs a function)`;
}

/** EXPLAIN only plans, so it is a read; EXPLAIN ANALYZE runs its statement, so it takes that statement's class. */
function classifyExplain(body: Record<string, unknown>, options: ClassifyOptions): Findings {
  const query = isRecord(body.query) ? body.query : {};
  const [innerKind, innerBody] = unwrap(query);
  const analyze = (Array.isArray(body.options) ? body.options : []).some((o) => {
    const def = isRecord(o) && isRecord(o.DefElem) ? o.DefElem : undefined;
    return def?.defname === 'analyze' && !isFalse(def.arg);
  });
  if (innerKind === 'ExecuteStmt') {
    return new Findings('other', 'EXPLAIN EXECUTE plans a prepared statement the classifier cannot see');
  }
  if (analyze) {
    const inner = classifyNode(innerKind, innerBody, options);
    const f = new Findings(
      inner.verdict,
      `EXPLAIN ANALYZE executes the ${displayType(innerKind, innerBody)}`,
    );
    for (const r of inner.reasons) f.raise(inner.verdict, r);
    return f;
  }
  const f = new Findings('read', `EXPLAIN plans the ${displayType(innerKind, innerBody)} without running it`);
  // The planner evaluates immutable calls on constants, so a function it cannot vouch for still counts.
  const probe = new Findings('read', '');
  inspectExpressions(innerBody, probe, options);
  for (const r of probe.reasons) if (r.startsWith('calls ')) f.raise('other', r);
  return f;
}

/** PostgreSQL's parse_bool: the false spellings an EXPLAIN option accepts; anything else counts as on. */
function isFalse(arg: unknown): boolean {
  if (!isRecord(arg)) return false;
  if (isRecord(arg.String)) {
    const v = String(arg.String.sval ?? '').toLowerCase();
    return ['f', 'fa', 'fal', 'fals', 'false', 'n', 'no', 'of', 'off', '0'].includes(v);
  }
  if (isRecord(arg.Integer)) return !arg.Integer.ival;
  if (isRecord(arg.Boolean)) return !arg.Boolean.boolval;
  return false;
}

function classifyCopy(body: Record<string, unknown>, options: ClassifyOptions): Findings {
  if (body.is_program) {
    return new Findings(
      'other',
      `COPY ${body.is_from ? 'FROM' : 'TO'} PROGRAM runs a shell command on the server`,
    );
  }
  if (body.is_from) {
    const f = new Findings('write', 'COPY FROM loads rows into a table');
    if (body.filename) f.raise('write', "reads a file on the database server's disk");
    return f;
  }
  if (body.filename) return new Findings('other', "COPY TO a file writes to the database server's disk");
  if (isRecord(body.query)) {
    const [kind, inner] = unwrap(body.query);
    const f = classifyNode(kind, inner, options);
    f.raise(f.verdict, 'COPY … TO STDOUT streams the query result');
    return f;
  }
  return new Findings('read', 'COPY … TO STDOUT streams the table');
}

const TYPE_NAMES: Record<string, string> = {
  SelectStmt: 'SELECT',
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
  VariableShowStmt: 'SHOW',
  VariableSetStmt: 'SET',
  CreateStmt: 'CREATE TABLE',
  IndexStmt: 'CREATE INDEX',
  ViewStmt: 'CREATE VIEW',
  CreatedbStmt: 'CREATE DATABASE',
  DropdbStmt: 'DROP DATABASE',
  CreateTrigStmt: 'CREATE TRIGGER',
  CreateSeqStmt: 'CREATE SEQUENCE',
  DoStmt: 'DO',
  CallStmt: 'CALL',
  CopyStmt: 'COPY',
  ExplainStmt: 'EXPLAIN',
  TruncateStmt: 'TRUNCATE',
  RuleStmt: 'CREATE RULE',
  DefineStmt: 'CREATE',
  CreateTableAsStmt: 'CREATE TABLE AS',
  RefreshMatViewStmt: 'REFRESH MATERIALIZED VIEW',
  VacuumStmt: 'VACUUM',
  GrantStmt: 'GRANT',
  GrantRoleStmt: 'GRANT ROLE',
  LockStmt: 'LOCK',
};

/** The statement's kind in SQL words: SELECT, CREATE INDEX, DROP TABLE, BEGIN… */
function displayType(kind: string, body: Record<string, unknown>): string {
  if (kind === 'DropStmt' && typeof body.removeType === 'string') {
    return `DROP ${body.removeType.replace(/^OBJECT_/, '').replace(/_/g, ' ')}`;
  }
  if (kind === 'TransactionStmt' && typeof body.kind === 'string') {
    return body.kind.replace(/^TRANS_STMT_/, '').replace(/_/g, ' ');
  }
  if (kind === 'VacuumStmt' && body.is_vacuumcmd === undefined) return 'ANALYZE';
  if (kind === 'GrantStmt' && !body.is_grant) return 'REVOKE';
  if (kind === 'CreateTableAsStmt' && body.objtype === 'OBJECT_MATVIEW') return 'CREATE MATERIALIZED VIEW';
  const known = TYPE_NAMES[kind];
  if (known) return known;
  return kind
    .replace(/Stmt$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toUpperCase();
}
