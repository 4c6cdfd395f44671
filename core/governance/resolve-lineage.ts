/**
 * Follows a query (lineage-ir.ts) to the table columns each result column's values come from: names resolved
 * through FROM scopes (joins, aliases, derived tables, LATERAL, correlated subqueries), `*` and `t.*` expanded
 * from the schema snapshot, CTEs (recursive ones to a fixed point) and set operations by position. What cannot be
 * followed is marked untraced rather than guessed, so the masking plan can treat it conservatively.
 */
import type { SchemaSnapshot } from '../db/database-dialect.ts';
import { Catalog } from './lineage-catalog.ts';
import type { LineageCte, LineageExpr, LineageQuery, LineageSource, QueryLineage } from './lineage-ir.ts';
import { bareTableName, sourceLabel, sourceOf, type SourceColumn } from './masking-policy.ts';

export type { QueryLineage, TracedColumn } from './lineage-ir.ts';

interface Column {
  name?: string;
  sources: SourceColumn[];
  traced: boolean;
}

interface Entry {
  /** Names that qualify this entry's columns: `[alias]`, or `[table]` and `[schema, table]`. */
  qualifiers: string[][];
  columns: Column[];
  /** Columns may exist beyond `columns` (table function, unknown table): refs to them are untraced. */
  opaque: boolean;
  /** Sources an untraced ref into an opaque entry may carry (a table function's arguments). */
  fallback: SourceColumn[];
}

interface Scope {
  entries: Entry[];
  parent?: Scope;
  ctes?: CteEnv;
  /** Output aliases of the select whose WHERE/ORDER BY is being read (ORDER BY may name them). */
  outputs?: Set<string>;
}

interface CteBinding {
  cte: LineageCte;
  env: CteEnv;
  columns?: Column[];
  resolving: boolean;
  recursive: boolean;
}

interface CteEnv {
  bindings: Map<string, CteBinding>;
  parent?: CteEnv;
}

interface Shape {
  columns: Column[];
  exact: boolean;
}

const lower = (s: string) => s.toLowerCase();
const same = (a: string, b: string) => lower(a) === lower(b);

function uniqueSources(list: SourceColumn[]): SourceColumn[] {
  const seen = new Map<string, SourceColumn>();
  for (const s of list) seen.set(lower(sourceLabel(s)), s);
  return [...seen.values()];
}

function merge(columns: Column[], name?: string): Column {
  return {
    ...(name !== undefined ? { name } : {}),
    sources: uniqueSources(columns.flatMap((c) => c.sources)),
    traced: columns.every((c) => c.traced),
  };
}

class Resolver {
  readonly #catalog: Catalog;
  readonly referenced: SourceColumn[] = [];
  readonly unresolved = new Set<string>();
  readonly tables = new Map<string, { schema?: string; name: string; known: boolean }>();

  constructor(catalog: Catalog) {
    this.#catalog = catalog;
  }

  query(q: LineageQuery, outer: Scope | undefined, env: CteEnv | undefined): Shape {
    switch (q.kind) {
      case 'opaque':
        return { columns: [], exact: false };
      case 'values': {
        const width = Math.max(0, ...q.rows.map((r) => r.length));
        const columns: Column[] = [];
        for (let i = 0; i < width; i++) {
          columns.push(
            merge(q.rows.map((row) => this.expr(row[i] ?? CONSTANT_EXPR, { entries: [], parent: outer }))),
          );
        }
        return { columns, exact: q.rows.every((r) => r.length === width) };
      }
      case 'set': {
        const inner = this.#cteEnv(q.ctes, q.recursive ?? false, env);
        const shapes = q.branches.map((b) => this.query(b, outer, inner));
        const width = shapes[0]?.columns.length ?? 0;
        const columns = Array.from({ length: width }, (_, i) =>
          merge(
            shapes.map((s) => s.columns[i] ?? { sources: [], traced: false }),
            shapes[0]?.columns[i]?.name,
          ),
        );
        const scope: Scope = {
          entries: [],
          ...(outer ? { parent: outer } : {}),
          outputs: new Set(columns.flatMap((c) => (c.name ? [lower(c.name)] : []))),
        };
        for (const e of q.conceal) this.expr(e, scope);
        return { columns, exact: shapes.every((s) => s.exact && s.columns.length === width) };
      }
      case 'select': {
        const inner = this.#cteEnv(q.ctes, q.recursive ?? false, env);
        const scope: Scope = {
          entries: [],
          ...(outer ? { parent: outer } : {}),
          ...(inner ? { ctes: inner } : {}),
        };
        let exact = true;
        for (const source of q.from) exact = this.#source(source, scope, scope.entries) && exact;
        const columns: Column[] = [];
        for (const item of q.items) {
          if (item.expr.kind === 'star') {
            const star = this.#star(item.expr.qualifier, scope);
            exact = exact && star.exact;
            columns.push(...star.columns);
            continue;
          }
          const column = this.expr(item.expr, scope);
          const name =
            item.alias ?? (item.expr.kind === 'ref' ? item.expr.path[item.expr.path.length - 1] : undefined);
          columns.push({ ...column, ...(name !== undefined ? { name } : {}) });
        }
        const reading: Scope = {
          ...scope,
          outputs: new Set(columns.flatMap((c) => (c.name ? [lower(c.name)] : []))),
        };
        for (const e of q.conceal) this.expr(e, reading);
        return { columns, exact };
      }
    }
  }

