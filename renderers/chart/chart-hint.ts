/** The chart types threadql draws; `none` means "no chart suits this result". */
export const CHART_TYPES = [
  'line',
  'bar',
  'scatter',
  'heatmap',
  'stacked_bar',
  'big_number',
  'none',
] as const;
export type ChartType = (typeof CHART_TYPES)[number];

/**
 * The LLM's suggestion for a result's chart (a tool-call field). Column names refer to the result's columns;
 * anything missing is filled in from the result's shape, anything wrong is ignored with a note.
 */
export interface ChartHint {
  type: ChartType;
  /** Column on the x axis (time for line, category for bars). */
  x?: string;
  /** Measure column (numeric); for scatter, the vertical measure. */
  y?: string;
  /** Column whose values split the data into coloured series (line, stacked bar, scatter) or heatmap rows. */
  series?: string;
  title?: string;
}

/** True when `value` is one of the chart types. */
export function isChartType(value: unknown): value is ChartType {
  return typeof value === 'string' && (CHART_TYPES as readonly string[]).includes(value);
}

/** Reads a hint from untrusted JSON (an LLM tool call); returns undefined when it is not a usable hint. */
export function parseChartHint(value: unknown): ChartHint | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const raw = value as Record<string, unknown>;
  if (!isChartType(raw.type)) return undefined;
  const hint: ChartHint = { type: raw.type };
  for (const key of ['x', 'y', 'series', 'title'] as const) {
    const field = raw[key];
    if (typeof field === 'string' && field.trim() !== '') hint[key] = field.trim();
  }
  return hint;
}

/** JSON schema of ChartHint, for the LLM tool definition. */
export const CHART_HINT_JSON_SCHEMA = {
  type: 'object',
  properties: {
    type: { type: 'string', enum: [...CHART_TYPES] },
    x: { type: 'string', description: 'column for the x axis (time for line charts, category for bars)' },
    y: { type: 'string', description: 'numeric column to plot' },
    series: { type: 'string', description: 'column that splits the data into coloured series' },
    title: { type: 'string' },
  },
  required: ['type'],
} as const;
