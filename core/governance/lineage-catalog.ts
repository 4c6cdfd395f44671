/** The schema snapshot as the lineage resolver looks tables up: by bare name, schema-qualified or not. */
import type { SchemaSnapshot, TableInfo } from '../db/database-dialect.ts';
import { bareTableName } from './masking-policy.ts';

const lower = (s: string) => s.toLowerCase();
const same = (a: string, b: string) => lower(a) === lower(b);

/** Resolves table names against a schema snapshot, case-insensitively. */
export class Catalog {
  readonly #byName = new Map<string, TableInfo[]>();

  constructor(snapshot: Pick<SchemaSnapshot, 'tables'>) {
    for (const table of snapshot.tables) {
      const key = lower(bareTableName(table));
      const list = this.#byName.get(key) ?? [];
      list.push(table);
      this.#byName.set(key, list);
    }
  }

  find(path: string[]): TableInfo[] {
    const name = path[path.length - 1] ?? '';
    const candidates = this.#byName.get(lower(name)) ?? [];
    if (path.length < 2) return candidates;
    const schema = path[path.length - 2]!;
    const exact = candidates.filter((t) => t.schema !== undefined && same(t.schema, schema));
    // SQLite's `main.t` and MongoDB have no schema in the snapshot: the name alone decides.
    return exact.length ? exact : candidates.filter((t) => t.schema === undefined);
  }
}
