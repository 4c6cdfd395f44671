/** The names a PostgreSQL text uses, read from libpg-query's parse tree (see sql-names.ts). */
import { parse } from 'libpg-query';
import { isNode, NameCollector, type SqlStatementKind, type SqlStatementNames } from './sql-names.ts';

type Node = Record<string, unknown>;

const QUERY_STATEMENTS = new Set(['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

/** Names per statement; throws when libpg-query does not parse the text. */
export async function readPostgresNames(sql: string): Promise<SqlStatementNames[]> {
  const { stmts = [] } = (await parse(sql)) as { stmts?: { stmt: Node }[] };
  return stmts.map(({ stmt }) => {
    const [type, body] = Object.entries(stmt)[0] as [string, Node];
    const names = new NameCollector();
    const kind = kindOf(type, body);
    if (kind === 'show' || kind === 'set') {
      return {
        kind,
        names: [],
        ...(typeof body.name === 'string' ? { setting: body.name.toLowerCase() } : {}),
      };
    }
    if (kind !== 'other') visit(body, names, false);
    return { kind, names: names.names };
  });
}

function kindOf(type: string, body: Node): SqlStatementKind {
  if (QUERY_STATEMENTS.has(type)) return 'query';
  if (type === 'ExplainStmt') {
    const inner = isNode(body.query) ? Object.keys(body.query)[0] : undefined;
    return inner && QUERY_STATEMENTS.has(inner) ? 'query' : 'other';
  }
  if (type === 'VariableShowStmt') return 'show';
  if (type === 'VariableSetStmt') return 'set';
  if (type === 'CallStmt') return 'call';
  if (type === 'VacuumStmt' && body.is_vacuumcmd !== true) return 'analyze';
  return 'other';
}

function strings(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item) => {
    const s = isNode(item) && isNode(item.String) ? item.String.sval : undefined;
    return typeof s === 'string' ? [s] : [];
  });
}

/** `targetsAreColumns`: ResTarget names are columns being written (INSERT cols, UPDATE SET), not aliases. */
function visit(value: unknown, names: NameCollector, targetsAreColumns: boolean): void {
  if (Array.isArray(value)) {
    for (const item of value) visit(item, names, targetsAreColumns);
    return;
  }
  if (!isNode(value)) return;
  if (typeof value.relname === 'string') {
    // A RangeVar (bare inside INSERT/UPDATE/VACUUM, wrapped elsewhere).
    names.add(value.relname, 'table', typeof value.schemaname === 'string');
    visit(value.alias, names, false);
    return;
  }
  if (typeof value.aliasname === 'string') {
    names.add(value.aliasname, 'defined');
    for (const column of strings(value.colnames)) names.add(column, 'defined');
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    if (!isNode(child) && !Array.isArray(child)) continue;
    switch (key) {
      case 'ColumnRef': {
        const parts = strings((child as Node).fields);
        const star =
          Array.isArray((child as Node).fields) && parts.length < ((child as Node).fields as []).length;
        if (!star) names.addParts(parts, 'column');
        break;
      }
      case 'FuncCall': {
        const { funcname, ...rest } = child as Node;
        names.addParts(strings(funcname), 'function');
        visit(rest, names, false);
        break;
      }
      case 'ResTarget': {
        const { name, ...rest } = child as Node;
        names.add(name, targetsAreColumns ? 'column' : 'defined');
        visit(rest, names, false);
        break;
      }
      case 'CommonTableExpr': {
        const { ctename, aliascolnames, ...rest } = child as Node;
        names.add(ctename, 'defined');
        for (const column of strings(aliascolnames)) names.add(column, 'defined');
        visit(rest, names, false);
        break;
      }
      case 'WindowDef': {
        const { name, refname: _refname, ...rest } = child as Node;
        names.add(name, 'defined');
        visit(rest, names, false);
        break;
      }
      case 'IndexElem':
        names.add((child as Node).name, 'column');
        break;
      case 'usingClause':
        for (const column of strings(child)) names.add(column, 'column');
        break;
      case 'TypeName':
      case 'typeName':
      case 'DefElem':
      case 'options':
        break;
      case 'cols':
        visit(child, names, true);
        break;
      case 'targetList':
        visit(child, names, 'relation' in value && !('selectStmt' in value));
        break;
      default:
        visit(child, names, false);
    }
  }
}
