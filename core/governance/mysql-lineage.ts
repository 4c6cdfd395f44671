/**
 * MySQL/MariaDB → lineage IR, from sqlparser-rs (the parser the MySQL classifier uses). Its AST is serde JSON:
 * enums are `{Variant: payload}`, and an expression identifier looks like a name part, so the generic walk skips
 * the keys that hold names (function names, types, aliases) rather than expressions.
 */
import { parseWithSqlparserRs } from '../safety/sqlparser-rs.ts';
import {
  CONSTANT,
  COUNTING_FUNCTIONS,
  type LineageCte,
  type LineageExpr,
  type LineageItem,
  type LineageQuery,
  type LineageSource,
} from './lineage-ir.ts';

type Node = Record<string, unknown>;

const isObject = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** `{Variant: payload}` → [Variant, payload]; a bare string variant → [string, undefined]. */
function variant(value: unknown): [string, unknown] | undefined {
  if (typeof value === 'string') return [value, undefined];
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1 || !/^[A-Z]/.test(keys[0]!)) return undefined;
  return [keys[0]!, value[keys[0]!]];
}

/** An Ident (`{value}`) or ObjectNamePart (`{Identifier: {value}}`) as text. */
function identText(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  if (typeof value.value === 'string') return value.value;
  const v = variant(value);
  return v && v[0] === 'Identifier' ? identText(v[1]) : undefined;
}

function objectName(value: unknown): string[] {
  return list(value).flatMap((p) => {
    const text = identText(p);
    return text === undefined ? [] : [text];
  });
}

/** The lineage IR of a MySQL read; an opaque query when it is not one query the translator follows. */
export async function mysqlLineage(sql: string): Promise<LineageQuery> {
  const { statements } = await parseWithSqlparserRs(sql, 'mysql');
  if (statements.length !== 1) return { kind: 'opaque', reason: `${statements.length} statements` };
  const top = variant(statements[0]);
  if (!top || top[0] !== 'Query' || !isObject(top[1])) return { kind: 'opaque', reason: 'not a query' };
  return query(top[1]);
}

function query(q: Node): LineageQuery {
  const withClause = isObject(q.with) ? q.with : undefined;
  const ctes = list(withClause?.cte_tables).flatMap((c): LineageCte[] => {
    if (!isObject(c) || !isObject(c.query)) return [];
    const alias = isObject(c.alias) ? c.alias : {};
    const columns = list(alias.columns).flatMap((col) => {
      const text = isObject(col) ? (identText(col.name) ?? identText(col)) : undefined;
      return text === undefined ? [] : [text];
    });
    return [
      { name: identText(alias.name) ?? '', ...(columns.length ? { columns } : {}), query: query(c.query) },
    ];
  });
  const recursive = withClause?.recursive === true;
  const order = orderExprs(q.order_by);
  const body = setExpr(q.body);
  if (body.kind === 'select') return { ...body, ctes, recursive, conceal: [...body.conceal, ...order] };
  if (body.kind === 'set') return { ...body, ctes, recursive, conceal: [...body.conceal, ...order] };
  if (ctes.length) return { kind: 'set', ctes, recursive, branches: [body], conceal: order };
  return body;
}

function orderExprs(orderBy: unknown): LineageExpr[] {
  if (!isObject(orderBy)) return [];
  const kind = variant(orderBy.kind);
  const exprs = kind && kind[0] === 'Expressions' ? list(kind[1]) : list(orderBy.exprs);
  return exprs.map((o) => (isObject(o) && 'expr' in o ? expr(o.expr) : generic(o)));
}

function setExpr(value: unknown): LineageQuery {
  const v = variant(value);
  if (!v) return { kind: 'opaque', reason: 'query body' };
  const [kind, body] = v;
  if (kind === 'Select' && isObject(body)) return select(body);
  if (kind === 'Query' && isObject(body)) return query(body);
  if (kind === 'SetOperation' && isObject(body)) {
    return { kind: 'set', ctes: [], branches: [setExpr(body.left), setExpr(body.right)], conceal: [] };
  }
  if (kind === 'Values' && isObject(body)) {
    return {
      kind: 'values',
      rows: list(body.rows).map((row) => list(isObject(row) ? row.content : row).map(expr)),
    };
  }
  return { kind: 'opaque', reason: kind };
}

