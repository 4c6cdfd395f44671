import type { SchemaSnapshot, TableInfo } from '../db/database-dialect.ts';
import { identifierStems, questionStems } from './name-tokens.ts';
import { needsQualifiedNames, renderTableLine } from './render-schema.ts';

export interface SchemaContextOptions {
  /** Budget for the rendered schema text, in characters (about 4 per token). Default 24,000 (~6k tokens). */
  maxChars?: number;
  /** Upper bound on tables in the context whatever the budget. Default 60. */
  maxTables?: number;
  /** Query texts (SQL or MongoDB JSON) of the thread's earlier turns: the tables they name stay in context. */
  earlierQueries?: readonly string[];
  /** Questions of the thread's earlier turns: their words count at half weight ("only Germany" refines them). */
  earlierQuestions?: readonly string[];
}

export type PickReason = 'all' | 'earlier' | 'relevant' | 'neighbour' | 'related' | 'hub';

export interface SchemaContext {
  /** The schema text for the prompt, one table per line, most relevant first. */
  text: string;
  tables: TableInfo[];
  /** Why each table is in the context, in the same order as `tables`. */
  reasons: PickReason[];
  totalTables: number;
  omittedTables: number;
  /** True when every table of the snapshot is in the context. */
  complete: boolean;
  qualifiedNames: boolean;
}

const DEFAULT_MAX_CHARS = 24_000;
const DEFAULT_MAX_TABLES = 60;

interface Candidate {
  index: number;
  table: TableInfo;
  line: string;
  nameScore: number;
  score: number;
  earlier: boolean;
}

function keyOf(table: Pick<TableInfo, 'schema' | 'name'>): string {
  return (table.schema ? `${table.schema}.${table.name}` : table.name).toLowerCase();
}

function scoreTable(table: TableInfo, stems: Set<string>, weight: number): { name: number; total: number } {
  if (stems.size === 0) return { name: 0, total: 0 };
  let name = 0;
  const nameStems = new Set(identifierStems(table.name));
  for (const s of nameStems) if (stems.has(s)) name += 3 * weight;
  // The question names this very table ("orders"), not just a part of it ("order_items"): rank it first.
  if (name > 0 && [...nameStems].every((s) => stems.has(s))) name += 2 * weight;
  let columns = 0;
  for (const column of table.columns) {
    if (identifierStems(column.name).some((s) => stems.has(s))) columns += weight;
  }
  let comment = 0;
  if (table.comment && identifierStems(table.comment).some((s) => stems.has(s))) comment = 0.5 * weight;
  return { name, total: name + Math.min(columns, 3 * weight) + comment };
}

/** Table keys named as identifiers in earlier queries (quoted or not, qualified or not). */
function tablesNamedIn(queries: readonly string[], byName: Map<string, number[]>): Set<number> {
  const found = new Set<number>();
  for (const query of queries) {
    const tokens = new Set<string>();
    for (const m of query.toLowerCase().matchAll(/[a-z_][a-z0-9_$]*/g)) tokens.add(m[0]);
    for (const token of tokens) for (const i of byName.get(token) ?? []) found.add(i);
  }
  return found;
}

/**
 * Picks the part of a schema a question needs, within a budget. Small schemas go whole. Large ones get the tables
 * whose names (then columns, comments) share stemmed words with the question, the tables the thread's earlier
 * queries used, and their foreign-key neighbours; with nothing relevant, the most connected tables. Deterministic.
 */
