/** The names a MySQL/MariaDB text uses, read from sqlparser-rs's parse tree (see sql-names.ts). */
import { isNode, NameCollector, type SqlStatementKind, type SqlStatementNames } from './sql-names.ts';
import { parseWithSqlparserRs } from './sqlparser-rs.ts';

const QUERY_STATEMENTS = new Set(['Query', 'Insert', 'Update', 'Delete', 'Merge']);

/** Names per statement; throws when sqlparser-rs does not parse the text. */
export async function readMysqlNames(sql: string): Promise<SqlStatementNames[]> {
  const { statements } = await parseWithSqlparserRs(sql, 'mysql');
  return statements.map((stmt) => {
    const [type, body] = Object.entries(stmt)[0] as [string, unknown];
    const names = new NameCollector();
    const kind = kindOf(type, body);
    if (kind === 'show') return { kind, names: [] };
    if (kind === 'set') {
      const setting = setVariable(body);
      return { kind, names: [], ...(setting ? { setting } : {}) };
    }
    if (kind === 'describe' || kind === 'analyze') {
      names.addParts(objectName(isNode(body) ? body.table_name : undefined), 'table');
    } else if (kind === 'call') {
      const call = isNode(body) ? body : {};
      names.addParts(objectName(call.name), 'function');
      visit(call.args, names);
    } else if (kind !== 'other') {
      visit(body, names);
    }
    return { kind, names: names.names };
  });
}

function kindOf(type: string, body: unknown): SqlStatementKind {
  if (QUERY_STATEMENTS.has(type)) return 'query';
  if (type === 'Explain') {
    const inner = isNode(body) && isNode(body.statement) ? Object.keys(body.statement)[0] : undefined;
    return inner && QUERY_STATEMENTS.has(inner) ? 'query' : 'other';
  }
  if (type === 'ExplainTable') return 'describe';
  if (type.startsWith('Show')) return 'show';
  if (type === 'Set') return 'set';
  if (type === 'Call') return 'call';
  if (type === 'Analyze') return 'analyze';
  return 'other';
}

/** The variable a `SET name = …` assigns (`@user` variables included, as written), lower-case. */
function setVariable(body: unknown): string | undefined {
  const single = isNode(body) && isNode(body.SingleAssignment) ? body.SingleAssignment : undefined;
  const parts = objectName(single?.variable);
  return parts.length ? parts.join('.').toLowerCase() : undefined;
}

/** The parts of an ObjectName (`[{Identifier: {value}}, …]`). */
function objectName(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((part) => {
    const ident = isNode(part) && isNode(part.Identifier) ? part.Identifier.value : undefined;
    return typeof ident === 'string' ? [ident] : [];
  });
}

/** The name an `alias` holds: an Ident, or a TableAlias `{name: Ident, columns}`. */
function addAlias(alias: unknown, names: NameCollector): void {
  if (!isNode(alias)) return;
  if (typeof alias.value === 'string') names.add(alias.value, 'defined');
  if (isNode(alias.name)) names.add(alias.name.value, 'defined');
  if (Array.isArray(alias.columns)) {
    for (const column of alias.columns) {
      const ident = isNode(column) && isNode(column.name) ? column.name : column;
      if (isNode(ident)) names.add(ident.value, 'defined');
    }
  }
}

function visit(value: unknown, names: NameCollector): void {
  if (Array.isArray(value)) {
    for (const item of value) visit(item, names);
    return;
  }
  if (!isNode(value)) return;
  for (const [key, child] of Object.entries(value)) {
    switch (key) {
      case 'Identifier':
        if (isNode(child) && typeof child.value === 'string') names.add(child.value, 'column');
        break;
      case 'CompoundIdentifier':
      case 'QualifiedWildcard':
        break;
      case 'Table': {
        const { name, alias, ...rest } = isNode(child) ? child : {};
        names.addParts(objectName(name), 'table');
        addAlias(alias, names);
        visit(rest, names);
        break;
      }
      case 'TableName':
        names.addParts(objectName(child), 'table');
        break;
      case 'Function': {
        const { name, ...rest } = isNode(child) ? child : {};
        names.addParts(objectName(name), 'function');
        visit(rest, names);
        break;
      }
      case 'alias':
        addAlias(child, names);
        break;
      case 'named_window':
        if (Array.isArray(child)) {
          for (const pair of child) {
            if (Array.isArray(pair)) {
              addAlias(pair[0], names);
              visit(pair.slice(1), names);
            }
          }
        }
        break;
      case 'NamedWindow':
      case 'data_type':
      case 'Value':
        break;
      default:
        visit(child, names);
    }
  }
}
