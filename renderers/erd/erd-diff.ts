/**
 * The ER diagram of a migration: the tables it touches before and after, side by side, with the change marked.
 * A changed table is drawn twice, `orders · before` (what down must restore) and `orders · after` (what up
 * makes); rows it removes are marked `− removed` on the before side, rows it adds `+ added` on the after side,
 * changed rows `~ …` on both. Indexes and primary keys appear as rows when they change. A new table is drawn once
 * (green), a dropped one once (red); tables they point to or from are drawn plain, keys only, for context.
 * Foreign keys the migration adds are labelled `+`, ones it removes `−`.
 * The output is mermaid text; renderers/erd/mermaid-browser.ts draws it like any ERD.
 */
import type { ColumnInfo, SchemaSnapshot, TableInfo } from '../../core/db/database-dialect.ts';
import { diffSchemas, touchedTables, userTables, type SchemaChange } from '../../core/schema/schema-diff.ts';
import { mermaidId, mermaidType, quoted, unique } from './erd-mermaid.ts';

export interface ErdDiffOptions {
  /** First line of the picture, e.g. the migration's version. */
  title?: string;
  /** Unchanged columns listed per table before "N more"; key and changed columns always show. Default 12. */
  maxColumnsPerTable?: number;
}

export interface ErdDiffText {
  mermaid: string;
  /** The changes drawn (every schema difference from before to after). */
  changes: SchemaChange[];
  /** Tables the migration touches, by name. */
  tables: string[];
}

const STYLES = [
  '  classDef before fill:#f6f8fa,stroke:#8c959f,stroke-width:1px',
  '  classDef changed fill:#fff4d6,stroke:#b45309,stroke-width:2px',
  '  classDef added fill:#e6f4ea,stroke:#1a7f37,stroke-width:2px',
  '  classDef removed fill:#fdecea,stroke:#cf222e,stroke-width:2px',
  '  classDef context fill:#ffffff,stroke:#afb8c1,stroke-width:1px',
];

type Side = 'before' | 'after';

/** Related (context) tables drawn at most. */
const MAX_CONTEXT = 6;

interface Row {
  type: string;
  name: string;
  keys: string;
  note: string;
}

function keysOf(table: TableInfo, column: string): string {
  const pk =
    table.primaryKey.includes(column) || table.columns.some((c) => c.name === column && c.isPrimaryKey);
  const fk = table.foreignKeys.some((f) => f.columns.includes(column));
  const uk = table.indexes.some(
    (i) => i.unique && !i.primary && i.columns.length === 1 && i.columns[0] === column,
  );
  return [pk && 'PK', fk && 'FK', uk && 'UK'].filter(Boolean).join(', ');
}

/** The mark a column or index row gets on one side, or '' when it did not change there. */
function mark(change: SchemaChange | undefined, side: Side): string {
  if (!change) return '';
  if (change.change === 'added') return side === 'after' ? '+ added' : '';
  if (change.change === 'removed') return side === 'before' ? '− removed' : '';
  return `~ ${change.detail ?? 'changed'}`;
}

function columnRows(table: TableInfo, changes: SchemaChange[], side: Side, maxColumns: number): Row[] {
  const changeOf = (c: ColumnInfo) => changes.find((x) => x.kind === 'column' && x.name === c.name);
  const fkChange = (c: ColumnInfo) =>
    changes.find((x) => x.kind === 'foreign key' && x.shape?.startsWith(`(${c.name} `));
  const rows: Row[] = [];
  let budget = maxColumns;
  let hidden = 0;
  for (const column of table.columns) {
    const keys = keysOf(table, column.name);
    let note = mark(changeOf(column), side);
    const fk = fkChange(column);
    if (!note && fk && mark(fk, side)) note = `${mark(fk, side).slice(0, 1)} foreign key ${fk.shape}`;
    if (!note && !keys && budget <= 0) {
      hidden++;
      continue;
    }
    if (!note && !keys) budget--;
    rows.push({ type: mermaidType(column.type), name: column.name, keys, note });
  }
  if (hidden > 0) rows.push({ type: 'more', name: 'columns', keys: '', note: `+${hidden} more columns` });
  return rows;
}

function extraRows(changes: SchemaChange[], side: Side): Row[] {
  const rows: Row[] = [];
  for (const c of changes) {
    const note = mark(c, side);
    if (!note) continue;
    if (c.kind === 'index')
      rows.push({ type: 'index', name: c.name, keys: '', note: `${note} ${c.shape ?? ''}`.trim() });
    if (c.kind === 'primary key')
      rows.push({ type: 'key', name: 'primary_key', keys: '', note: `${note} ${c.shape ?? ''}`.trim() });
  }
  return rows;
}

function entity(id: string, label: string, rows: Row[]): string[] {
  const lines = [`  ${id}[${quoted(label)}] {`];
  const used = new Set<string>();
  for (const row of rows) {
    const name = unique(mermaidId(row.name), used);
    const original = name === row.name ? '' : row.name;
    const note = [row.note, original && !row.note ? original : ''].filter(Boolean).join(' ');
    lines.push(`    ${row.type} ${name}${row.keys ? ` ${row.keys}` : ''}${note ? ` ${quoted(note)}` : ''}`);
  }
  if (rows.length === 0) lines.push('    none no_columns');
  lines.push('  }');
  return lines;
}

function contextRows(table: TableInfo): Row[] {
  return table.columns
    .map((c) => ({ type: mermaidType(c.type), name: c.name, keys: keysOf(table, c.name), note: '' }))
    .filter((r) => r.keys !== '');
}

