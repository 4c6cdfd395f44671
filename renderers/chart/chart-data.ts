/**
 * Turns a result plus a ChartChoice into the flat rows a chart spec plots: fields `x`, `y`, `s` (series).
 * Fixed field names keep column names with dots or brackets from being read as vega field paths.
 * Bars keep the top N categories and sum the rest into "Other"; series are capped the same way.
 */
import type { QueryResult } from '../../core/db/database-dialect.ts';
import { cellText, isNullValue } from '../format/cell-text.ts';
import type { ChartChoice } from './choose-chart.ts';
import { toNumber, toTime } from './column-profile.ts';

export interface ChartRow {
  x: number | string;
  y: number;
  s?: string;
}

export interface ChartData {
  rows: ChartRow[];
  /** Footnotes for the subtitle, e.g. "top 20 of 57 categories; the rest summed as Other". */
  notes: string[];
  /** x values are epoch milliseconds (line charts over time). */
  temporalX: boolean;
  /** Category order for the x (bar) or series axis, largest first, "Other" last. */
  xOrder?: string[];
  seriesOrder?: string[];
}

export interface ChartDataOptions {
  /** Bars (categories) to keep before grouping the rest as "Other"; default 20. */
  topN?: number;
  /** Series to keep before grouping the rest as "Other"; default 8. */
  maxSeries?: number;
}

export const OTHER_LABEL = 'Other';
const YEAR_NAME = /^(year|yr|fiscal_year)$/i;

function label(value: unknown, kind: QueryResult['columns'][number]['kind']): string {
  return isNullValue(value) ? '(null)' : cellText(value, kind);
}

/** Keeps the `limit` keys with the largest absolute totals; returns kept keys (largest first) and the rest. */
function topKeys(totals: Map<string, number>, limit: number): { kept: string[]; rest: Set<string> } {
  const sorted = [...totals.entries()].sort((a, b) => b[1] - a[1]);
  if (sorted.length <= limit) return { kept: sorted.map(([k]) => k), rest: new Set() };
  return {
    kept: sorted.slice(0, limit - 1).map(([k]) => k),
    rest: new Set(sorted.slice(limit - 1).map(([k]) => k)),
  };
}

function sumBy(rows: ChartRow[], key: (r: ChartRow) => string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(key(r), (totals.get(key(r)) ?? 0) + r.y);
  return totals;
}

/** Sums rows sharing (x, s), so duplicates (an un-aggregated result) plot as one bar segment or point. */
function aggregate(rows: ChartRow[]): ChartRow[] {
  const merged = new Map<string, ChartRow>();
  for (const r of rows) {
    const key = `${typeof r.x}:${r.x}\u0000${r.s ?? ''}`;
    const prev = merged.get(key);
    if (prev) prev.y += r.y;
    else merged.set(key, { ...r });
  }
  return [...merged.values()];
}

function capSeries(
  rows: ChartRow[],
  maxSeries: number,
  notes: string[],
): { rows: ChartRow[]; order: string[] } {
  const totals = sumBy(rows, (r) => r.s ?? '');
  const { kept, rest } = topKeys(new Map([...totals].map(([k, v]) => [k, Math.abs(v)])), maxSeries);
  if (rest.size === 0) return { rows, order: kept };
  notes.push(`top ${kept.length} of ${totals.size} series; the rest summed as ${OTHER_LABEL}`);
  const capped = aggregate(rows.map((r) => (rest.has(r.s ?? '') ? { ...r, s: OTHER_LABEL } : r)));
  return { rows: capped, order: [...kept, OTHER_LABEL] };
}

