/**
 * SQLite → lineage IR, from sql-parser-cst (the parser the SQLite classifier uses). Its CST marks every node with
 * `type`; identifiers in expression position are column references, and the generic walk skips the keys that hold
 * names (function names, aliases, data types) rather than expressions.
 */
import { parse } from 'sql-parser-cst';
import {
  CONSTANT,
  COUNTING_FUNCTIONS,
  type LineageCte,
  type LineageExpr,
  type LineageItem,
  type LineageQuery,
  type LineageSource,
} from './lineage-ir.ts';

type Node = Record<string, unknown> & { type?: string };

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

function items(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (isNode(value) && value.type === 'list_expr') return Array.isArray(value.items) ? value.items : [];
  if (isNode(value) && value.type === 'paren_expr') return items(value.expr);
  return value === undefined || value === null ? [] : [value];
}

function identName(value: unknown): string | undefined {
  return isNode(value) && value.type === 'identifier' && typeof value.name === 'string'
    ? value.name
    : undefined;
}

/** `a`, `a.b`, `a.b.c` as a path; undefined when it is not a plain (qualified) name. */
function namePath(value: unknown): string[] | undefined {
  const name = identName(value);
  if (name !== undefined) return [name];
  if (isNode(value) && value.type === 'member_expr') {
    const object = namePath(value.object);
    const property = identName(value.property);
    if (object && property !== undefined) return [...object, property];
  }
  return undefined;
}

/** The lineage IR of a SQLite read; an opaque query when it is not one query the translator follows. */
export function sqliteLineage(sql: string): LineageQuery {
  const program = parse(sql, {
    dialect: 'sqlite',
    paramTypes: ['?', '?nr', ':name', '@name', '$name'],
  }) as unknown as {
    statements: Node[];
  };
  const statements = program.statements.filter((s) => s.type !== 'empty');
  if (statements.length !== 1) return { kind: 'opaque', reason: `${statements.length} statements` };
  return query(statements[0]);
}

function query(node: unknown): LineageQuery {
  if (!isNode(node)) return { kind: 'opaque', reason: 'query' };
  if (node.type === 'paren_expr') return query(node.expr);
  if (node.type === 'select_stmt') return selectStmt(node);
  if (node.type === 'compound_select_stmt') {
    // The CST hangs a leading WITH on the leftmost SELECT; it belongs to the whole compound.
    const hoisted = hoistWith(node);
    const { ctes, recursive } = hoisted.with ? withClause(hoisted.with) : { ctes: [], recursive: false };
    return {
      kind: 'set',
      ctes,
      recursive,
      branches: [query(hoisted.node.left), query(hoisted.node.right)],
      conceal: [],
    };
  }
  return { kind: 'opaque', reason: String(node.type) };
}

function selectStmt(node: Node): LineageQuery {
  const clauses = Array.isArray(node.clauses) ? (node.clauses as Node[]) : [];
  let ctes: LineageCte[] = [];
  let recursive = false;
  let from: LineageSource[] = [];
  let selected: LineageItem[] = [];
  let values: LineageExpr[][] | undefined;
  const conceal: LineageExpr[] = [];
  for (const clause of clauses) {
    switch (clause.type) {
      case 'with_clause':
        ({ ctes, recursive } = withClause(clause));
        break;
      case 'select_clause':
        selected = items(clause.columns).map(selectItem);
        break;
      case 'from_clause':
        from = [source(clause.expr)];
        break;
      case 'values_clause':
        values = items(clause.values).map((row) => items(row).map(expr));
        break;
      case 'where_clause':
      case 'having_clause':
        conceal.push(expr(clause.expr));
        break;
      default:
        // GROUP BY, ORDER BY, WINDOW, LIMIT: read only.
        conceal.push(generic(clause));
    }
  }
  if (values) return { kind: 'values', rows: values };
  return { kind: 'select', ctes, recursive, from, items: selected, conceal };
}

function withClause(clause: Node): { ctes: LineageCte[]; recursive: boolean } {
  const ctes = items(clause.tables).flatMap((t): LineageCte[] => {
    if (!isNode(t) || t.type !== 'common_table_expr') return [];
    const columns = items(t.columns).flatMap((c) => identName(c) ?? []);
    return [{ name: identName(t.table) ?? '', ...(columns.length ? { columns } : {}), query: query(t.expr) }];
  });
  return { ctes, recursive: isNode(clause.recursiveKw) };
}

/** A compound with its leftmost SELECT's WITH clause taken off (and returned). */
function hoistWith(node: Node): { node: Node; with?: Node } {
  const left = isNode(node.left) ? node.left : undefined;
  if (left?.type === 'compound_select_stmt') {
    const inner = hoistWith(left);
    return { node: { ...node, left: inner.node }, ...(inner.with ? { with: inner.with } : {}) };
  }
  const clauses = left?.type === 'select_stmt' && Array.isArray(left.clauses) ? (left.clauses as Node[]) : [];
  if (clauses[0]?.type !== 'with_clause') return { node };
  return { node: { ...node, left: { ...left, clauses: clauses.slice(1) } }, with: clauses[0] };
}

