/**
 * A SchemaSnapshot as a mermaid `erDiagram`: the whole schema, or the foreign-key neighbourhood of some tables.
 * Identifiers are sanitised for mermaid's grammar (the original name is kept as the entity's label), columns get
 * PK/FK/UK markers, relationships get crow's-foot cardinalities. The text is what SchemaDefinition.mermaidDiagram
 * stores, so it must render on its own.
 */
import type { RelationshipInfo, SchemaSnapshot, TableInfo } from '../../core/db/database-dialect.ts';
import { NotFoundError } from '../../core/errors.ts';

export interface ErdOptions {
  /** Centre tables: only these and their FK neighbours are drawn. Omit for the whole schema. */
  tables?: string[];
  /** How many FK hops from the centre tables (1 or 2); default 1. */
  depth?: 1 | 2;
  /** Columns listed per table before "N more"; key columns always show. Default 14. */
  maxColumnsPerTable?: number;
}

export interface ErdText {
  mermaid: string;
  /** Tables drawn, by their snapshot names. */
  tables: string[];
  relationships: number;
  /** Requested centre tables that the snapshot does not have. */
  missing: string[];
}

/** Makes an identifier mermaid accepts: letters, digits, `_` and `-`, starting with a letter or `_`. */
export function mermaidId(name: string): string {
  let id = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    // A trailing underscore could pair with a leading one, which mermaid draws as italics (_x_).
    .replace(/_+$/, '');
  if (!/^[A-Za-z_]/.test(id)) id = `_${id}`;
  return id === '_' ? 'unnamed' : id;
}

const SHORT_TYPES: [RegExp, string][] = [
  [/^timestamp(\(\d+\))? with time zone$/i, 'timestamptz$1'],
  [/^timestamp(\(\d+\))? without time zone$/i, 'timestamp$1'],
  [/^time(\(\d+\))? with time zone$/i, 'timetz$1'],
  [/^time(\(\d+\))? without time zone$/i, 'time$1'],
  [/^character varying/i, 'varchar'],
  [/^double precision$/i, 'double'],
];

/** The usual short spelling of long SQL type names, so the type column stays narrow. */
function shortType(type: string): string {
  for (const [pattern, short] of SHORT_TYPES) if (pattern.test(type)) return type.replace(pattern, short);
  return type;
}

/** A column type as one mermaid word: `timestamp with time zone` → `timestamp_with_time_zone`. */
export function mermaidType(type: string): string {
  const word = shortType(type)
    .trim()
    .replace(/\s+/g, '_')
    .replace(/,/g, '_')
    .replace(/[^A-Za-z0-9_()[\]-]/g, '');
  return /^[A-Za-z_]/.test(word) ? word : `t_${word || 'unknown'}`;
}

/** Text inside a mermaid double-quoted string: no quotes, no line breaks. */
export function quoted(text: string): string {
  return `"${text.replace(/["\n\r]/g, (c) => (c === '"' ? "'" : ' ')).slice(0, 120)}"`;
}

/** `id`, or `id_2`, `id_3`… when taken (compared case-insensitively); records the result in `taken`. */
export function unique(id: string, taken: Set<string>): string {
  let candidate = id;
  for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = `${id}_${n}`;
  taken.add(candidate.toLowerCase());
  return candidate;
}

function findTable(tables: readonly TableInfo[], name: string): TableInfo | undefined {
  const lower = name.toLowerCase();
  return (
    tables.find((t) => t.name === name) ??
    tables.find((t) => t.name.toLowerCase() === lower) ??
    tables.find((t) => (t.schema ? `${t.schema}.${t.name}` : t.name).toLowerCase() === lower) ??
    tables.find((t) => t.name.toLowerCase().split('.').pop() === lower)
  );
}

/** Names of the centre tables plus everything within `depth` FK hops, in snapshot order. */
export function neighbourhood(
  snapshot: SchemaSnapshot,
  centre: readonly string[],
  depth: number,
): Set<string> {
  const seen = new Set(centre);
  let frontier = [...centre];
  for (let hop = 0; hop < depth; hop++) {
    const next: string[] = [];
    for (const rel of snapshot.relationships) {
      for (const [a, b] of [
        [rel.fromTable, rel.toTable],
        [rel.toTable, rel.fromTable],
      ] as const) {
        if (frontier.includes(a) && !seen.has(b)) {
          seen.add(b);
          next.push(b);
        }
      }
    }
    frontier = next;
  }
  return seen;
}