/** Builds the plotted rows for a choice (never for `none`). */
export function chartData(
  result: QueryResult,
  choice: ChartChoice,
  options: ChartDataOptions = {},
): ChartData {
  const topN = Math.max(2, options.topN ?? 20);
  const maxSeries = Math.max(2, options.maxSeries ?? 8);
  const cols = result.columns;
  const notes: string[] = [];
  const xi = choice.x;
  const si = choice.series;

  if (choice.type === 'big_number') {
    const y = toNumber(result.rows[0]?.[choice.y[0]!]);
    return { rows: y === undefined ? [] : [{ x: '', y }], notes, temporalX: false };
  }

  if (choice.type === 'line') {
    const temporal =
      xi !== undefined &&
      (cols[xi]!.kind === 'date' ||
        cols[xi]!.kind === 'datetime' ||
        result.rows.some((r) => toTime(r[xi]) !== undefined) ||
        YEAR_NAME.test(cols[xi]!.name));
    const rows: ChartRow[] = [];
    for (const row of result.rows) {
      const xv =
        xi === undefined
          ? undefined
          : temporal
            ? toTime(row[xi], YEAR_NAME.test(cols[xi]!.name))
            : label(row[xi], cols[xi]!.kind);
      if (xv === undefined) continue;
      for (const yi of choice.y) {
        const y = toNumber(row[yi]);
        if (y === undefined) continue;
        const s =
          choice.y.length > 1
            ? cols[yi]!.name
            : si !== undefined
              ? label(row[si], cols[si]!.kind)
              : undefined;
        rows.push(s === undefined ? { x: xv, y } : { x: xv, y, s });
      }
    }
    let out = aggregate(rows);
    let seriesOrder: string[] | undefined;
    if (choice.y.length > 1) seriesOrder = choice.y.map((yi) => cols[yi]!.name);
    else if (si !== undefined) ({ rows: out, order: seriesOrder } = capSeries(out, maxSeries, notes));
    if (temporal) out.sort((a, b) => (a.x as number) - (b.x as number));
    return { rows: out, notes, temporalX: temporal, seriesOrder };
  }

  if (choice.type === 'scatter') {
    const seriesOk =
      si !== undefined && new Set(result.rows.map((r) => label(r[si], cols[si]!.kind))).size <= 10;
    const rows: ChartRow[] = [];
    for (const row of result.rows) {
      const x = toNumber(row[xi!]);
      const y = toNumber(row[choice.y[0]!]);
      if (x === undefined || y === undefined) continue;
      rows.push(seriesOk ? { x, y, s: label(row[si], cols[si]!.kind) } : { x, y });
    }
    if (si !== undefined && !seriesOk) notes.push(`too many values in ${cols[si]!.name} to colour by`);
    return { rows, notes, temporalX: false };
  }

  // bar, stacked_bar, heatmap: categories on x (and s).
  const raw: ChartRow[] = [];
  for (const row of result.rows) {
    const y = toNumber(row[choice.y[0]!]);
    if (y === undefined) continue;
    const x = label(row[xi!], cols[xi!]!.kind);
    raw.push(si === undefined ? { x, y } : { x, y, s: label(row[si], cols[si]!.kind) });
  }
  let rows = aggregate(raw);
  const xTotals = sumBy(rows, (r) => String(r.x));
  if (choice.type === 'heatmap') {
    const keepX = topKeys(xTotals, 40);
    const keepS = topKeys(
      sumBy(rows, (r) => r.s ?? ''),
      40,
    );
    if (keepX.rest.size + keepS.rest.size > 0) notes.push('only the largest 40 rows and columns are shown');
    const xs = new Set(keepX.kept);
    const ss = new Set(keepS.kept);
    rows = rows.filter((r) => xs.has(String(r.x)) && ss.has(r.s ?? ''));
    // A grid reads in the query's own order (weekdays, hours), not by size.
    const xOrder = [...new Set(rows.map((r) => String(r.x)))];
    const seriesOrder = [...new Set(rows.map((r) => r.s ?? ''))];
    return { rows, notes, temporalX: false, xOrder, seriesOrder };
  }
  // Grouping only a handful of bars into "Other" hides them for no gain: allow a little slack first.
  const { kept, rest } = topKeys(xTotals, xTotals.size <= topN + 5 ? xTotals.size : topN);
  if (rest.size > 0) {
    notes.push(`top ${kept.length} of ${xTotals.size}; the other ${rest.size} summed as ${OTHER_LABEL}`);
    rows = aggregate(rows.map((r) => (rest.has(String(r.x)) ? { ...r, x: OTHER_LABEL } : r)));
  }
  const xOrder = rest.size > 0 ? [...kept, OTHER_LABEL] : kept;
  if (choice.type === 'stacked_bar') {
    const capped = capSeries(rows, maxSeries, notes);
    return { rows: capped.rows, notes, temporalX: false, xOrder, seriesOrder: capped.order };
  }
  return { rows, notes, temporalX: false, xOrder };
}
