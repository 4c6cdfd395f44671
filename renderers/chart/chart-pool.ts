import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { QueryResult } from '../../core/db/database-dialect.ts';
import { RenderError } from '../../core/errors.ts';
import type { ChartTask, ChartTaskResult } from './chart-worker.ts';
import type { ChartOptions } from './render-chart.ts';

export interface RenderedChartImage {
  type: string;
  png: Buffer;
  spec: unknown;
}

/**
 * Charts rendered on worker threads (piscina), so twenty charts in flight queue on the pool rather than on
 * the event loop that acknowledges Slack and Discord events. Start once, close once.
 */
export class ChartPool {
  readonly #pool: Piscina<ChartTask, ChartTaskResult>;

  constructor(options: { threads?: number } = {}) {
    const threads = options.threads ?? Math.max(1, availableParallelism() - 1);
    this.#pool = new Piscina({
      filename: new URL('./chart-worker.ts', import.meta.url).href,
      minThreads: 1,
      maxThreads: threads,
      idleTimeout: 60_000,
    });
  }

  /** The chart for a result, or undefined when none suits it. */
  async render(result: QueryResult, options: ChartOptions): Promise<RenderedChartImage | undefined> {
    let chart: ChartTaskResult;
    try {
      chart = await this.#pool.run({ result, options });
    } catch (cause) {
      throw new RenderError('render_failed', 'Could not draw the chart.', { cause });
    }
    if (chart.type === 'none' || !chart.png) return undefined;
    return { type: chart.type, png: Buffer.from(chart.png), spec: chart.spec };
  }

  async close(): Promise<void> {
    await this.#pool.close({ force: true });
  }
}
