import * as vega from 'vega';
import { compile } from 'vega-lite';
import { renderChart, type RenderedChart } from '../../renderers/chart/render-chart.ts';
import { pngSize, pngStats } from './support/png-pixels.ts';
import { resultOf } from './support/results.ts';

function rendered(out: Awaited<ReturnType<typeof renderChart>>): RenderedChart {
  if (out.type === 'none') throw new Error(`no chart: ${out.choice.reason}`);
  return out;
}

/** Text content of the SVG's <text> elements (vega writes one per label). */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
}

const months = Array.from({ length: 24 }, (_, i) => new Date(Date.UTC(2023, i, 1)));
const revenue = resultOf(
  [
    ['month', 'date'],
    ['revenue', 'number'],
  ],
  months.map((m, i) => [m, String(120000 + i * 8500) + '.50']),
);

describe('renderChart', () => {
  it('draws a line chart: 2× PNG, not blank, title from the question, readable axes', async () => {
    const out = rendered(await renderChart(revenue, { title: 'Monthly revenue over two years' }));
    expect(out.type).toBe('line');
    expect(pngSize(out.png)).toEqual({ width: out.width, height: out.height });
    expect(out.width).toBeGreaterThan(1400);
    expect(out.height).toBeGreaterThan(700);
    const stats = pngStats(out.png);
    expect(stats.inkShare).toBeGreaterThan(0.02);
    expect(stats.inkShare).toBeLessThan(0.5);
    expect(stats.darkShare).toBeGreaterThan(0.002);
    const texts = svgTexts(out.svg);
    expect(texts).toContain('Monthly revenue over two years');
    expect(texts).toContain('month');
    expect(texts).toContain('revenue');
    // Thousands separators on the value axis; months named with the year (the data spans two years).
    expect(texts.some((t) => /^\d{3},\d{3}$/.test(t))).toBe(true);
    expect(texts.some((t) => /^(Jan|Apr|Jul|Oct) 202[34]$/.test(t))).toBe(true);
    expect(out.svg).toContain('font-family="DejaVu Sans"');
  });

  it('returns the vega-lite spec with its data, usable on its own', async () => {
    const out = rendered(await renderChart(revenue, { title: 'Revenue' }));
    const spec = JSON.parse(JSON.stringify(out.spec)) as typeof out.spec;
    expect(spec.$schema).toMatch(/vega-lite/);
    const values = (spec as { data: { values: unknown[] } }).data.values;
    expect(values).toHaveLength(24);
    const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
    const svg = await view.toSVG();
    view.finalize();
    expect(svg).toContain('Revenue');
  });

  it('draws text with the shipped fonts: a big-number card is nothing but text, and it is not blank', async () => {
    const out = rendered(
      await renderChart(resultOf([['total_revenue', 'number']], [[1234567.89]]), { title: 'Total revenue' }),
    );
    expect(out.type).toBe('big_number');
    expect(svgTexts(out.svg)).toEqual(
      expect.arrayContaining(['Total revenue', '1,234,567.89', 'total_revenue']),
    );
    const stats = pngStats(out.png);
    expect(stats.darkShare).toBeGreaterThan(0.02);
  });

  it('draws sorted horizontal bars with value labels and an Other bar', async () => {
    const r = resultOf(
      [
        ['category', 'string'],
        ['revenue', 'number'],
      ],
      Array.from({ length: 25 }, (_, i) => [`Category ${i}`, (i + 1) * 1000]),
    );
    const out = rendered(await renderChart(r, { title: 'Revenue by category', topN: 10 }));
    expect(out.type).toBe('bar');
    const texts = svgTexts(out.svg);
    expect(texts).toEqual(expect.arrayContaining(['Category 24', 'Category 16', 'Other', '25,000']));
    expect(texts).not.toContain('Category 15');
    expect(texts.some((t) => t.startsWith('top 9 of 25'))).toBe(true);
    expect(texts.indexOf('Category 24')).toBeLessThan(texts.indexOf('Category 23'));
    expect(pngStats(out.png).colours).toBeGreaterThan(5);
  });

  it('draws a scatter, a stacked bar and a heatmap', async () => {
    const scatter = rendered(
      await renderChart(
        resultOf(
          [
            ['price', 'number'],
            ['units', 'number'],
          ],
          Array.from({ length: 100 }, (_, i) => [i * 3, 1000 - i * 7]),
        ),
      ),
    );
    expect(scatter.type).toBe('scatter');
    expect(svgTexts(scatter.svg)).toEqual(expect.arrayContaining(['price', 'units', 'units by price']));

    const stacked = rendered(
      await renderChart(
        resultOf(
          [
            ['country', 'string'],
            ['status', 'string'],
            ['orders', 'number'],
          ],
          ['Germany', 'France'].flatMap((c) => ['paid', 'cancelled'].map((s) => [c, s, 10])),
        ),
        { title: 'Orders by country and status' },
      ),
    );
    expect(stacked.type).toBe('stacked_bar');
    expect(svgTexts(stacked.svg)).toEqual(
      expect.arrayContaining(['Germany', 'France', 'paid', 'cancelled', 'status']),
    );

    const heat = rendered(
      await renderChart(
        resultOf(
          [
            ['weekday', 'string'],
            ['hour', 'string'],
            ['orders', 'number'],
          ],
          ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].flatMap((d, i) =>
            Array.from({ length: 10 }, (_, h) => [d, `${h + 8}:00`, i * 10 + h]),
          ),
        ),
      ),
    );
    expect(heat.type).toBe('heatmap');
    expect(svgTexts(heat.svg)).toEqual(expect.arrayContaining(['Mon', 'Sun', '8:00', '17:00']));
  });

  it('returns no chart (and no PNG) when nothing sensible fits', async () => {
    const out = await renderChart(resultOf([['email', 'string']], [['a@example.com']]));
    expect(out.type).toBe('none');
    expect('png' in out).toBe(false);
  });

  it('keeps dots, brackets and quotes in column names as plain titles', async () => {
    const r = resultOf(
      [
        ['customer.country', 'string'],
        ["sum(o.total) 'eur'", 'number'],
      ],
      [
        ['DE', 1],
        ['FR', 2],
      ],
    );
    const out = rendered(await renderChart(r));
    const texts = svgTexts(out.svg);
    expect(texts).toEqual(expect.arrayContaining(['customer.country', 'DE', 'FR']));
    expect(out.svg).toMatch(/>sum\(o\.total\) (&apos;|&#39;|')eur(&apos;|&#39;|')</);
  });

  it('renders 10,000 points', async () => {
    const r = resultOf(
      [
        ['at', 'datetime'],
        ['value', 'number'],
      ],
      Array.from({ length: 10_000 }, (_, i) => [
        new Date(Date.UTC(2024, 0, 1) + i * 60_000),
        Math.sin(i / 100) * 100,
      ]),
    );
    const out = rendered(await renderChart(r, { title: 'Ten thousand points' }));
    expect(out.type).toBe('line');
    expect(pngStats(out.png).inkShare).toBeGreaterThan(0.02);
  });
});