  /** Where an expression's values come from; refs it only reads are recorded as referenced. */
  expr(e: LineageExpr, scope: Scope): Column {
    switch (e.kind) {
      case 'ref':
        return this.#ref(e.path, scope);
      case 'star': {
        // `*` outside a select list (e.g. inside a function the translator kept): every column in scope.
        const star = this.#star(e.qualifier, scope);
        return merge(star.columns);
      }
      case 'expr': {
        for (const c of e.conceal) this.expr(c, scope);
        return merge(e.reveal.map((r) => this.expr(r, scope)));
      }
      case 'query': {
        const shape = this.query(e.query, scope, scope.ctes ?? findCtes(scope));
        return e.reveal
          ? merge(shape.columns.length ? shape.columns : [{ sources: [], traced: false }])
          : TRACED_NOTHING;
      }
      case 'opaque': {
        const parts = e.refs.map((r) => this.expr(r, scope));
        return { sources: uniqueSources(parts.flatMap((p) => p.sources)), traced: false };
      }
    }
  }

  #ref(path: string[], scope: Scope): Column {
    const name = path[path.length - 1] ?? '';
    const qualifier = path.slice(0, -1);
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      const entries = qualifier.length ? s.entries.filter((en) => qualifies(en, qualifier)) : s.entries;
      if (qualifier.length && entries.length === 0) continue;
      const found = entries.flatMap((en) =>
        en.columns.filter((c) => c.name !== undefined && same(c.name, name)),
      );
      if (found.length) return this.#read(merge(found));
      const opaque = entries.filter((en) => en.opaque);
      if (opaque.length) {
        this.unresolved.add(lower(name));
        return this.#read({ sources: uniqueSources(opaque.flatMap((en) => en.fallback)), traced: false });
      }
      if (!qualifier.length) {
        // A whole-row reference (`SELECT customers FROM customers` in PostgreSQL) carries every column.
        const row = s.entries.filter((en) => qualifies(en, [name]));
        if (row.length) return this.#read(merge(row.flatMap((en) => en.columns)));
        if (s.outputs?.has(lower(name))) return TRACED_NOTHING;
      }
      if (qualifier.length) break;
    }
    this.unresolved.add(lower(name));
    return { sources: [], traced: false };
  }

  #read(column: Column): Column {
    this.referenced.push(...column.sources);
    return column;
  }

  #star(qualifier: string[] | undefined, scope: Scope): Shape {
    const entries = qualifier?.length
      ? scope.entries.filter((en) => qualifies(en, qualifier))
      : scope.entries;
    if (entries.length === 0) return { columns: [{ sources: [], traced: false }], exact: false };
    const columns: Column[] = [];
    let exact = true;
    for (const entry of entries) {
      columns.push(...entry.columns);
      this.referenced.push(...entry.columns.flatMap((c) => c.sources));
      if (entry.opaque) {
        exact = false;
        this.referenced.push(...entry.fallback);
      }
    }
    return { columns, exact };
  }

  /** Adds a FROM item's entries to `into`; false when `*` over it would not be a plain concatenation. */
  #source(source: LineageSource, scope: Scope, into: Entry[]): boolean {
    switch (source.kind) {
      case 'table':
        into.push(this.#table(source.path, source.alias, scope));
        return true;
      case 'query': {
        // A derived table sees the enclosing query's scopes, and with LATERAL also the FROM items before it.
        const visible: Scope = source.lateral
          ? { entries: [...into], ...(scope.parent ? { parent: scope.parent } : {}) }
          : (scope.parent ?? { entries: [] });
        const shape = this.query(source.query, visible, scope.ctes ?? findCtes(scope));
        const columns = shape.columns.map((c, i) => {
          const name = source.columnAliases?.[i] ?? c.name;
          return { ...c, ...(name !== undefined ? { name } : {}) };
        });
        into.push({
          qualifiers: source.alias ? [[source.alias]] : [],
          columns,
          opaque: !shape.exact || columns.some((c) => c.name === undefined),
          fallback: uniqueSources(columns.flatMap((c) => c.sources)),
        });
        return shape.exact;
      }
      case 'join': {
        const left = this.#source(source.left, scope, into);
        const right = this.#source(source.right, scope, into);
        const joined: Scope = { ...scope, entries: into };
        for (const e of source.on) this.expr(e, joined);
        return left && right && !source.merges;
      }
      case 'opaque': {
        const args = source.refs.map((r) => this.expr(r, scope));
        into.push({
          qualifiers: source.alias ? [[source.alias]] : [],
          columns: [],
          opaque: true,
          fallback: uniqueSources(args.flatMap((a) => a.sources)),
        });
        return false;
      }
    }
  }

  #table(path: string[], alias: string | undefined, scope: Scope): Entry {
    const qualifiers = alias ? [[alias]] : [path.slice(-1)];
    if (path.length === 1) {
      const binding = lookupCte(scope.ctes ?? findCtes(scope), path[0]!);
      if (binding) return { qualifiers, ...this.#cteColumns(binding) };
    }
    const tables = this.#catalog.find(path);
    if (!alias) for (const t of tables) if (t.schema) qualifiers.push([t.schema, bareTableName(t)]);
    if (tables.length === 0) {
      const name = path.join('.');
      this.tables.set(lower(name), { name, known: false });
      return { qualifiers, columns: [], opaque: true, fallback: [] };
    }
    for (const t of tables) {
      const bare = bareTableName(t);
      const key = lower(t.schema ? `${t.schema}.${bare}` : bare);
      this.tables.set(key, { ...(t.schema ? { schema: t.schema } : {}), name: bare, known: true });
    }
    // The same name in several schemas (no search path known): a column may come from any of them.
    const names: string[] = [];
    for (const t of tables)
      for (const c of t.columns) if (!names.some((n) => same(n, c.name))) names.push(c.name);
    const columns = names.map((name) => ({
      name,
      sources: tables.flatMap((t) =>
        t.columns.filter((c) => same(c.name, name)).map((c) => sourceOf(t, c.name)),
      ),
      traced: true,
    }));
    return { qualifiers, columns, opaque: tables.length > 1, fallback: [] };
  }

  #cteColumns(binding: CteBinding): { columns: Column[]; opaque: boolean; fallback: SourceColumn[] } {
    let columns = binding.columns;
    if (!columns) {
      if (binding.resolving) return { columns: [], opaque: true, fallback: [] };
      columns = this.#resolveCte(binding);
    }
    const named = columns.map((c, i) => {
      const name = binding.cte.columns?.[i] ?? c.name;
      return { ...c, ...(name !== undefined ? { name } : {}) };
    });
    return {
      columns: named,
      opaque: named.some((c) => c.name === undefined),
      fallback: uniqueSources(named.flatMap((c) => c.sources)),
    };
  }

  #resolveCte(binding: CteBinding): Column[] {
    binding.resolving = true;
    const q = binding.cte.query;
    if (binding.recursive && q.kind === 'set' && q.branches.length > 1) {
      // Anchor first, then the whole union with the self-reference bound to what is known, until nothing grows.
      binding.columns = this.query(q.branches[0]!, undefined, binding.env).columns;
      for (let round = 0; round < 5; round++) {
        const next = this.query(q, undefined, binding.env).columns;
        const grew = next.some((c, i) => c.sources.length !== (binding.columns?.[i]?.sources.length ?? -1));
        binding.columns = next;
        if (!grew) break;
      }
    } else {
      binding.columns = this.query(q, undefined, binding.env).columns;
    }
    binding.resolving = false;
    return binding.columns;
  }

  #cteEnv(ctes: LineageCte[], recursive: boolean, parent: CteEnv | undefined): CteEnv | undefined {
    if (!ctes.length) return parent;
    const env: CteEnv = { bindings: new Map(), ...(parent ? { parent } : {}) };
    for (const cte of ctes) {
      // Each CTE sees the ones before it (and itself when recursive); the body sees them all.
      env.bindings.set(lower(cte.name), { cte, env, resolving: false, recursive });
    }
    return env;
  }
}

