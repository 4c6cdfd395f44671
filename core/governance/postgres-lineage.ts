/**
 * PostgreSQL → lineage IR, from libpg-query (PostgreSQL's own parser). Column references are only ever
 * `ColumnRef` nodes there, so any node this file does not know is walked generically: every ColumnRef under it
 * counts as revealed, which errs towards masking.
 */
import { parse } from 'libpg-query';
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

/** `{Type: body}` → [Type, body] for a wrapped parse node, else undefined. */
function unwrap(node: unknown): [string, Node] | undefined {
  if (!isObject(node)) return undefined;
  const keys = Object.keys(node);
  if (keys.length !== 1 || !/^[A-Z]/.test(keys[0]!)) return undefined;
  const body = node[keys[0]!];
  return [keys[0]!, isObject(body) ? body : {}];
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function strings(value: unknown): string[] {
  return list(value).flatMap((n) => {
    const u = unwrap(n);
    return u && u[0] === 'String' && typeof u[1].sval === 'string' ? [u[1].sval] : [];
  });
}

/** The lineage IR of a PostgreSQL read; an opaque query when it is not one SELECT the translator follows. */
export async function postgresLineage(sql: string): Promise<LineageQuery> {
  const parsed = (await parse(sql)) as { stmts?: { stmt?: Node }[] };
  const stmts = parsed.stmts ?? [];
  if (stmts.length !== 1) return { kind: 'opaque', reason: `${stmts.length} statements` };
  const top = unwrap(stmts[0]?.stmt);
  if (!top || top[0] !== 'SelectStmt') return { kind: 'opaque', reason: `not a SELECT (${top?.[0] ?? '?'})` };
  return selectStmt(top[1]);
}

function ctesOf(s: Node): { ctes: LineageCte[]; recursive: boolean } {
  const withClause = isObject(s.withClause) ? s.withClause : undefined;
  if (!withClause) return { ctes: [], recursive: false };
  const ctes = list(withClause.ctes).flatMap((c): LineageCte[] => {
    const u = unwrap(c);
    if (!u || u[0] !== 'CommonTableExpr') return [];
    const body = unwrap(u[1].ctequery);
    const names = strings(u[1].aliascolnames);
    return [
      {
        name: String(u[1].ctename ?? ''),
        ...(names.length ? { columns: names } : {}),
        query:
          body && body[0] === 'SelectStmt' ? selectStmt(body[1]) : { kind: 'opaque', reason: 'CTE body' },
      },
    ];
  });
  return { ctes, recursive: withClause.recursive === true };
}

function selectStmt(s: Node): LineageQuery {
  const { ctes, recursive } = ctesOf(s);
  const sort = list(s.sortClause).map(expr);
  if (s.op && s.op !== 'SETOP_NONE') {
    const branches = [s.larg, s.rarg].map((b) => (isObject(b) ? selectStmt(b) : opaqueQuery('set branch')));
    return { kind: 'set', ctes, recursive, branches, conceal: sort };
  }
  if (Array.isArray(s.valuesLists)) {
    return {
      kind: 'values',
      rows: s.valuesLists.map((row) => {
        const u = unwrap(row);
        return list(u?.[1].items).map(expr);
      }),
    };
  }
  const items: LineageItem[] = list(s.targetList).map((t) => {
    const u = unwrap(t);
    const target = u?.[1] ?? {};
    return {
      expr: expr(target.val),
      ...(typeof target.name === 'string' ? { alias: target.name } : {}),
    };
  });
  const conceal = [
    s.whereClause,
    ...list(s.groupClause),
    s.havingClause,
    ...list(s.windowClause),
    ...list(s.distinctClause),
  ]
    .filter((n) => n !== undefined)
    .map(expr);
  return {
    kind: 'select',
    ctes,
    recursive,
    from: list(s.fromClause).map(source),
    items,
    conceal: [...conceal, ...sort],
  };
}

const opaqueQuery = (reason: string): LineageQuery => ({ kind: 'opaque', reason });

function aliasOf(body: Node): { alias?: string; columns: string[] } {
  const alias = isObject(body.alias) ? body.alias : undefined;
  return {
    ...(typeof alias?.aliasname === 'string' ? { alias: alias.aliasname } : {}),
    columns: strings(alias?.colnames),
  };
}

function source(node: unknown): LineageSource {
  const u = unwrap(node);
  if (!u) return { kind: 'opaque', refs: [] };
  const [type, body] = u;
  switch (type) {
    case 'RangeVar': {
      const path = [body.catalogname, body.schemaname, body.relname].filter(
        (p): p is string => typeof p === 'string',
      );
      const { alias, columns } = aliasOf(body);
      if (!columns.length) return { kind: 'table', path, ...(alias ? { alias } : {}) };
      // `FROM customers AS c(a, b)` renames columns by position: a derived `SELECT *` carries that.
      return {
        kind: 'query',
        query: {
          kind: 'select',
          ctes: [],
          from: [{ kind: 'table', path }],
          items: [{ expr: { kind: 'star' } }],
          conceal: [],
        },
        ...(alias ? { alias } : {}),
        columnAliases: columns,
      };
    }
    case 'RangeSubselect': {
      const inner = unwrap(body.subquery);
      const { alias, columns } = aliasOf(body);
      return {
        kind: 'query',
        query: inner && inner[0] === 'SelectStmt' ? selectStmt(inner[1]) : opaqueQuery('subquery'),
        ...(alias ? { alias } : {}),
        ...(columns.length ? { columnAliases: columns } : {}),
        lateral: body.lateral === true,
      };
    }
    case 'JoinExpr':
      return {
        kind: 'join',
        left: source(body.larg),
        right: source(body.rarg),
        merges: body.isNatural === true || list(body.usingClause).length > 0,
        on: body.quals === undefined ? [] : [expr(body.quals)],
      };
    default: {
      const { alias } = aliasOf(body);
      return { kind: 'opaque', ...(alias ? { alias } : {}), refs: [generic(body)] };
    }
  }
}

/** The lineage of one expression node. */
function expr(node: unknown): LineageExpr {
  const u = unwrap(node);
  if (!u) return isObject(node) || Array.isArray(node) ? generic(node) : CONSTANT;
  const [type, body] = u;
  switch (type) {
    case 'ColumnRef': {
      const fields = list(body.fields);
      const last = unwrap(fields[fields.length - 1]);
      const names = strings(fields);
      if (last && last[0] === 'A_Star')
        return { kind: 'star', ...(names.length ? { qualifier: names } : {}) };
      return { kind: 'ref', path: names };
    }
    case 'A_Const':
    case 'ParamRef':
    case 'SQLValueFunction':
    case 'String':
      return CONSTANT;
    case 'TypeCast':
    case 'CollateClause':
      return { kind: 'expr', reveal: [expr(body.arg)], conceal: [] };
    case 'FuncCall':
      return funcCall(body);
    case 'SubLink':
      return subLink(body);
    case 'ResTarget':
      return expr(body.val);
    case 'SortBy':
      return expr(body.node);
    default:
      return generic(body);
  }
}

function funcCall(body: Node): LineageExpr {
  const name = (strings(body.funcname).pop() ?? '').toLowerCase();
  const args = list(body.args).map(expr);
  const order = list(body.agg_order).map(expr);
  const over = isObject(body.over) ? [generic(body.over)] : [];
  const filter = body.agg_filter === undefined ? [] : [expr(body.agg_filter)];
  if (COUNTING_FUNCTIONS.has(name))
    return { kind: 'expr', reveal: [], conceal: [...args, ...order, ...over, ...filter] };
  // WITHIN GROUP (ORDER BY x) feeds x's values to percentile_cont and friends; a plain ORDER BY only orders.
  const within = body.agg_within_group === true;
  return {
    kind: 'expr',
    reveal: within ? [...args, ...order] : args,
    conceal: [...(within ? [] : order), ...over, ...filter],
  };
}

function subLink(body: Node): LineageExpr {
  const inner = unwrap(body.subselect);
  const query = inner && inner[0] === 'SelectStmt' ? selectStmt(inner[1]) : opaqueQuery('sublink');
  const kind = String(body.subLinkType ?? '');
  if (kind === 'EXISTS_SUBLINK') return { kind: 'query', query, reveal: false };
  if (kind === 'EXPR_SUBLINK' || kind === 'ARRAY_SUBLINK') return { kind: 'query', query, reveal: true };
  // x IN (SELECT …), x op ANY/ALL (…): a boolean from both sides, counted as revealing both.
  const test = body.testexpr === undefined ? [] : [expr(body.testexpr)];
  return { kind: 'expr', reveal: [...test, { kind: 'query', query, reveal: true }], conceal: [] };
}

/** Any other node: every expression found under it reveals its values (operators, CASE, COALESCE, …). */
function generic(value: unknown): LineageExpr {
  const reveal: LineageExpr[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!isObject(v)) return;
    if (unwrap(v)) {
      reveal.push(expr(v));
      return;
    }
    for (const [key, child] of Object.entries(v)) if (key !== 'typeName' && key !== 'location') walk(child);
  };
  walk(value);
  return { kind: 'expr', reveal, conceal: [] };
}
