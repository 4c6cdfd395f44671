/** The names a SQLite text uses, read from sql-parser-cst's syntax tree (see sql-names.ts). */
import { parse } from 'sql-parser-cst';
import { isNode, NameCollector, type SqlStatementKind, type SqlStatementNames } from './sql-names.ts';

type Node = Record<string, unknown>;
/** Whether identifiers met here name tables (FROM, JOIN, INSERT INTO, UPDATE …), columns, or new names. */
type Context = 'table' | 'column' | 'defined';

const QUERY_STATEMENTS = new Set([
  'select_stmt',
  'compound_select_stmt',
  'insert_stmt',
  'update_stmt',
  'delete_stmt',
]);

/** Names per statement; throws when sql-parser-cst does not parse the text (parsed as the classifier parses it). */
export function readSqliteNames(sql: string): SqlStatementNames[] {
  const program = parse(sql, {
    dialect: 'sqlite',
    paramTypes: ['?', '?nr', ':name', '@name', '$name'],
  }) as unknown as { statements: Node[] };
  return program.statements
    .filter((s) => s.type !== 'empty')
    .map((stmt) => {
      if (deleteWithoutFrom(stmt)) throw new Error('SQLite needs DELETE FROM');
      const kind = kindOf(stmt);
      const names = new NameCollector();
      if (kind === 'analyze') visit(stmt.tables, names, 'table');
      else if (kind === 'query') visit(stmt, names, 'column');
      return { kind, names: names.names };
    });
}

/** sql-parser-cst accepts `DELETE t`, which SQLite itself rejects. */
function deleteWithoutFrom(stmt: Node): boolean {
  if (stmt.type !== 'delete_stmt' || !Array.isArray(stmt.clauses)) return false;
  return stmt.clauses.some((c) => isNode(c) && c.type === 'delete_clause' && c.fromKw === undefined);
}

function kindOf(stmt: Node): SqlStatementKind {
  const type = String(stmt.type);
  if (QUERY_STATEMENTS.has(type)) return 'query';
  if (type === 'explain_stmt' && isNode(stmt.statement)) {
    return QUERY_STATEMENTS.has(String(stmt.statement.type)) ? 'query' : 'other';
  }
  if (type === 'analyze_stmt') return 'analyze';
  return 'other';
}

function identifierName(node: unknown): string | undefined {
  return isNode(node) && node.type === 'identifier' && typeof node.name === 'string' ? node.name : undefined;
}

function visit(value: unknown, names: NameCollector, context: Context): void {
  if (Array.isArray(value)) {
    for (const item of value) visit(item, names, context);
    return;
  }
  if (!isNode(value)) return;
  switch (value.type) {
    case 'identifier':
      names.add(value.name, context);
      return;
    case 'keyword':
    case 'data_type_name':
    case 'string_literal':
    case 'number_literal':
    case 'all_columns':
      return;
    case 'member_expr':
      // t.c or s.t: qualified, an identifier by its shape; anything else (a call's result…) is looked into.
      if (identifierName(value.object) === undefined) visit(value.object, names, 'column');
      return;
    case 'func_call':
      names.add(identifierName(value.name), 'function');
      visit([value.args, value.filter, value.over], names, 'column');
      return;
    case 'alias':
      names.add(identifierName(value.alias), 'defined');
      visit(value.expr, names, context);
      return;
    case 'common_table_expr':
      names.add(identifierName(value.table), 'defined');
      visit(value.columns, names, 'defined');
      visit(value.expr, names, 'column');
      return;
    case 'named_window':
      names.add(identifierName(value.name), 'defined');
      visit(value.window, names, 'column');
      return;
    case 'over_arg':
      return;
    case 'from_clause':
      visit(value.expr, names, 'table');
      return;
    case 'join_expr':
      visit([value.left, value.right], names, 'table');
      visit(value.specification, names, 'column');
      return;
    case 'insert_clause':
      visit(value.table, names, 'table');
      visit(value.columns, names, 'column');
      return;
    case 'update_clause':
    case 'delete_clause':
      visit(value.tables, names, 'table');
      return;
    case 'paren_expr':
      visit(value.expr, names, context);
      return;
    case 'select_stmt':
    case 'compound_select_stmt':
      // A subquery names columns again, even inside FROM.
      for (const [key, child] of Object.entries(value)) if (key !== 'type') visit(child, names, 'column');
      return;
    default:
      for (const [key, child] of Object.entries(value)) if (key !== 'type') visit(child, names, context);
  }
}