function select(s: Node): LineageQuery {
  const items = list(s.projection).map((item): LineageItem => {
    const v = variant(item);
    if (!v) return { expr: { kind: 'opaque', reason: 'projection', refs: [] } };
    const [kind, body] = v;
    if (kind === 'Wildcard') return { expr: { kind: 'star' } };
    if (kind === 'QualifiedWildcard') {
      const [target] = list(body);
      const name = variant(target);
      return { expr: { kind: 'star', qualifier: objectName(name?.[0] === 'ObjectName' ? name[1] : target) } };
    }
    if (kind === 'ExprWithAlias' && isObject(body)) {
      const alias = identText(body.alias);
      return { expr: expr(body.expr), ...(alias !== undefined ? { alias } : {}) };
    }
    if (kind === 'UnnamedExpr') return { expr: expr(body) };
    return { expr: { kind: 'opaque', reason: kind, refs: [generic(body)] } };
  });
  const groupBy = variant(s.group_by);
  const groups = groupBy && groupBy[0] === 'Expressions' ? list(list(groupBy[1])[0]).map(expr) : [];
  const conceal = [s.selection, s.having, s.qualify, ...list(s.sort_by), ...list(s.named_window)]
    .filter((n) => n !== undefined && n !== null)
    .map(expr);
  return {
    kind: 'select',
    ctes: [],
    from: list(s.from).map(tableWithJoins),
    items,
    conceal: [...conceal, ...groups, ...(isObject(s.distinct) ? [generic(s.distinct)] : [])],
  };
}

function tableWithJoins(value: unknown): LineageSource {
  if (!isObject(value)) return { kind: 'opaque', refs: [] };
  let acc = tableFactor(value.relation);
  for (const join of list(value.joins)) {
    if (!isObject(join)) continue;
    const operator = JSON.stringify(join.join_operator ?? '');
    const on: unknown[] = [];
    const findOn = (v: unknown): void => {
      if (Array.isArray(v)) return v.forEach(findOn);
      if (!isObject(v)) return;
      if ('On' in v) on.push(v.On);
      else Object.values(v).forEach(findOn);
    };
    findOn(join.join_operator);
    acc = {
      kind: 'join',
      left: acc,
      right: tableFactor(join.relation),
      merges: /"Using"|"Natural"/.test(operator),
      on: on.map(expr),
    };
  }
  return acc;
}

function aliasOf(body: Node): { alias?: string; columns: string[] } {
  const alias = isObject(body.alias) ? body.alias : undefined;
  const name = identText(alias?.name);
  const columns = list(alias?.columns).flatMap((c) => {
    const text = isObject(c) ? (identText(c.name) ?? identText(c)) : undefined;
    return text === undefined ? [] : [text];
  });
  return { ...(name !== undefined ? { alias: name } : {}), columns };
}

function tableFactor(value: unknown): LineageSource {
  const v = variant(value);
  if (!v || !isObject(v[1])) return { kind: 'opaque', refs: [] };
  const [kind, body] = v as [string, Node];
  const { alias, columns } = aliasOf(body);
  const named = alias !== undefined ? { alias } : {};
  if (kind === 'Table' && !body.args) return { kind: 'table', path: objectName(body.name), ...named };
  if (kind === 'Derived' && isObject(body.subquery)) {
    return {
      kind: 'query',
      query: query(body.subquery),
      ...named,
      ...(columns.length ? { columnAliases: columns } : {}),
      lateral: body.lateral === true,
    };
  }
  if (kind === 'NestedJoin') return tableWithJoins(body.table_with_joins);
  return { kind: 'opaque', ...named, refs: [generic(body)] };
}

