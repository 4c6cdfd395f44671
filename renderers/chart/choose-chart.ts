/**
 * Picks a chart from a result's shape, with the LLM's hint able to override:
 * time × measure → line; category × measure → bar; two measures → scatter; category × category × measure →
 * stacked bar (few series) or heatmap; one row with one number → big number; otherwise no chart.
 */
import type { QueryResult } from '../../core/db/database-dialect.ts';
import type { ChartHint, ChartType } from './chart-hint.ts';
import { profileColumns, type ColumnProfile } from './column-profile.ts';

/** The chosen chart, with columns as indexes into the result (names may repeat). */
export interface ChartChoice {
  type: ChartType;
  x?: number;
  /** Measure columns; more than one only for line charts (one series each). */
  y: number[];
  series?: number;
  /** Why this chart (or why none), for logs and the reply's footnote. */
  reason: string;
  /** Set when the hint was given but could not be followed as a whole. */
  hintNote?: string;
}

/** Most measures a line chart draws as separate series. */
const MAX_LINE_MEASURES = 6;
/** Most series a stacked bar keeps before switching to a heatmap. */
const MAX_STACK_SERIES = 6;
/** Heatmaps beyond this many rows or columns are unreadable. */
const MAX_HEATMAP_SIDE = 50;

const none = (reason: string, hintNote?: string): ChartChoice => ({ type: 'none', y: [], reason, hintNote });

function autoChoice(result: QueryResult, cols: ColumnProfile[]): ChartChoice {
  if (result.rows.length === 0) return none('the result has no rows');
  const temporal = cols.filter((c) => c.role === 'temporal');
  const measures = cols.filter((c) => c.role === 'measure');
  const categories = cols.filter((c) => c.role === 'category');
  if (measures.length === 0) return none('the result has no numeric column to plot');

  if (result.rows.length === 1) {
    if (measures.length === 1)
      return { type: 'big_number', y: [measures[0]!.index], reason: 'one row with one number' };
    return none('a single row with several numbers reads best as a table');
  }
  if (temporal.length > 0) {
    const x = temporal[0]!;
    if (measures.length === 1 && categories.length > 0) {
      const series = [...categories].sort((a, b) => a.distinct - b.distinct)[0]!;
      return {
        type: 'line',
        x: x.index,
        y: [measures[0]!.index],
        series: series.index,
        reason: 'time × measure by category',
      };
    }
    return {
      type: 'line',
      x: x.index,
      y: measures.slice(0, MAX_LINE_MEASURES).map((m) => m.index),
      reason: measures.length > 1 ? 'time × several measures' : 'time × measure',
    };
  }
  if (categories.length >= 2) {
    const [a, b] = [...categories.slice(0, 2)].sort((p, q) => q.distinct - p.distinct) as [
      ColumnProfile,
      ColumnProfile,
    ];
    if (b.distinct <= MAX_STACK_SERIES) {
      return {
        type: 'stacked_bar',
        x: a.index,
        y: [measures[0]!.index],
        series: b.index,
        reason: 'category × category × measure (few series)',
      };
    }
    if (a.distinct <= MAX_HEATMAP_SIDE) {
      return {
        type: 'heatmap',
        x: b.index,
        y: [measures[0]!.index],
        series: a.index,
        reason: 'category × category × measure',
      };
    }
    return none('two categories with too many values for a stacked bar or a heatmap');
  }
  if (categories.length === 1) {
    return { type: 'bar', x: categories[0]!.index, y: [measures[0]!.index], reason: 'category × measure' };
  }
  if (measures.length >= 2) {
    return { type: 'scatter', x: measures[0]!.index, y: [measures[1]!.index], reason: 'two measures' };
  }
  return none('a single numeric column with no time or category to plot it against');
}

function findColumn(cols: ColumnProfile[], name: string | undefined): ColumnProfile | undefined {
  if (name === undefined) return undefined;
  return cols.find((c) => c.name === name) ?? cols.find((c) => c.name.toLowerCase() === name.toLowerCase());
}