function selectItem(value: unknown): LineageItem {
  if (!isNode(value)) return { expr: CONSTANT };
  if (value.type === 'all_columns') return { expr: { kind: 'star' } };
  if (value.type === 'member_expr' && isNode(value.property) && value.property.type === 'all_columns') {
    return { expr: { kind: 'star', qualifier: namePath(value.object) ?? [] } };
  }
  if (value.type === 'alias') {
    const alias = identName(value.alias);
    return { expr: expr(value.expr), ...(alias !== undefined ? { alias } : {}) };
  }
  return { expr: expr(value) };
}

function source(value: unknown): LineageSource {
  if (!isNode(value)) return { kind: 'opaque', refs: [] };
  if (value.type === 'join_expr') {
    const operator = JSON.stringify(value.operator ?? '');
    const spec = isNode(value.specification) ? value.specification : undefined;
    return {
      kind: 'join',
      left: source(value.left),
      right: source(value.right),
      merges: /NATURAL/i.test(operator) || spec?.type === 'join_using_specification',
      on: spec?.type === 'join_on_specification' ? [expr(spec.expr)] : [],
    };
  }
  let alias: string | undefined;
  let target: unknown = value;
  if (value.type === 'alias') {
    alias = identName(value.alias);
    target = value.expr;
  }
  const named = alias !== undefined ? { alias } : {};
  const path = namePath(target);
  if (path) return { kind: 'table', path, ...named };
  if (isNode(target) && target.type === 'paren_expr') {
    const inner = isNode(target.expr) ? target.expr : undefined;
    if (
      inner &&
      (inner.type === 'select_stmt' || inner.type === 'compound_select_stmt' || inner.type === 'paren_expr')
    ) {
      return { kind: 'query', query: query(inner), ...named };
    }
    if (inner && inner.type === 'join_expr') return source(inner);
  }
  return { kind: 'opaque', ...named, refs: [generic(target)] };
}

function funcCall(node: Node): LineageExpr {
  const name = (identName(node.name) ?? '').toLowerCase();
  const argsNode = isNode(node.args) ? (isNode(node.args.expr) ? node.args.expr : node.args) : undefined;
  // count(*)'s star is no column read.
  const args = items(argsNode?.args).map((a) => (isNode(a) && a.type === 'all_columns' ? CONSTANT : expr(a)));
  const extra = [node.filter, node.over].filter((n) => n !== undefined && n !== null).map(generic);
  if (COUNTING_FUNCTIONS.has(name)) return { kind: 'expr', reveal: [], conceal: [...args, ...extra] };
  return { kind: 'expr', reveal: args, conceal: extra };
}

/** The lineage of one expression. */
function expr(value: unknown): LineageExpr {
  if (!isNode(value)) return CONSTANT;
  const path = namePath(value);
  if (path) return { kind: 'ref', path };
  switch (value.type) {
    case 'all_columns':
      return { kind: 'star' };
    case 'func_call':
      return funcCall(value);
    case 'paren_expr': {
      const inner = isNode(value.expr) ? value.expr : undefined;
      if (inner && (inner.type === 'select_stmt' || inner.type === 'compound_select_stmt')) {
        return { kind: 'query', query: query(inner), reveal: true };
      }
      return expr(value.expr);
    }
    case 'prefix_op_expr': {
      // EXISTS (SELECT …) reads the subquery without showing it.
      const operator = JSON.stringify(value.operator ?? '');
      const inner = isNode(value.expr) && isNode(value.expr.expr) ? value.expr.expr : undefined;
      if (/EXISTS/i.test(operator) && inner && /select_stmt$/.test(String(inner.type))) {
        return { kind: 'query', query: query(inner), reveal: false };
      }
      return generic(value);
    }
    case 'string_literal':
    case 'number_literal':
    case 'blob_literal':
    case 'null_literal':
    case 'boolean_literal':
    case 'parameter':
    case 'keyword':
      return CONSTANT;
    default:
      return generic(value);
  }
}

/** Keys whose values are names or types, never expressions. */
const NOT_EXPRESSIONS = new Set(['name', 'alias', 'dataType', 'range', 'type']);

/** Any other node: every expression found under it reveals its values. */
function generic(value: unknown): LineageExpr {
  const reveal: LineageExpr[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!isNode(v)) return;
    if (v.type === 'keyword') return;
    if (
      v.type === 'identifier' ||
      v.type === 'member_expr' ||
      v.type === 'func_call' ||
      v.type === 'select_stmt' ||
      v.type === 'compound_select_stmt'
    ) {
      reveal.push(
        v.type.endsWith('select_stmt') ? { kind: 'query', query: query(v), reveal: true } : expr(v),
      );
      return;
    }
    for (const [key, child] of Object.entries(v)) if (!NOT_EXPRESSIONS.has(key)) walk(child);
  };
  walk(value);
  return { kind: 'expr', reveal, conceal: [] };
}
