/**
 * The vega-lite spec for a chart: data inline (so the spec alone reproduces the chart in any vega tool), the
 * shipped font, thousands separators, dates formatted by their granularity, horizontal sorted bars.
 */
import type { TopLevelSpec } from 'vega-lite';
import { SANS_FAMILY } from '../png/font-files.ts';
import type { ChartData } from './chart-data.ts';
import { OTHER_LABEL } from './chart-data.ts';
import type { ChartType } from './chart-hint.ts';
import { timeAxis } from './time-granularity.ts';

export interface SpecLabels {
  title: string;
  subtitle?: string;
  xTitle: string;
  yTitle: string;
  seriesTitle?: string;
}

const TEXT = '#1f2328';
const MUTED = '#57606a';
const BAR = '#4c78a8';
const OTHER = '#b0b7c0';

/** d3 number format with thousands separators; SI suffixes past a billion. */
export function numberFormat(values: readonly number[]): string {
  const max = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return max >= 1e9 ? '.3~s' : ',~f';
}

/** d3 format for values printed on marks (bar ends, cells, the big number): one precision for all. */
export function labelFormat(values: readonly number[]): string {
  const max = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  if (max >= 1e9) return '.3~s';
  if (values.every(Number.isInteger)) return ',d';
  if (max >= 1000) return ',.0f';
  return ',.2~f';
}

/** The big number keeps cents: integers as they are, other values with two decimals (four below 1). */
function bigNumberFormat(value: number): string {
  if (Number.isInteger(value)) return ',d';
  return Math.abs(value) >= 1 ? ',.2f' : ',.4~f';
}

/** Axis settings that stop fractional ticks (1.5 orders) when every value is a whole number. */
function integerTicks(values: readonly number[]): { tickMinStep?: number } {
  return values.length > 0 && values.every(Number.isInteger) ? { tickMinStep: 1 } : {};
}

/** Breaks a long title into at most two lines of ~64 characters, ending in "…" when cut. */
export function wrapTitle(title: string, width = 64): string | string[] {
  const words = title.replace(/\s+/g, ' ').trim().split(' ');
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line && (line + ' ' + word).length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  if (lines.length <= 2) return lines.length === 1 ? lines[0]! : lines;
  const second = lines.slice(1).join(' ');
  return [lines[0]!, second.length > width ? `${second.slice(0, width - 1).trimEnd()}…` : second];
}

function config(): NonNullable<TopLevelSpec['config']> {
  return {
    font: SANS_FAMILY,
    background: 'white',
    padding: 16,
    view: { stroke: null },
    title: {
      fontSize: 17,
      fontWeight: 'bold',
      color: TEXT,
      anchor: 'start',
      subtitleFontSize: 12,
      subtitleColor: MUTED,
      offset: 14,
    },
    axis: {
      labelFontSize: 12,
      titleFontSize: 12,
      titleFontWeight: 'normal',
      titleColor: MUTED,
      labelColor: TEXT,
      gridColor: '#e6e9ed',
      domainColor: '#aab1b9',
      tickColor: '#aab1b9',
      labelLimit: 220,
    },
    legend: {
      labelFontSize: 12,
      titleFontSize: 12,
      titleFontWeight: 'normal',
      titleColor: MUTED,
      labelLimit: 200,
      orient: 'bottom',
      direction: 'horizontal',
      columns: 4,
    },
    range: { category: { scheme: 'tableau10' } },
  };
}

function header(labels: SpecLabels) {
  return labels.subtitle
    ? { text: wrapTitle(labels.title), subtitle: labels.subtitle }
    : { text: wrapTitle(labels.title) };
}