/** Follows the hint where the result allows; fills gaps from the shape; falls back to the automatic choice. */
function hintedChoice(result: QueryResult, cols: ColumnProfile[], hint: ChartHint): ChartChoice {
  const auto = autoChoice(result, cols);
  if (hint.type === 'none') return none('the hint asked for no chart');
  const notes: string[] = [];
  const pick = (
    name: string | undefined,
    label: string,
    ok: (c: ColumnProfile) => boolean,
  ): ColumnProfile | undefined => {
    if (name === undefined) return undefined;
    const col = findColumn(cols, name);
    if (!col) notes.push(`no column "${name}" for ${label}`);
    else if (!ok(col)) notes.push(`column "${name}" cannot be the ${label}`);
    else return col;
    return undefined;
  };
  const usable = (c: ColumnProfile) => c.role !== 'other';
  const isMeasure = (c: ColumnProfile) => c.role === 'measure';
  const x = pick(hint.x, 'x axis', hint.type === 'scatter' ? isMeasure : usable);
  const y = pick(hint.y, 'measure', isMeasure);
  const series = pick(hint.series, 'series', usable);
  const taken = new Set([x?.index, y?.index, series?.index]);
  const first = (test: (c: ColumnProfile) => boolean) => cols.find((c) => test(c) && !taken.has(c.index));
  const measures = cols.filter(isMeasure);
  const yCol = y ?? first(isMeasure);
  const fallback = (why: string): ChartChoice => ({ ...auto, hintNote: [...notes, why].join('; ') });
  if (result.rows.length === 0) return none('the result has no rows');

  switch (hint.type) {
    case 'big_number':
      if (!yCol) return fallback('no numeric column for a big number');
      return {
        type: 'big_number',
        y: [yCol.index],
        reason: 'hint: big number',
        hintNote: notes.join('; ') || undefined,
      };
    case 'line': {
      const xCol = x ?? first((c) => c.role === 'temporal') ?? first((c) => c.role === 'category');
      if (!xCol || !yCol) return fallback('no x column and measure for a line chart');
      const ys = y
        ? [y.index]
        : series
          ? [yCol.index]
          : measures
              .filter((m) => m.index !== xCol.index)
              .slice(0, MAX_LINE_MEASURES)
              .map((m) => m.index);
      return {
        type: 'line',
        x: xCol.index,
        y: ys,
        series: ys.length === 1 ? series?.index : undefined,
        reason: 'hint: line',
        hintNote: notes.join('; ') || undefined,
      };
    }
    case 'bar':
    case 'stacked_bar':
    case 'heatmap': {
      const xCol = x ?? first((c) => c.role === 'category') ?? first((c) => c.role === 'temporal');
      if (!xCol || !yCol) return fallback(`no category and measure for a ${hint.type.replace('_', ' ')}`);
      taken.add(xCol.index);
      const sCol =
        series ??
        (hint.type === 'bar' ? undefined : first((c) => c.role === 'category' || c.role === 'temporal'));
      if (hint.type !== 'bar' && !sCol)
        return fallback(`no second category for a ${hint.type.replace('_', ' ')}`);
      const type = hint.type === 'bar' && sCol ? 'stacked_bar' : hint.type;
      return {
        type,
        x: xCol.index,
        y: [yCol.index],
        series: sCol?.index,
        reason: `hint: ${hint.type}`,
        hintNote: notes.join('; ') || undefined,
      };
    }
    case 'scatter': {
      const xCol = x ?? first(isMeasure);
      if (xCol) taken.add(xCol.index);
      const yy = y ?? first(isMeasure);
      if (!xCol || !yy) return fallback('a scatter plot needs two numeric columns');
      return {
        type: 'scatter',
        x: xCol.index,
        y: [yy.index],
        series: series?.index,
        reason: 'hint: scatter',
        hintNote: notes.join('; ') || undefined,
      };
    }
  }
}

/** Chooses the chart for a result; a hint overrides the automatic choice where the data allows it. */
export function chooseChart(result: QueryResult, hint?: ChartHint): ChartChoice {
  const cols = profileColumns(result);
  return hint ? hintedChoice(result, cols, hint) : autoChoice(result, cols);
}
