/**
 * Worker-thread entry for chart rendering (see chart-pool.ts): vega's layout and resvg's rasterisation are
 * CPU-bound and synchronous, so they run here and never stall the bot's event loop.
 */
import type { QueryResult } from '../../core/db/database-dialect.ts';
import { renderChart, type ChartOptions } from './render-chart.ts';

export interface ChartTask {
  result: QueryResult;
  options: ChartOptions;
}

export interface ChartTaskResult {
  type: string;
  png?: Uint8Array;
  spec?: unknown;
}

/** Renders one chart; `{type: 'none'}` when no chart suits the result. */
export default async function renderChartTask({ result, options }: ChartTask): Promise<ChartTaskResult> {
  const chart = await renderChart(result, options);
  return chart.type === 'none' ? { type: 'none' } : { type: chart.type, png: chart.png, spec: chart.spec };
}
