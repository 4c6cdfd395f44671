import { PNG } from 'pngjs';
import { ChartPool } from '../../renderers/chart/chart-pool.ts';
import type { QueryResult } from '../../core/db/database-dialect.ts';

const bars: QueryResult = {
  columns: [
    { name: 'country', type: 'text', kind: 'string' },
    { name: 'customers', type: 'integer', kind: 'number' },
  ],
  rows: [
    ['US', 270],
    ['DE', 213],
    ['GB', 112],
  ],
  rowCount: 3,
  truncated: false,
  durationMs: 1,
};

describe('ChartPool (charts drawn on worker threads)', () => {
  const pool = new ChartPool({ threads: 1 });
  afterAll(() => pool.close());

  it('draws the chart that suits the result, with its vega-lite spec, off the main thread', async () => {
    const chart = await pool.render(bars, { title: 'Customers by country' });
    expect(chart?.type).toBe('bar');
    const png = PNG.sync.read(chart!.png);
    expect(png.width).toBeGreaterThan(300);
    expect(JSON.stringify(chart!.spec)).toContain('Customers by country');
  });

  it('returns nothing when no chart suits the result, and carries Dates across the thread boundary', async () => {
    const text: QueryResult = {
      ...bars,
      columns: [{ name: 'note', type: 'text', kind: 'string' }],
      rows: [['a'], ['b']],
    };
    expect(await pool.render(text, {})).toBeUndefined();
    const series: QueryResult = {
      columns: [
        { name: 'day', type: 'date', kind: 'date' },
        { name: 'orders', type: 'integer', kind: 'number' },
      ],
      rows: Array.from({ length: 30 }, (_, i) => [new Date(Date.UTC(2026, 0, i + 1)), 10 + (i % 7)]),
      rowCount: 30,
      truncated: false,
      durationMs: 1,
    };
    expect((await pool.render(series, { title: 'Orders per day' }))?.type).toBe('line');
  });
});
