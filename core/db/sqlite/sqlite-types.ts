import type { ValueKind } from '../database-dialect.ts';

/** Kind from a declared column type, by SQLite's affinity rules (plus DATE/TIME names, which SQLite stores as text or numbers). */
export function kindFromDeclaredType(declared: string): ValueKind | undefined {
  const t = declared.toUpperCase();
  if (t === '') return undefined;
  if (t.includes('INT')) return 'number';
  if (t === 'DATE') return 'date';
  if (t.includes('DATETIME') || t.includes('TIMESTAMP')) return 'datetime';
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'string';
  if (t.includes('BLOB')) return 'binary';
  if (t.includes('BOOL')) return 'boolean';
  if (t.includes('JSON')) return 'json';
  if (
    t.includes('REAL') ||
    t.includes('FLOA') ||
    t.includes('DOUB') ||
    t.includes('NUM') ||
    t.includes('DEC')
  ) {
    return 'number';
  }
  return 'unknown';
}

/** Kind and type name from a value (for expression columns, which have no declared type). */
export function kindFromValue(value: unknown): { kind: ValueKind; type: string } | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'bigint') return { kind: 'number', type: 'INTEGER' };
  if (typeof value === 'number')
    return { kind: 'number', type: Number.isInteger(value) ? 'INTEGER' : 'REAL' };
  if (typeof value === 'string') return { kind: 'string', type: 'TEXT' };
  if (value instanceof Uint8Array) return { kind: 'binary', type: 'BLOB' };
  return { kind: 'unknown', type: '' };
}
