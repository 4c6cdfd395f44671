/** The engine's ResultRenderers port over renderers/: chart PNG, CSV and ERD. */
import { parseChartHint } from '../../renderers/chart/chart-hint.ts';
import type { ChartPool } from '../../renderers/chart/chart-pool.ts';
import { renderChart } from '../../renderers/chart/render-chart.ts';
import { renderCsv } from '../../renderers/csv/csv-export.ts';
import type { MermaidBrowser } from '../../renderers/erd/mermaid-browser.ts';
import { renderErd } from '../../renderers/erd/render-erd.ts';
import { toUserMessage } from '../errors.ts';
import type { ResultRenderers } from './engine-ports.ts';

/**
 * Builds the renderers the engine uses: `charts` is the worker pool that draws charts off the event loop
 * (absent: drawn inline), `browser` the warm Chromium for ERDs (absent: mermaid text only).
 */
export function createResultRenderers(
  options: { browser?: MermaidBrowser; charts?: ChartPool } = {},
): ResultRenderers {
  return {
    async chart(shown, { title, hint }) {
      // A masked result carries what a chart may draw of it (no masked measure, placeholder labels).
      const result = shown.masking?.chart ?? shown;
      const chartOptions = { title, ...(hint ? { hint: parseChartHint(hint) } : {}) };
      if (options.charts) {
        const chart = await options.charts.render(result, chartOptions);
        return chart && { png: chart.png, spec: chart.spec, chartType: chart.type };
      }
      const chart = await renderChart(result, chartOptions);
      return chart.type === 'none' ? undefined : { png: chart.png, spec: chart.spec, chartType: chart.type };
    },
    async csv(input, { filename, maxBytes }) {
      const csv = await renderCsv(input, { maxBytes });
      return { file: { filename, mimeType: 'text/csv', data: csv.data }, capped: csv.capped, rows: csv.rows };
    },
    async erd(schema, tables) {
      const erd = await renderErd(schema, {
        ...(tables.length ? { tables } : {}),
        ...(options.browser ? { browser: options.browser } : {}),
      });
      const missing = erd.missing.length ? `No table named ${erd.missing.join(', ')}.` : undefined;
      const warning =
        [missing, erd.error ? toUserMessage(erd.error) : undefined].filter(Boolean).join(' ') || undefined;
      return {
        ...(erd.image ? { png: erd.image.png } : {}),
        mermaid: erd.mermaid,
        ...(warning ? { warning } : {}),
      };
    },
    async diagram(mermaid) {
      if (!options.browser) {
        return { warning: 'ER-diagram images need a browser, and none is configured.' };
      }
      try {
        return { png: (await options.browser.render(mermaid)).png };
      } catch (error) {
        return { warning: toUserMessage(error) };
      }
    },
  };
}
