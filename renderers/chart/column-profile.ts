/**
 * What each result column can be in a chart: time, a measure (numeric), a category, or nothing. Chart choice
 * reads these roles, never the engine's type names.
 */
import type { QueryResult, ValueKind } from '../../core/db/database-dialect.ts';
import { isNullValue } from '../format/cell-text.ts';

export type ColumnRole = 'temporal' | 'measure' | 'category' | 'other';

export interface ColumnProfile {
  index: number;
  name: string;
  kind: ValueKind;
  role: ColumnRole;
  /** Distinct non-null values (counted up to a limit). */
  distinct: number;
  nonNull: number;
}

const ISO_DATE = /^\d{4}-\d{2}(-\d{2})?([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/;
const ID_NAME = /(^id$|_id$|Id$|^uuid$|_uuid$|^key$)/;
const YEAR_NAME = /^(year|yr|fiscal_year)$/i;
const DISTINCT_LIMIT = 10_000;

/** A value as a finite number (numeric strings from exact decimals too), or undefined. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A value as epoch milliseconds (Date, ISO string, or a year number for year columns), or undefined. */
export function toTime(value: unknown, yearColumn = false): number | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value === 'string' && ISO_DATE.test(value.trim())) {
    const text = value.trim();
    // "2024-03" is a month: Date.parse reads it as UTC; "2024-03-05 10:00" needs the T (and is taken as UTC).
    const iso = text.length === 7 ? `${text}-01` : text.replace(' ', 'T');
    const hasZone = /(Z|[+-]\d{2}(:?\d{2})?)$/.test(iso.slice(10));
    const ms = Date.parse(iso.length > 10 && !hasZone ? `${iso}Z` : iso);
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (yearColumn) {
    const n = toNumber(value);
    if (n !== undefined && Number.isInteger(n) && n >= 1000 && n <= 9999) return Date.UTC(n, 0, 1);
  }
  return undefined;
}

function share(values: unknown[], test: (v: unknown) => boolean): number {
  let nonNull = 0;
  let ok = 0;
  for (const v of values) {
    if (isNullValue(v)) continue;
    nonNull++;
    if (test(v)) ok++;
  }
  return nonNull === 0 ? 0 : ok / nonNull;
}

function roleOf(name: string, kind: ValueKind, values: unknown[]): ColumnRole {
  if (kind === 'date' || kind === 'datetime') return 'temporal';
  if (kind === 'number') {
    if (YEAR_NAME.test(name) && share(values, (v) => toTime(v, true) !== undefined) === 1) return 'temporal';
    if (ID_NAME.test(name)) return 'category';
    return share(values, (v) => toNumber(v) !== undefined) >= 0.9 ? 'measure' : 'category';
  }
  if (kind === 'string' || kind === 'unknown') {
    if (share(values, (v) => toTime(v) !== undefined) >= 0.95) return 'temporal';
    // Untyped engines (MongoDB, SQLite expressions) hand over numbers without a numeric kind.
    if (kind === 'unknown' && share(values, (v) => typeof v === 'number') === 1) {
      return ID_NAME.test(name) ? 'category' : 'measure';
    }
    return 'category';
  }
  if (kind === 'boolean') return 'category';
  return 'other';
}

/** Profiles every column of a result (roles, distinct counts). */
export function profileColumns(result: QueryResult): ColumnProfile[] {
  return result.columns.map((col, index) => {
    const values = result.rows.map((row) => row[index]);
    const seen = new Set<string>();
    let nonNull = 0;
    for (const v of values) {
      if (isNullValue(v)) continue;
      nonNull++;
      if (seen.size < DISTINCT_LIMIT) seen.add(v instanceof Date ? String(v.getTime()) : String(v));
    }
    const role = nonNull === 0 ? 'other' : roleOf(col.name, col.kind, values);
    return { index, name: col.name, kind: col.kind, role, distinct: seen.size, nonNull };
  });
}