function functionArgs(args: unknown): { list: LineageExpr[]; clauses: LineageExpr[] } {
  const v = variant(args);
  if (!v) return { list: [], clauses: [] };
  if (v[0] === 'Subquery' && isObject(v[1]))
    return { list: [{ kind: 'query', query: query(v[1]), reveal: true }], clauses: [] };
  if (v[0] !== 'List' || !isObject(v[1])) return { list: [], clauses: [] };
  const out = list(v[1].args).map((arg): LineageExpr => {
    const a = variant(arg);
    if (!a) return CONSTANT;
    const inner = isObject(a[1]) && 'arg' in a[1] ? a[1].arg : a[1];
    const e = variant(inner);
    if (e && e[0] === 'Expr') return expr(e[1]);
    if (e && e[0] === 'Wildcard') return CONSTANT;
    if (e && e[0] === 'QualifiedWildcard') return { kind: 'star', qualifier: objectName(e[1]) };
    return generic(inner);
  });
  return { list: out, clauses: list(v[1].clauses).map(generic) };
}

function functionCall(body: Node): LineageExpr {
  const name = (objectName(body.name).pop() ?? '').toLowerCase();
  const { list: args, clauses } = functionArgs(body.args);
  const extra = [body.over, body.filter].filter((n) => n !== undefined && n !== null).map(generic);
  const within = list(body.within_group).map(generic);
  if (COUNTING_FUNCTIONS.has(name))
    return { kind: 'expr', reveal: [], conceal: [...args, ...clauses, ...extra, ...within] };
  return { kind: 'expr', reveal: [...args, ...within], conceal: [...clauses, ...extra] };
}

/** The lineage of one expression. */
function expr(value: unknown): LineageExpr {
  const v = variant(value);
  if (!v) return generic(value);
  const [kind, body] = v;
  switch (kind) {
    case 'Identifier': {
      const text = identText(body);
      return text === undefined ? CONSTANT : { kind: 'ref', path: [text] };
    }
    case 'CompoundIdentifier':
      return { kind: 'ref', path: list(body).flatMap((p) => identText(p) ?? []) };
    case 'Value':
    case 'TypedString':
      return CONSTANT;
    case 'Nested':
      return expr(body);
    case 'Function':
      return isObject(body) ? functionCall(body) : CONSTANT;
    case 'Subquery':
      return isObject(body) ? { kind: 'query', query: query(body), reveal: true } : CONSTANT;
    case 'Exists':
      return isObject(body) && isObject(body.subquery)
        ? { kind: 'query', query: query(body.subquery), reveal: false }
        : CONSTANT;
    case 'InSubquery':
      return isObject(body) && isObject(body.subquery)
        ? {
            kind: 'expr',
            reveal: [expr(body.expr), { kind: 'query', query: query(body.subquery), reveal: true }],
            conceal: [],
          }
        : generic(body);
    default:
      return generic(body);
  }
}

/** Keys whose values are names, types or tokens, never expressions. */
const NOT_EXPRESSIONS = new Set([
  'name',
  'data_type',
  'alias',
  'span',
  'collation',
  'key',
  'field',
  'format',
  'charset',
  'quote_style',
  'token',
  'with_token',
  'select_token',
  'wildcard_token',
  'closing_paren_token',
  'leading_field',
  'last_field',
]);

/** Any other node: every expression found under it reveals its values. */
function generic(value: unknown): LineageExpr {
  const reveal: LineageExpr[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!isObject(v)) return;
    const inner = variant(v);
    if (inner && EXPRESSION_VARIANTS.has(inner[0])) {
      reveal.push(expr(v));
      return;
    }
    for (const [key, child] of Object.entries(v)) if (!NOT_EXPRESSIONS.has(key)) walk(child);
  };
  walk(value);
  return { kind: 'expr', reveal, conceal: [] };
}

/** Expr variants that expr() reads itself; anything else is walked through. */
const EXPRESSION_VARIANTS = new Set([
  'Identifier',
  'CompoundIdentifier',
  'Function',
  'Subquery',
  'Exists',
  'InSubquery',
  'Nested',
  'Value',
  'TypedString',
]);