const CONSTANT_EXPR: LineageExpr = { kind: 'expr', reveal: [], conceal: [] };
const TRACED_NOTHING: Column = { sources: [], traced: true };

function qualifies(entry: Entry, qualifier: string[]): boolean {
  return entry.qualifiers.some(
    (q) =>
      q.length >= 1 &&
      qualifier.length <= q.length &&
      qualifier.every((part, i) => same(part, q[q.length - qualifier.length + i]!)),
  );
}

function findCtes(scope: Scope): CteEnv | undefined {
  for (let s: Scope | undefined = scope; s; s = s.parent) if (s.ctes) return s.ctes;
  return undefined;
}

function lookupCte(env: CteEnv | undefined, name: string): CteBinding | undefined {
  for (let e = env; e; e = e.parent) {
    const binding = e.bindings.get(lower(name));
    // Inside a non-recursive CTE its own name means the table of that name, not itself.
    if (binding && !(binding.resolving && !binding.recursive)) return binding;
  }
  return undefined;
}

/** Traces every result column of `query` back to the snapshot's columns. */
export function resolveLineage(query: LineageQuery, snapshot: Pick<SchemaSnapshot, 'tables'>): QueryLineage {
  const resolver = new Resolver(new Catalog(snapshot));
  const shape = resolver.query(query, undefined, undefined);
  return {
    columns: shape.columns.map((c) => ({
      ...(c.name !== undefined ? { name: c.name } : {}),
      sources: c.sources,
      traced: c.traced,
    })),
    exact: shape.exact && query.kind !== 'opaque',
    referenced: uniqueSources(resolver.referenced),
    unresolvedNames: [...resolver.unresolved],
    tables: [...resolver.tables.values()],
  };
}
