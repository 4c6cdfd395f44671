/**
 * A small, dialect-neutral picture of a read query, just enough to follow values from tables to result columns.
 * Each dialect's parser output (libpg-query, sqlparser-rs, sql-parser-cst) is turned into this, and one resolver
 * (resolve-lineage.ts) does the scoping, `*` expansion, CTEs, subqueries and set operations for all of them.
 */

import type { SourceColumn } from './masking-policy.ts';

/** An expression, reduced to where its values come from. */
export type LineageExpr =
  /** A column reference: `[column]`, `[qualifier, column]`, `[schema, table, column]`. Its values flow out. */
  | { kind: 'ref'; path: string[] }
  /** `*` or `t.*` in a select list. */
  | { kind: 'star'; qualifier?: string[] }
  /**
   * Anything computed: `reveal` are the parts whose values flow into the result (`lower(email)`, `a || b`,
   * `max(email)`); `conceal` are parts only read (`count(DISTINCT email)`, a window's PARTITION BY, a FILTER).
   */
  | { kind: 'expr'; reveal: LineageExpr[]; conceal: LineageExpr[] }
  /** A subquery: a scalar or IN subquery reveals its columns, EXISTS only reads them. */
  | { kind: 'query'; query: LineageQuery; reveal: boolean }
  /** A construct the translator does not follow: whatever it returns cannot be traced. */
  | { kind: 'opaque'; reason: string; refs: LineageExpr[] };

/** A FROM item. */
export type LineageSource =
  /** A table, view or CTE by name: `[name]`, `[schema, name]`, `[db, schema, name]`. */
  | { kind: 'table'; path: string[]; alias?: string }
  | { kind: 'query'; query: LineageQuery; alias?: string; columnAliases?: string[]; lateral?: boolean }
  | {
      kind: 'join';
      left: LineageSource;
      right: LineageSource;
      /** USING (…) or NATURAL: the engine merges same-named columns, so `*` is not a plain concatenation. */
      merges: boolean;
      on: LineageExpr[];
      alias?: string;
    }
  /** A table function (`json_each(x)`, `generate_series`): columns unknown; `refs` are its arguments. */
  | { kind: 'opaque'; alias?: string; refs: LineageExpr[] };

export interface LineageItem {
  expr: LineageExpr;
  alias?: string;
}

export interface LineageCte {
  name: string;
  columns?: string[];
  query: LineageQuery;
}

/** A query: a SELECT, a set operation (columns by position), VALUES, or something not followed. */
export type LineageQuery =
  | {
      kind: 'select';
      ctes: LineageCte[];
      recursive?: boolean;
      from: LineageSource[];
      items: LineageItem[];
      /** WHERE, GROUP BY, HAVING, ORDER BY, window definitions: read, never shown. */
      conceal: LineageExpr[];
    }
  | { kind: 'set'; ctes: LineageCte[]; recursive?: boolean; branches: LineageQuery[]; conceal: LineageExpr[] }
  | { kind: 'values'; rows: LineageExpr[][] }
  | { kind: 'opaque'; reason: string };

/** One result column and where its values come from. */
export interface TracedColumn {
  /** The name the engine gives it when knowable (alias, column name); undefined for unnamed expressions. */
  name?: string;
  sources: SourceColumn[];
  /** False when some part of it could not be followed (unknown table, table function, untranslated construct). */
  traced: boolean;
}

export interface QueryLineage {
  columns: TracedColumn[];
  /** The count and order of `columns` match the result (no `*` over the unknown, no USING merge under `*`). */
  exact: boolean;
  /** Every source column the statement reads, shown or not. */
  referenced: SourceColumn[];
  /** Column names read that no table in scope explained (matched against masked names conservatively). */
  unresolvedNames: string[];
  /** Tables (and views) read, as the snapshot names them; unknown ones by the name written. */
  tables: { schema?: string; name: string; known: boolean }[];
  /** MongoDB: result fields not in `columns` are this collection's own, unchanged. */
  passthrough?: string;
}

/** Functions whose result is a count of rows or values, never a value itself. */
export const COUNTING_FUNCTIONS = new Set(['count', 'count_big', 'approx_count_distinct']);

/** An expression of constants (reveals nothing). */
export const CONSTANT: LineageExpr = { kind: 'expr', reveal: [], conceal: [] };
