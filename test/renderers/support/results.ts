import type { QueryResult, ValueKind } from '../../../core/db/database-dialect.ts';

/** A QueryResult from column [name, kind] pairs and rows, for renderer tests. */
export function resultOf(columns: [string, ValueKind][], rows: unknown[][], truncated = false): QueryResult {
  return {
    columns: columns.map(([name, kind]) => ({ name, type: kind, kind })),
    rows,
    rowCount: rows.length,
    truncated,
    durationMs: 1,
  };
}
