/**
 * The one choke point between a database result and everything that shows it: a QueryResult (or a streamed
 * ReadStream, for CSV exports of any size) in, its masked form out, plus the variant the chart renderer draws
 * (a masked measure is left out; a masked dimension becomes a placeholder label). Pure: no I/O.
 */
import type { MaskMode } from '../../config/config-file.ts';
import type { QueryResult, ReadStream, ResultColumn } from '../db/database-dialect.ts';
import { profileColumns } from '../../renderers/chart/column-profile.ts';
import type { ColumnMask, MaskPlan } from './plan-masking.ts';
import { REDACTED, type ValueRedactor } from './value-redactor.ts';

/** One masked result column, for the note under a result and for audit detail. */
export interface MaskedColumnNote {
  column: string;
  mode: MaskMode;
  /** The masked source columns it shows; empty when it was masked because it could not be traced. */
  sources: string[];
}

export interface MaskedResult {
  /** What tables, CSV, PNGs, history previews and the model may see. */
  result: QueryResult;
  /** What the chart renderer may draw. */
  chart: QueryResult;
  masked: MaskedColumnNote[];
}

interface Applied {
  columns: ResultColumn[];
  /** Per kept column: its index in the source row, and how to show its values. */
  keep: { index: number; mode?: Exclude<MaskMode, 'hide'> }[];
  masked: MaskedColumnNote[];
}

function apply(columns: readonly ResultColumn[], decisions: (ColumnMask | undefined)[]): Applied {
  const keep: Applied['keep'] = [];
  const out: ResultColumn[] = [];
  const masked: MaskedColumnNote[] = [];
  columns.forEach((column, index) => {
    const decision = decisions[index];
    if (decision) masked.push({ column: column.name, mode: decision.mode, sources: decision.sources });
    if (decision?.mode === 'hide') return;
    if (decision) {
      keep.push({ index, mode: decision.mode });
      out.push({ name: column.name, type: 'masked', kind: 'string' });
    } else {
      keep.push({ index });
      out.push(column);
    }
  });
  return { columns: out, keep, masked };
}

function maskRows(rows: unknown[][], applied: Applied, redactor: ValueRedactor): unknown[][] {
  return rows.map((row) =>
    applied.keep.map((k) => (k.mode ? redactor.redact(row[k.index], k.mode) : row[k.index])),
  );
}

/** A masked copy of `result` (the original is untouched) and its chart variant. */
export function maskResult(result: QueryResult, plan: MaskPlan, redactor: ValueRedactor): MaskedResult {
  if (!plan.active) return { result, chart: result, masked: [] };
  const decisions = plan.decide(result.columns);
  if (decisions.every((d) => d === undefined)) return { result, chart: result, masked: [] };
  const applied = apply(result.columns, decisions);
  const masked: QueryResult = {
    ...result,
    columns: applied.columns,
    rows: maskRows(result.rows, applied, redactor),
  };
  return { result: masked, chart: chartVariant(result, decisions, redactor), masked: applied.masked };
}

/**
 * The chart's view of a result: unmasked columns as they are; a masked column that would be the measure is left
 * out (its values would be the bar heights); any other masked column keeps its grouping under placeholder labels
 * (`••• 1`, `••• 2`, … in order of appearance, or the hash in hash mode), so the shape reads but no value does.
 */
function chartVariant(
  result: QueryResult,
  decisions: (ColumnMask | undefined)[],
  redactor: ValueRedactor,
): QueryResult {
  const roles = profileColumns(result);
  const columns: ResultColumn[] = [];
  const pick: ((row: unknown[]) => unknown)[] = [];
  result.columns.forEach((column, index) => {
    const decision = decisions[index];
    if (!decision) {
      columns.push(column);
      pick.push((row) => row[index]);
      return;
    }
    if (decision.mode === 'hide' || roles[index]?.role === 'measure') return;
    columns.push({ name: column.name, type: 'masked', kind: 'string' });
    if (decision.mode === 'hash') {
      pick.push((row) => redactor.redact(row[index], 'hash'));
      return;
    }
    const labels = new Map<string, string>();
    pick.push((row) => {
      const value = row[index];
      if (value === null || value === undefined) return null;
      const key = value instanceof Date ? `d${value.getTime()}` : `${typeof value}:${JSON.stringify(value)}`;
      let label = labels.get(key);
      if (!label) labels.set(key, (label = `${REDACTED} ${labels.size + 1}`));
      return label;
    });
  });
  return { ...result, columns, rows: result.rows.map((row) => pick.map((p) => p(row))) };
}

/** A streamed read whose batches come out masked (for the full CSV); columns are decided once, up front. */
export function maskReadStream(
  stream: ReadStream,
  plan: MaskPlan,
  redactor: ValueRedactor,
): { stream: ReadStream; masked: MaskedColumnNote[] } {
  if (!plan.active) return { stream, masked: [] };
  const decisions = plan.decide(stream.columns);
  if (decisions.every((d) => d === undefined)) return { stream, masked: [] };
  const applied = apply(stream.columns, decisions);
  const source = stream.batches;
  return {
    masked: applied.masked,
    stream: {
      columns: applied.columns,
      batches: (async function* () {
        for await (const batch of source) yield maskRows(batch, applied, redactor);
      })(),
      summary: () => stream.summary(),
      close: () => stream.close(),
    },
  };
}

/** The line under a result that says what was masked and how; undefined when nothing was. */
export function maskingNote(masked: readonly MaskedColumnNote[]): string | undefined {
  if (!masked.length) return undefined;
  const words: Record<MaskMode, string> = { hide: 'hidden', redact: 'masked', hash: 'hashed' };
  const parts = masked.map((m) => {
    const from =
      m.sources.length && !(m.sources.length === 1 && m.sources[0]!.endsWith(`.${m.column}`))
        ? ` (from ${m.sources.join(', ')})`
        : '';
    return `${m.column} ${words[m.mode]}${from}`;
  });
  return `🔒 By policy: ${parts.join(', ')}`;
}
