/**
 * Result → chart: choose a chart from the result's shape (or the LLM's hint), build a vega-lite spec, compile it,
 * render it with a vega View (renderer 'none') to SVG, and rasterise it with resvg at 2× using the shipped fonts.
 * The spec is returned with the PNG so a user can take it to other tools.
 */
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import type { QueryResult } from '../../core/db/database-dialect.ts';
import { RenderError } from '../../core/errors.ts';
import { formatCount } from '../table/row-count-caption.ts';
import { svgToPng } from '../png/svg-to-png.ts';
import { chartData } from './chart-data.ts';
import type { ChartHint, ChartType } from './chart-hint.ts';
import { chooseChart, type ChartChoice } from './choose-chart.ts';
import { vegaLiteSpec } from './vega-lite-spec.ts';

export interface ChartOptions {
  /** The user's question; becomes the chart's title. */
  title?: string;
  /** The LLM's chart suggestion. */
  hint?: ChartHint;
  /** Bars to keep before summing the rest as "Other"; default 20. */
  topN?: number;
  /** Pixel density of the PNG; default 2. */
  scale?: number;
}

/** A chart spec, ready to render or hand to another vega tool. */
export interface ChartPlan {
  type: Exclude<ChartType, 'none'>;
  choice: ChartChoice;
  spec: TopLevelSpec;
}

export interface NoChart {
  type: 'none';
  choice: ChartChoice;
}

export interface RenderedChart extends ChartPlan {
  svg: string;
  png: Buffer;
  width: number;
  height: number;
}

/** Chooses the chart and builds its vega-lite spec (no rendering); `none` when no chart suits. */
export function planChart(result: QueryResult, options: ChartOptions = {}): ChartPlan | NoChart {
  const choice = chooseChart(result, options.hint);
  if (choice.type === 'none') return { type: 'none', choice };
  const data = chartData(result, choice, { topN: options.topN });
  if (data.rows.length === 0)
    return { type: 'none', choice: { ...choice, type: 'none', reason: 'no plottable values' } };
  const cols = result.columns;
  const xTitle = choice.x === undefined ? '' : cols[choice.x]!.name;
  const yTitle = choice.y.length === 1 ? cols[choice.y[0]!]!.name : '';
  const seriesTitle =
    choice.y.length > 1 ? undefined : choice.series === undefined ? undefined : cols[choice.series]!.name;
  const notes = [...data.notes];
  if (result.truncated) notes.push(`first ${formatCount(result.rowCount)} rows of a larger result`);
  const fallbackTitle = choice.type === 'big_number' ? yTitle : `${yTitle || 'values'} by ${xTitle}`;
  const title = options.title?.trim() || options.hint?.title?.trim() || fallbackTitle;
  const spec = vegaLiteSpec(choice.type, data, {
    title,
    subtitle: notes.length ? notes.join(' · ') : undefined,
    xTitle,
    yTitle,
    seriesTitle,
  });
  return { type: choice.type, choice, spec };
}

/** Renders a vega-lite spec to SVG (vega View, renderer 'none') and PNG (resvg, shipped fonts). */
export async function renderVegaLite(
  spec: TopLevelSpec,
  options: { scale?: number } = {},
): Promise<{ svg: string; png: Buffer; width: number; height: number }> {
  let svg: string;
  try {
    const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
    try {
      svg = await view.toSVG();
    } finally {
      view.finalize();
    }
  } catch (cause) {
    throw new RenderError('render_failed', 'Could not draw the chart.', { cause });
  }
  const image = await svgToPng(svg, { scale: options.scale ?? 2 });
  return { svg, ...image };
}

/** Chooses, builds and renders the chart for a result; `{type: 'none'}` when no chart suits it. */
export async function renderChart(
  result: QueryResult,
  options: ChartOptions = {},
): Promise<RenderedChart | NoChart> {
  const plan = planChart(result, options);
  if (plan.type === 'none') return plan;
  const image = await renderVegaLite(plan.spec, { scale: options.scale });
  return { ...plan, ...image };
}
