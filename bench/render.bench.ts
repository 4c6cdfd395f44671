/**
 * Renderer benchmark (DESIGN §7): chart PNG at 1k and 10k points, table PNG, ERD PNG at 10, 30 and 60 tables,
 * cold and warm. Targets: chart ≤ 50 ms warm (median) at 1k points; ERD ≤ 0.4 s at 10 tables and ≤ 1.5 s at
 * 30 tables warm (median; one browser and page kept open). Prints figures; not part of the test run.
 * Run: `npm run bench:render` (Chromium from PUPPETEER_EXECUTABLE_PATH, default /usr/bin/chromium).
 */
import { rawEnvironment } from '../config/env.ts';
import type { QueryResult, ValueKind } from '../core/db/database-dialect.ts';
import { planChart, renderChart, renderVegaLite } from '../renderers/chart/render-chart.ts';
import { MermaidBrowser } from '../renderers/erd/mermaid-browser.ts';
import { renderErd } from '../renderers/erd/render-erd.ts';
import { renderTablePng } from '../renderers/table/table-png.ts';
import { renderTextTable } from '../renderers/table/text-table.ts';
import { syntheticSchema } from '../test/renderers/fixtures/synthetic-schema.ts';
import { machineLoad, medianSpread, percentile, reportMeasure } from './support/bench-report.ts';

const WARM_RUNS = 15;
const ERD_WARM_RUNS = 7;

function resultOf(columns: [string, ValueKind][], rows: unknown[][]): QueryResult {
  return {
    columns: columns.map(([name, kind]) => ({ name, type: kind, kind })),
    rows,
    rowCount: rows.length,
    truncated: false,
    durationMs: 0,
  };
}

function stats(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return `median=${pick(0.5).toFixed(0)} ms  p90=${pick(0.9).toFixed(0)} ms  min=${(sorted[0] ?? 0).toFixed(0)} ms`;
}

function line(label: string, cold: number | undefined, warm: number[], target?: string): void {
  const coldText = cold === undefined ? '' : `cold=${cold.toFixed(0)} ms  `;
  const verdict = target ? `  (target ${target})` : '';
  console.log(`${label.padEnd(36)} ${coldText}warm ${stats(warm)}${verdict}`);
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const value = await fn();
  return [performance.now() - start, value];
}

async function measure(label: string, fn: () => Promise<unknown>, target?: string): Promise<number[]> {
  const [cold] = await time(fn);
  const warm: number[] = [];
  for (let i = 0; i < WARM_RUNS; i++) warm.push((await time(fn))[0]);
  line(label, cold, warm, target);
  return warm;
}

const series = (n: number) =>
  resultOf(
    [
      ['day', 'date'],
      ['revenue', 'number'],
    ],
    Array.from({ length: n }, (_, i) => [
      new Date(Date.UTC(2000, 0, 1) + i * 86_400_000),
      1000 + Math.round(Math.sin(i / 30) * 400 + i / 3),
    ]),
  );
const points = (n: number) =>
  resultOf(
    [
      ['price', 'number'],
      ['units', 'number'],
    ],
    Array.from({ length: n }, (_, i) => [(i * 37) % 1000, (i * 91) % 777]),
  );

async function charts(): Promise<void> {
  console.log('Charts (vega-lite → vega SVG → resvg PNG at 2×, shipped fonts)');
  const oneK = series(1000);
  const chartTimes = await measure(
    'line chart, 1k points',
    () => renderChart(oneK, { title: 'Revenue per day' }),
    '≤ 50 ms warm',
  );
  reportMeasure({
    measure: 'Chart PNG, line, 1,000 points, warm',
    figure: medianSpread(chartTimes),
    target: '≤ 50 ms (median)',
    met: percentile(chartTimes, 50) <= 50,
    note: machineLoad(),
  });
  const plan = planChart(oneK, { title: 'Revenue per day' });
  if (plan.type !== 'none') {
    const svgTimes: number[] = [];
    const pngTimes: number[] = [];
    for (let i = 0; i < WARM_RUNS; i++) {
      const [total, out] = await time(() => renderVegaLite(plan.spec));
      const [png] = await time(() => renderVegaLite(plan.spec, { scale: 1 }));
      svgTimes.push(total);
      pngTimes.push(png);
      void out;
    }
    line('  same spec, render only (2×)', undefined, svgTimes);
    line('  same spec, render only (1×)', undefined, pngTimes);
  }
  await measure('line chart, 10k points', () => renderChart(series(10_000), { title: 'Revenue per day' }));
  await measure('scatter, 1k points', () => renderChart(points(1000)));
  await measure('scatter, 10k points', () => renderChart(points(10_000)));
  const bars = resultOf(
    [
      ['category', 'string'],
      ['revenue', 'number'],
    ],
    Array.from({ length: 200 }, (_, i) => [`Category ${i}`, 100_000 / (i + 1)]),
  );
  await measure('bar chart, 200 categories → top 20', () => renderChart(bars));
}

async function tables(): Promise<void> {
  console.log('\nTables');
  const wide = resultOf(
    Array.from(
      { length: 12 },
      (_, i) => [`column_${i}`, i % 3 === 0 ? 'number' : 'string'] as [string, ValueKind],
    ),
    Array.from({ length: 50 }, (_, r) =>
      Array.from({ length: 12 }, (_, c) => (c % 3 === 0 ? r * 1000 + c : `value ${r}-${c} text`)),
    ),
  );
  await measure('table PNG, 50 rows × 12 columns', () => renderTablePng(wide));
  await measure('text table, 20 of 50 rows', async () => renderTextTable(wide, { maxWidth: 80 }));
}

async function erds(): Promise<void> {
  const executablePath = rawEnvironment().PUPPETEER_EXECUTABLE_PATH || '/usr/bin/chromium';
  console.log(
    `\nER diagrams (mermaid layout in Chromium at ${executablePath}, one page kept warm; resvg PNG at up to 2×, fitted to a 4K viewer, never below 1×)`,
  );
  for (const n of [10, 30, 60]) {
    const schema = syntheticSchema(n);
    const browser = new MermaidBrowser({ executablePath });
    try {
      const [start] = await time(() => browser.start());
      const [first, firstOut] = await time(() => renderErd(schema, { browser }));
      if (firstOut.error) throw firstOut.error;
      const warm: number[] = [];
      let last = firstOut;
      for (let i = 0; i < ERD_WARM_RUNS; i++) {
        const [ms, out] = await time(() => renderErd(schema, { browser }));
        warm.push(ms);
        last = out;
      }
      const image = last.image!;
      const limit = n === 10 ? 400 : n === 30 ? 1500 : undefined;
      const target = limit === undefined ? undefined : `≤ ${limit} ms warm`;
      line(`ERD, ${n} tables`, start + first, warm, target);
      reportMeasure({
        measure: `ERD PNG, ${n} tables, warm`,
        figure: medianSpread(warm),
        target:
          limit === undefined ? '' : `≤ ${limit >= 1000 ? `${limit / 1000} s` : `${limit} ms`} (median)`,
        ...(limit === undefined ? {} : { met: percentile(warm, 50) <= limit }),
        note: `${last.image!.width}×${last.image!.height} px at ${last.image!.scale}×; ${machineLoad()}`,
      });
      console.log(
        `  browser start=${start.toFixed(0)} ms  png=${image.width}×${image.height} @${image.scale}×  ` +
          `layout=${image.timings.layoutMs.toFixed(0)} ms  raster=${image.timings.rasterMs.toFixed(0)} ms`,
      );
    } finally {
      await browser.close();
    }
  }
}

await charts();
await tables();
await erds();