/** Builds the vega-lite spec for chart data; `type` must not be `none`. */
export function vegaLiteSpec(
  type: Exclude<ChartType, 'none'>,
  data: ChartData,
  labels: SpecLabels,
): TopLevelSpec {
  const base = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: header(labels),
    config: config(),
    data: { values: data.rows },
  } as const;
  const yFormat = numberFormat(data.rows.map((r) => r.y));
  const series = data.rows.some((r) => r.s !== undefined);
  const color = (title?: string) => ({
    field: 's',
    type: 'nominal' as const,
    title: title ?? null,
    ...(data.seriesOrder ? { sort: data.seriesOrder, scale: { domain: data.seriesOrder } } : {}),
  });

  switch (type) {
    case 'big_number': {
      const value = data.rows[0]?.y ?? 0;
      return {
        ...base,
        title: { text: wrapTitle(labels.title, 44), anchor: 'middle' },
        width: 420,
        height: 140,
        layer: [
          {
            mark: { type: 'text', fontSize: 64, fontWeight: 'bold', color: TEXT, baseline: 'middle' },
            encoding: { text: { field: 'y', type: 'quantitative', format: bigNumberFormat(value) } },
          },
          {
            mark: { type: 'text', fontSize: 15, color: MUTED, dy: 52 },
            encoding: { text: { value: labels.yTitle } },
          },
        ],
      } as TopLevelSpec;
    }
    case 'line': {
      const times = data.temporalX ? data.rows.map((r) => r.x as number) : [];
      const axis = data.temporalX ? timeAxis(times) : undefined;
      const points = new Set(data.rows.map((r) => r.x)).size <= 60;
      return {
        ...base,
        width: 760,
        height: 360,
        mark: { type: 'line', point: points ? { size: 36 } : false, strokeWidth: 2, interpolate: 'linear' },
        encoding: {
          x: data.temporalX
            ? {
                field: 'x',
                type: 'temporal',
                title: labels.xTitle,
                ...(axis?.timeUnit ? { timeUnit: axis.timeUnit } : {}),
                scale: { type: 'utc' },
                axis: { format: axis!.format, labelAngle: 0, labelOverlap: 'greedy', labelSeparation: 8 },
              }
            : { field: 'x', type: 'ordinal', title: labels.xTitle, sort: null, axis: { labelAngle: -40 } },
          y: {
            field: 'y',
            type: 'quantitative',
            title: labels.yTitle,
            axis: { format: yFormat, ...integerTicks(data.rows.map((r) => r.y)) },
          },
          ...(series ? { color: color(labels.seriesTitle) } : {}),
        },
      } as TopLevelSpec;
    }
    case 'scatter':
      return {
        ...base,
        width: 640,
        height: 420,
        mark: {
          type: 'point',
          filled: true,
          opacity: data.rows.length > 2000 ? 0.35 : 0.7,
          size: data.rows.length > 2000 ? 14 : 50,
        },
        encoding: {
          x: {
            field: 'x',
            type: 'quantitative',
            title: labels.xTitle,
            scale: { zero: false },
            axis: {
              format: numberFormat(data.rows.map((r) => r.x as number)),
              ...integerTicks(data.rows.map((r) => r.x as number)),
            },
          },
          y: {
            field: 'y',
            type: 'quantitative',
            title: labels.yTitle,
            scale: { zero: false },
            axis: { format: yFormat, ...integerTicks(data.rows.map((r) => r.y)) },
          },
          ...(series ? { color: color(labels.seriesTitle) } : {}),
        },
      } as TopLevelSpec;
    case 'bar': {
      const bars = data.xOrder?.length ?? data.rows.length;
      return {
        ...base,
        width: 600,
        height: { step: bars > 30 ? 18 : 26 },
        encoding: {
          y: {
            field: 'x',
            type: 'nominal',
            title: labels.xTitle,
            sort: data.xOrder ?? null,
            axis: { labelLimit: 300 },
          },
          x: {
            field: 'y',
            type: 'quantitative',
            title: labels.yTitle,
            axis: { format: yFormat, tickCount: 6 },
          },
        },
        layer: [
          {
            mark: { type: 'bar', cornerRadiusEnd: 2 },
            encoding: {
              color: { condition: { test: `datum.x === '${OTHER_LABEL}'`, value: OTHER }, value: BAR },
            },
          },
          {
            mark: { type: 'text', align: 'left', dx: 4, fontSize: 11, color: MUTED },
            encoding: {
              text: { field: 'y', type: 'quantitative', format: labelFormat(data.rows.map((r) => r.y)) },
            },
          },
        ],
      } as TopLevelSpec;
    }
    case 'stacked_bar': {
      const bars = data.xOrder?.length ?? 10;
      return {
        ...base,
        width: 600,
        height: { step: bars > 30 ? 18 : 26 },
        mark: { type: 'bar' },
        encoding: {
          y: {
            field: 'x',
            type: 'nominal',
            title: labels.xTitle,
            sort: data.xOrder ?? null,
            axis: { labelLimit: 300 },
          },
          x: {
            field: 'y',
            type: 'quantitative',
            title: labels.yTitle,
            stack: 'zero',
            axis: { format: yFormat, tickCount: 6 },
          },
          color: color(labels.seriesTitle),
        },
      } as TopLevelSpec;
    }
    case 'heatmap': {
      const cells = data.rows.length;
      return {
        ...base,
        width: { step: 34 },
        height: { step: 26 },
        encoding: {
          x: {
            field: 'x',
            type: 'nominal',
            title: labels.xTitle,
            sort: data.xOrder ?? null,
            axis: { labelAngle: -40, labelLimit: 140 },
          },
          y: {
            field: 's',
            type: 'nominal',
            title: labels.seriesTitle ?? null,
            sort: data.seriesOrder ?? null,
            axis: { labelLimit: 200 },
          },
        },
        layer: [
          {
            mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
            encoding: {
              color: {
                field: 'y',
                type: 'quantitative',
                title: labels.yTitle,
                scale: { scheme: 'blues' },
                legend: { format: yFormat, orient: 'right', direction: 'vertical' },
              },
            },
          },
          ...(cells <= 200
            ? [
                {
                  mark: { type: 'text' as const, fontSize: 10 },
                  encoding: {
                    text: {
                      field: 'y',
                      type: 'quantitative' as const,
                      format: labelFormat(data.rows.map((r) => r.y)),
                    },
                    color: {
                      condition: { test: `datum.y > ${midpoint(data)}`, value: 'white' },
                      value: TEXT,
                    },
                  },
                },
              ]
            : []),
        ],
      } as TopLevelSpec;
    }
  }
}

function midpoint(data: ChartData): number {
  const ys = data.rows.map((r) => r.y);
  return (Math.min(...ys) + Math.max(...ys)) / 2;
}

export { OTHER_LABEL };
