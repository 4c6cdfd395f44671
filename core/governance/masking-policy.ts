/**
 * A connection's `maskedColumns` as a matcher: which source columns are masked, and how. Patterns name
 * `table.column` or `schema.table.column` (SQL) or `collection.field.path` (MongoDB); `*` matches any run of
 * characters within one part. Matching is case-insensitive (unquoted SQL names fold, MySQL names never mind case).
 */
import type { DatabaseType, MaskedColumnConfig, MaskMode } from '../../config/config-file.ts';

/** A column of a table (or a field of a collection) that a result's values can come from. */
export interface SourceColumn {
  /** PostgreSQL schema or MySQL database; absent for SQLite and MongoDB. */
  schema?: string;
  table: string;
  /** Column name; for MongoDB a dotted field path. */
  column: string;
}

/**
 * A snapshot table's own name without its schema: PostgreSQL snapshots name tables outside `public` as
 * `schema.table` (the name queries write) and also carry `schema`.
 */
export function bareTableName(table: { schema?: string; name: string }): string {
  const prefix = table.schema ? `${table.schema}.` : '';
  return prefix && table.name.startsWith(prefix) ? table.name.slice(prefix.length) : table.name;
}

/** The source column of a snapshot table's column. */
export function sourceOf(table: { schema?: string; name: string }, column: string): SourceColumn {
  return { ...(table.schema ? { schema: table.schema } : {}), table: bareTableName(table), column };
}

/** How strongly a mode hides a value; when several rules apply, the strongest wins. */
const STRENGTH: Record<MaskMode, number> = { hash: 1, redact: 2, hide: 3 };

/** The stronger of two modes (undefined counts as unmasked). */
export function strongerMode(a: MaskMode | undefined, b: MaskMode | undefined): MaskMode | undefined {
  if (!a) return b;
  if (!b) return a;
  return STRENGTH[a] >= STRENGTH[b] ? a : b;
}

/** `schema.table.column` or `table.column`, as notes and the admin view name a source. */
export function sourceLabel(source: SourceColumn): string {
  return source.schema
    ? `${source.schema}.${source.table}.${source.column}`
    : `${source.table}.${source.column}`;
}

function globPart(part: string): RegExp {
  const escaped = part.replace(/[\\^$+?.()|[\]{}]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i');
}

interface Rule {
  pattern: string;
  mode: MaskMode;
  parts: RegExp[];
}

/** The masking rules of one connection. */
export class MaskingPolicy {
  readonly databaseType: DatabaseType;
  readonly #rules: Rule[];

  constructor(databaseType: DatabaseType, entries: readonly MaskedColumnConfig[]) {
    this.databaseType = databaseType;
    this.#rules = entries.map((e) => ({
      pattern: e.column,
      mode: e.mode,
      parts: e.column.split('.').map(globPart),
    }));
  }

  /** True when no column is masked (nothing to trace or rewrite). */
  get empty(): boolean {
    return this.#rules.length === 0;
  }

  /** The rules as configured, for the admin view. */
  get rules(): readonly { pattern: string; mode: MaskMode }[] {
    return this.#rules.map(({ pattern, mode }) => ({ pattern, mode }));
  }

  /** How `source` is masked, or undefined when no rule covers it. */
  modeFor(source: SourceColumn): MaskMode | undefined {
    let mode: MaskMode | undefined;
    for (const rule of this.#rules) if (this.#matches(rule, source)) mode = strongerMode(mode, rule.mode);
    return mode;
  }

  /**
   * How a result column called `name` is masked when nothing else is known of it: a rule whose column part
   * matches the name (`customers.email` and `*.email` both cover a column called `email`).
   */
  modeForName(name: string): MaskMode | undefined {
    let mode: MaskMode | undefined;
    for (const rule of this.#rules) {
      const column = this.#columnParts(rule);
      const parts = this.databaseType === 'mongodb' ? name.split('.') : [name];
      if (column.length && prefixOverlap(column, parts)) mode = strongerMode(mode, rule.mode);
    }
    return mode;
  }

  #columnParts(rule: Rule): RegExp[] {
    if (this.databaseType === 'mongodb') return rule.parts.slice(1);
    return rule.parts.slice(-1);
  }

  #matches(rule: Rule, source: SourceColumn): boolean {
    if (this.databaseType === 'mongodb') {
      // collection.field.path: a rule on a sub-document covers its fields, and a field holding a masked
      // sub-field is covered too (its value contains the masked one).
      const [collection, ...field] = rule.parts;
      if (!collection?.test(source.table)) return false;
      return prefixOverlap(field, source.column.split('.'));
    }
    const key = [source.schema ?? '', source.table, source.column];
    if (rule.parts.length > key.length) {
      // database.schema.table.column: compare the trailing parts only.
      return rule.parts.slice(-key.length).every((re, i) => re.test(key[i]!));
    }
    const tail = key.slice(-rule.parts.length);
    return rule.parts.every((re, i) => re.test(tail[i]!));
  }
}

/** True when the shorter of the two paths matches the other's leading parts, part by part. */
function prefixOverlap(pattern: RegExp[], path: string[]): boolean {
  const n = Math.min(pattern.length, path.length);
  if (n === 0) return pattern.length === 0;
  for (let i = 0; i < n; i++) if (!pattern[i]!.test(path[i]!)) return false;
  return true;
}