export function selectSchemaContext(
  snapshot: Pick<SchemaSnapshot, 'tables' | 'relationships'>,
  question: string,
  options: SchemaContextOptions = {},
): SchemaContext {
  const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
  const maxTables = options.maxTables ?? DEFAULT_MAX_TABLES;
  const qualified = needsQualifiedNames(snapshot);
  const tables = snapshot.tables;
  const lines = tables.map((t) => renderTableLine(t, qualified));
  const fullLength = lines.reduce((n, l) => n + l.length + 1, 0);

  if (fullLength <= maxChars && tables.length <= maxTables) {
    return {
      text: lines.join('\n'),
      tables: [...tables],
      reasons: tables.map(() => 'all' as const),
      totalTables: tables.length,
      omittedTables: 0,
      complete: true,
      qualifiedNames: qualified,
    };
  }

  const byKey = new Map<string, number>();
  const byName = new Map<string, number[]>();
  tables.forEach((t, i) => {
    byKey.set(keyOf(t), i);
    const list = byName.get(t.name.toLowerCase()) ?? [];
    list.push(i);
    byName.set(t.name.toLowerCase(), list);
  });
  const resolve = (ref: string, fromSchema: string | undefined): number | undefined => {
    const lower = ref.toLowerCase();
    const exact = byKey.get(lower);
    if (exact !== undefined) return exact;
    const bare = lower.includes('.') ? lower.slice(lower.lastIndexOf('.') + 1) : lower;
    const named = byName.get(bare) ?? [];
    return named.find((i) => tables[i]?.schema === fromSchema) ?? named[0];
  };

  // Neighbours both ways, from table FKs and the snapshot's relationships; sets keep it duplicate-free.
  const outgoing = tables.map(() => new Set<number>());
  const incoming = tables.map(() => new Set<number>());
  const link = (from: number | undefined, to: number | undefined) => {
    if (from === undefined || to === undefined || from === to) return;
    outgoing[from]?.add(to);
    incoming[to]?.add(from);
  };
  tables.forEach((t, i) => t.foreignKeys.forEach((fk) => link(i, resolve(fk.referencedTable, t.schema))));
  for (const r of snapshot.relationships)
    link(resolve(r.fromTable, undefined), resolve(r.toTable, undefined));

  const stems = questionStems(question);
  const earlierStems = new Set<string>();
  for (const q of options.earlierQuestions ?? [])
    for (const s of questionStems(q)) if (!stems.has(s)) earlierStems.add(s);
  const earlier = tablesNamedIn(options.earlierQueries ?? [], byName);

  const candidates: Candidate[] = tables.map((table, index) => {
    const now = scoreTable(table, stems, 1);
    const before = scoreTable(table, earlierStems, 0.5);
    const wasEarlier = earlier.has(index);
    return {
      index,
      table,
      line: lines[index] ?? '',
      nameScore: now.name + before.name + (wasEarlier ? 4 : 0),
      score: now.total + before.total + (wasEarlier ? 4 : 0),
      earlier: wasEarlier,
    };
  });
  const byRank = (a: Candidate, b: Candidate) =>
    b.score - a.score || a.table.name.localeCompare(b.table.name) || a.index - b.index;

  const picked: Candidate[] = [];
  const reasons: PickReason[] = [];
  const taken = new Set<number>();
  let used = 0;
  const take = (c: Candidate | undefined, reason: PickReason) => {
    if (!c || taken.has(c.index) || picked.length >= maxTables) return;
    if (used + c.line.length + 1 > maxChars) return;
    taken.add(c.index);
    picked.push(c);
    reasons.push(reason);
    used += c.line.length + 1;
  };

  const relevant = candidates.filter((c) => c.score > 0).sort(byRank);
  let primaries = relevant.filter((c) => c.nameScore > 0);
  if (primaries.length === 0) primaries = relevant.slice(0, 10);
  for (const c of primaries) take(c, c.earlier ? 'earlier' : 'relevant');

  const primaryIndexes = picked.map((c) => c.index);
  // Outgoing first: the tables a primary points to (customers for orders) are what joins need most.
  for (const i of primaryIndexes) {
    const targets = [...(outgoing[i] ?? [])].map((j) => candidates[j]!).sort(byRank);
    for (const c of targets) take(c, 'neighbour');
  }
  for (const i of primaryIndexes) {
    const sources = [...(incoming[i] ?? [])].map((j) => candidates[j]!).sort(byRank);
    for (const c of sources) take(c, 'neighbour');
  }
  for (const c of relevant) take(c, 'related');

  if (picked.length === 0) {
    const degree = (c: Candidate) => (outgoing[c.index]?.size ?? 0) + (incoming[c.index]?.size ?? 0);
    const hubs = [...candidates].sort(
      (a, b) => degree(b) - degree(a) || a.table.name.localeCompare(b.table.name) || a.index - b.index,
    );
    for (const c of hubs) take(c, 'hub');
  }

  return {
    text: picked.map((c) => c.line).join('\n'),
    tables: picked.map((c) => c.table),
    reasons,
    totalTables: tables.length,
    omittedTables: tables.length - picked.length,
    complete: picked.length === tables.length,
    qualifiedNames: qualified,
  };
}