function entity(table: TableInfo, id: string, maxColumns: number): string[] {
  const pk = new Set(
    table.primaryKey.length
      ? table.primaryKey
      : table.columns.filter((c) => c.isPrimaryKey).map((c) => c.name),
  );
  const fk = new Set(table.foreignKeys.flatMap((f) => f.columns));
  const uk = new Set(
    table.indexes.filter((i) => i.unique && !i.primary && i.columns.length === 1).map((i) => i.columns[0]!),
  );
  const isKey = (name: string) => pk.has(name) || fk.has(name) || uk.has(name);
  const budget = Math.max(maxColumns, table.columns.filter((c) => isKey(c.name)).length);
  let others = budget - table.columns.filter((c) => isKey(c.name)).length;
  const shown = table.columns.filter((c) => isKey(c.name) || others-- > 0);
  const label = table.name === id ? id : `${id}[${quoted(table.name)}]`;
  const lines = [`  ${label} {`];
  const usedNames = new Set<string>();
  for (const col of shown) {
    const name = unique(mermaidId(col.name), usedNames);
    const keys = [pk.has(col.name) && 'PK', fk.has(col.name) && 'FK', uk.has(col.name) && 'UK']
      .filter(Boolean)
      .join(', ');
    const comment = name === col.name ? '' : ` ${quoted(col.name)}`;
    lines.push(`    ${mermaidType(col.type)} ${name}${keys ? ` ${keys}` : ''}${comment}`);
  }
  const hidden = table.columns.length - shown.length;
  if (hidden > 0) lines.push(`    more columns ${quoted(`+${hidden} more columns`)}`);
  if (table.columns.length === 0) lines.push(`    none no_columns`);
  lines.push('  }');
  return lines;
}

function relationshipLine(
  rel: RelationshipInfo,
  ids: Map<string, string>,
  from: TableInfo | undefined,
): string {
  const nullable = from?.columns.some((c) => rel.fromColumns.includes(c.name) && c.nullable) ?? false;
  const parent = nullable ? 'o|' : '||';
  const child = rel.cardinality === 'one-to-one' ? '|o' : '}o';
  return `  ${ids.get(rel.fromTable)} ${child}--${parent} ${ids.get(rel.toTable)} : ${quoted(rel.fromColumns.join(', '))}`;
}

/** Builds the mermaid erDiagram text for a snapshot (or the neighbourhood of `options.tables`). */
export function schemaToMermaid(snapshot: SchemaSnapshot, options: ErdOptions = {}): ErdText {
  const maxColumns = Math.max(1, options.maxColumnsPerTable ?? 14);
  let tables = snapshot.tables;
  const missing: string[] = [];
  if (options.tables && options.tables.length > 0) {
    const centre: string[] = [];
    for (const name of options.tables) {
      const found = findTable(snapshot.tables, name);
      if (found) centre.push(found.name);
      else missing.push(name);
    }
    if (centre.length === 0) {
      throw new NotFoundError(
        `The schema has no table named ${options.tables.map((t) => `"${t}"`).join(', ')}.`,
      );
    }
    const keep = neighbourhood(snapshot, centre, Math.min(2, Math.max(1, options.depth ?? 1)));
    tables = snapshot.tables.filter((t) => keep.has(t.name));
  }

  const ids = new Map<string, string>();
  const taken = new Set<string>();
  for (const t of tables) {
    ids.set(t.name, unique(mermaidId(t.name), taken));
  }
  const byName = new Map(tables.map((t) => [t.name, t]));
  const rels = snapshot.relationships.filter((r) => ids.has(r.fromTable) && ids.has(r.toTable));
  const lines = ['erDiagram'];
  for (const t of tables) lines.push(...entity(t, ids.get(t.name)!, maxColumns));
  for (const r of rels) lines.push(relationshipLine(r, ids, byName.get(r.fromTable)));
  return {
    mermaid: `${lines.join('\n')}\n`,
    tables: tables.map((t) => t.name),
    relationships: rels.length,
    missing,
  };
}
