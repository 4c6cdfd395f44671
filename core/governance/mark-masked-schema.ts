/**
 * The schema as the model sees it: every column still there (so it can write correct SQL), the masked ones
 * marked, so the prompt can say their values are never shown. Introspection stores no sample values, so the
 * marking is all the model learns of them.
 */
import type { SchemaSnapshot } from '../db/database-dialect.ts';
import { sourceOf, type MaskingPolicy } from './masking-policy.ts';

/** A copy of `schema` with `masked: true` on the columns the policy masks; the same object when none is. */
export function markMaskedSchema<S extends Pick<SchemaSnapshot, 'tables'>>(
  schema: S,
  policy: MaskingPolicy,
): S {
  if (policy.empty) return schema;
  let changed = false;
  const tables = schema.tables.map((table) => {
    const columns = table.columns.map((column) => {
      const mode = policy.modeFor(sourceOf(table, column.name));
      if (!mode) return column;
      changed = true;
      return { ...column, masked: true };
    });
    return columns.some((c, i) => c !== table.columns[i]) ? { ...table, columns } : table;
  });
  return changed ? { ...schema, tables } : schema;
}