/** Mermaid text for the change from `before` to `after` (threadql's own tables left out). */
export function migrationErdDiff(
  before: SchemaSnapshot,
  after: SchemaSnapshot,
  options: ErdDiffOptions = {},
): ErdDiffText {
  const maxColumns = Math.max(1, options.maxColumnsPerTable ?? 12);
  const changes = diffSchemas(before, after);
  const touched = touchedTables(changes);
  const beforeBy = new Map(userTables(before).map((t) => [t.name, t]));
  const afterBy = new Map(userTables(after).map((t) => [t.name, t]));
  const taken = new Set<string>();
  const ids = new Map<string, string>();
  const idOf = (name: string, side: Side): string => {
    const key = `${side}\u0000${name}`;
    let id = ids.get(key);
    if (!id) {
      id = unique(mermaidId(side === 'before' ? `${name}__before` : name), taken);
      ids.set(key, id);
    }
    return id;
  };

  const lines = ['erDiagram', '  direction LR'];
  const classes: string[] = [];
  const links: string[] = [];
  for (const name of touched) {
    const own = changes.filter((c) => c.table === name);
    const b = beforeBy.get(name);
    const a = afterBy.get(name);
    const tableChange = own.find((c) => (c.kind === 'table' || c.kind === 'view') && c.change !== 'changed');
    if (tableChange?.change === 'added' && a) {
      lines.push(
        ...entity(idOf(name, 'after'), `${name} · + new table`, columnRows(a, [], 'after', maxColumns)),
      );
      classes.push(`  class ${idOf(name, 'after')} added`);
      continue;
    }
    if (tableChange?.change === 'removed' && b) {
      lines.push(
        ...entity(idOf(name, 'before'), `${name} · − dropped`, columnRows(b, [], 'before', maxColumns)),
      );
      classes.push(`  class ${idOf(name, 'before')} removed`);
      continue;
    }
    if (!a || !b) continue;
    lines.push(
      ...entity(idOf(name, 'before'), `${name} · before`, [
        ...columnRows(b, own, 'before', maxColumns),
        ...extraRows(own, 'before'),
      ]),
    );
    lines.push(
      ...entity(idOf(name, 'after'), `${name} · after`, [
        ...columnRows(a, own, 'after', maxColumns),
        ...extraRows(own, 'after'),
      ]),
    );
    classes.push(`  class ${idOf(name, 'before')} before`, `  class ${idOf(name, 'after')} changed`);
    // Pulls each before next to its after; reads "orders · before — up → orders · after".
    links.push(`  ${idOf(name, 'before')} ||..|| ${idOf(name, 'after')} : "up →"`);
  }

  // Context: tables the touched ones point to, then tables pointing at them, keys only, at most MAX_CONTEXT
  // (a much-referenced table such as orders can have hundreds of children; drawing them all helps no one).
  const touchedSet = new Set(touched);
  const parents = new Set<string>();
  const children = new Set<string>();
  for (const snapshot of [after, before]) {
    for (const rel of snapshot.relationships) {
      if (touchedSet.has(rel.fromTable) && !touchedSet.has(rel.toTable)) parents.add(rel.toTable);
      if (touchedSet.has(rel.toTable) && !touchedSet.has(rel.fromTable)) children.add(rel.fromTable);
    }
  }
  const related = [...new Set([...parents, ...children])].filter((n) => afterBy.has(n) || beforeBy.has(n));
  const context = related.slice(0, MAX_CONTEXT);
  for (const name of context) {
    const table = afterBy.get(name) ?? beforeBy.get(name)!;
    lines.push(...entity(idOf(name, 'after'), name, contextRows(table)));
    classes.push(`  class ${idOf(name, 'after')} context`);
  }
  const notDrawn = related.length - context.length;

  const drawn = (name: string, side: Side) => ids.has(`${side}\u0000${name}`);
  const fkChange = (table: string, columns: string[]) =>
    changes.find(
      (c) => c.kind === 'foreign key' && c.table === table && c.shape?.startsWith(`(${columns.join(', ')} `),
    );
  for (const rel of after.relationships) {
    if (!drawn(rel.fromTable, 'after') || !drawn(rel.toTable, 'after')) continue;
    if (!touchedSet.has(rel.fromTable) && !touchedSet.has(rel.toTable)) continue;
    const added = fkChange(rel.fromTable, rel.fromColumns)?.change === 'added';
    const label = `${added ? '+ ' : ''}${rel.fromColumns.join(', ')}`;
    const child = rel.cardinality === 'one-to-one' ? '|o' : '}o';
    lines.push(
      `  ${idOf(rel.fromTable, 'after')} ${child}--|| ${idOf(rel.toTable, 'after')} : ${quoted(label)}`,
    );
  }
  for (const rel of before.relationships) {
    if (fkChange(rel.fromTable, rel.fromColumns)?.change !== 'removed') continue;
    const from = drawn(rel.fromTable, 'before') ? idOf(rel.fromTable, 'before') : undefined;
    const to = drawn(rel.toTable, 'after')
      ? idOf(rel.toTable, 'after')
      : drawn(rel.toTable, 'before')
        ? idOf(rel.toTable, 'before')
        : undefined;
    if (from && to) lines.push(`  ${from} }o..|| ${to} : ${quoted(`− ${rel.fromColumns.join(', ')}`)}`);
  }

  const title = options.title ? `${options.title} · ` : '';
  const more = notDrawn > 0 ? `   · ${notDrawn} more related tables not drawn` : '';
  const header = [
    '---',
    `title: "${`${title}before → after   (+ added, − removed, ~ changed)${more}`.replace(/["\n\r]/g, ' ')}"`,
    '---',
  ];
  return {
    mermaid: `${[...header, ...lines, ...links, ...STYLES, ...classes].join('\n')}\n`,
    changes,
    tables: touched,
  };
}
