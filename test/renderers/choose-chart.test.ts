import { chooseChart } from '../../renderers/chart/choose-chart.ts';
import { chartData } from '../../renderers/chart/chart-data.ts';
import { parseChartHint } from '../../renderers/chart/chart-hint.ts';
import { detectGranularity, timeAxis } from '../../renderers/chart/time-granularity.ts';
import { resultOf } from './support/results.ts';

const months = Array.from({ length: 12 }, (_, i) => new Date(Date.UTC(2024, i, 1)));

describe('chooseChart picks the chart from the result shape', () => {
  it('time × measure → line', () => {
    const r = resultOf(
      [
        ['month', 'date'],
        ['revenue', 'number'],
      ],
      months.map((m, i) => [m, 100 + i]),
    );
    expect(chooseChart(r)).toMatchObject({ type: 'line', x: 0, y: [1] });
  });

  it('time given as ISO text (SQLite, MongoDB) × measure → line', () => {
    const r = resultOf(
      [
        ['day', 'string'],
        ['orders', 'number'],
      ],
      [
        ['2024-01-01', 3],
        ['2024-01-02', 5],
        ['2024-01-03', 4],
      ],
    );
    expect(chooseChart(r)).toMatchObject({ type: 'line', x: 0, y: [1] });
  });

  it('time × category × measure → line with one series per category', () => {
    const r = resultOf(
      [
        ['week', 'date'],
        ['country', 'string'],
        ['signups', 'number'],
      ],
      months.flatMap((m) => ['DE', 'FR'].map((c) => [m, c, 5])),
    );
    expect(chooseChart(r)).toMatchObject({ type: 'line', x: 0, y: [1 + 1], series: 1 });
  });

  it('time × several measures → line with a series per measure', () => {
    const r = resultOf(
      [
        ['month', 'date'],
        ['orders', 'number'],
        ['refunds', 'number'],
      ],
      months.map((m) => [m, 10, 1]),
    );
    expect(chooseChart(r)).toMatchObject({ type: 'line', x: 0, y: [1, 2] });
  });

  it('category × measure → bar', () => {
    const r = resultOf(
      [
        ['country', 'string'],
        ['customers', 'number'],
      ],
      [
        ['DE', 10],
        ['FR', 7],
      ],
    );
    expect(chooseChart(r)).toMatchObject({ type: 'bar', x: 0, y: [1] });
  });

  it('an id column counts as a category, not a measure', () => {
    const r = resultOf(
      [
        ['customer_id', 'number'],
        ['total', 'number'],
      ],
      [
        [17, 10.5],
        [23, 7],
      ],
    );
    expect(chooseChart(r)).toMatchObject({ type: 'bar', x: 0, y: [1] });
  });

  it('two measures → scatter', () => {
    const r = resultOf(
      [
        ['price', 'number'],
        ['units', 'number'],
      ],
      [
        [1, 10],
        [2, 8],
        [3, 5],
      ],
    );
    expect(chooseChart(r)).toMatchObject({ type: 'scatter', x: 0, y: [1] });
  });

  it('category × category × measure → stacked bar with few series, heatmap with many', () => {
    const few = resultOf(
      [
        ['country', 'string'],
        ['status', 'string'],
        ['orders', 'number'],
      ],
      ['DE', 'FR', 'ES', 'IT', 'PL', 'NL', 'SE', 'DK'].flatMap((c) =>
        ['paid', 'shipped', 'cancelled'].map((s) => [c, s, 1]),
      ),
    );
    expect(chooseChart(few)).toMatchObject({ type: 'stacked_bar', x: 0, series: 1, y: [2] });
    const grid = resultOf(
      [
        ['weekday', 'string'],
        ['hour', 'string'],
        ['orders', 'number'],
      ],
      ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].flatMap((d) =>
        Array.from({ length: 24 }, (_, h) => [d, `${h}:00`, h]),
      ),
    );
    expect(chooseChart(grid)).toMatchObject({ type: 'heatmap', y: [2] });
  });

  it('one row with one number → big number', () => {
    expect(chooseChart(resultOf([['total', 'number']], [[42]]))).toMatchObject({
      type: 'big_number',
      y: [0],
    });
    expect(chooseChart(resultOf([['total', 'number']], [['1234.50']]))).toMatchObject({ type: 'big_number' });
  });

  it('nothing sensible → no chart, with a reason', () => {
    expect(chooseChart(resultOf([['name', 'string']], [['a'], ['b']]))).toMatchObject({
      type: 'none',
      reason: 'the result has no numeric column to plot',
    });
    expect(chooseChart(resultOf([['n', 'number']], []))).toMatchObject({
      type: 'none',
      reason: 'the result has no rows',
    });
    expect(chooseChart(resultOf([['n', 'number']], [[1], [2], [3]]))).toMatchObject({ type: 'none' });
    expect(
      chooseChart(
        resultOf(
          [
            ['a', 'number'],
            ['b', 'number'],
          ],
          [[1, 2]],
        ),
      ),
    ).toMatchObject({ type: 'none' });
  });
});

describe('chooseChart follows the LLM hint where the data allows', () => {
  const sales = resultOf(
    [
      ['country', 'string'],
      ['orders', 'number'],
      ['revenue', 'number'],
    ],
    [
      ['DE', 10, 1000],
      ['FR', 7, 900],
      ['ES', 3, 200],
    ],
  );

  it('overrides the type and the columns', () => {
    expect(chooseChart(sales)).toMatchObject({ type: 'bar', x: 0, y: [1] });
    expect(chooseChart(sales, { type: 'bar', y: 'revenue' })).toMatchObject({ type: 'bar', x: 0, y: [2] });
    expect(
      chooseChart(sales, { type: 'scatter', x: 'orders', y: 'revenue', series: 'country' }),
    ).toMatchObject({
      type: 'scatter',
      x: 1,
      y: [2],
      series: 0,
    });
    expect(chooseChart(sales, { type: 'none' })).toMatchObject({ type: 'none' });
    expect(chooseChart(sales, { type: 'big_number', y: 'revenue' })).toMatchObject({
      type: 'big_number',
      y: [2],
    });
  });

  it('ignores a column that does not exist or cannot be the measure, and says so', () => {
    const choice = chooseChart(sales, { type: 'bar', x: 'country', y: 'profit' });
    expect(choice).toMatchObject({ type: 'bar', x: 0, y: [1] });
    expect(choice.hintNote).toBe('no column "profit" for measure');
    const textMeasure = chooseChart(sales, { type: 'bar', y: 'country' });
    expect(textMeasure.hintNote).toBe('column "country" cannot be the measure');
  });

  it('falls back to the automatic choice when the hinted chart is impossible', () => {
    const choice = chooseChart(sales, { type: 'heatmap' });
    expect(choice.type).toBe('bar');
    expect(choice.hintNote).toBe('no second category for a heatmap');
  });

  it('parses hints from untrusted JSON', () => {
    expect(parseChartHint({ type: 'line', x: ' month ', y: '', extra: 1 })).toEqual({
      type: 'line',
      x: 'month',
    });
    expect(parseChartHint({ type: 'pie' })).toBeUndefined();
    expect(parseChartHint('bar')).toBeUndefined();
  });
});

describe('chartData', () => {
  it('sorts bars largest first, keeps the top N and sums the rest as Other', () => {
    const r = resultOf(
      [
        ['product', 'string'],
        ['sold', 'number'],
      ],
      Array.from({ length: 30 }, (_, i) => [`p${i}`, i + 1]),
    );
    const data = chartData(r, chooseChart(r), { topN: 5 });
    expect(data.xOrder).toEqual(['p29', 'p28', 'p27', 'p26', 'Other']);
    const other = data.rows.find((row) => row.x === 'Other')!;
    expect(other.y).toBe((26 * 27) / 2);
    expect(data.notes).toEqual(['top 4 of 30; the other 26 summed as Other']);
  });

  it('sums duplicate categories and drops non-numeric measures', () => {
    const r = resultOf(
      [
        ['k', 'string'],
        ['v', 'number'],
      ],
      [
        ['a', 1],
        ['a', '2.5'],
        ['b', null],
        ['b', 4],
      ],
    );
    expect(chartData(r, chooseChart(r)).rows).toEqual([
      { x: 'a', y: 3.5 },
      { x: 'b', y: 4 },
    ]);
  });

  it('orders line points by time', () => {
    const r = resultOf(
      [
        ['d', 'date'],
        ['v', 'number'],
      ],
      [
        [new Date('2024-03-01'), 3],
        [new Date('2024-01-01'), 1],
        [new Date('2024-02-01'), 2],
      ],
    );
    expect(chartData(r, chooseChart(r)).rows.map((row) => row.y)).toEqual([1, 2, 3]);
  });
});

describe('time granularity', () => {
  const utc = (...p: [number, number, number?, number?, number?]) =>
    Date.UTC(p[0], p[1], p[2] ?? 1, p[3] ?? 0, p[4] ?? 0);
  it('reads year, quarter, month, week, day, hour and minute from the values', () => {
    expect(detectGranularity([utc(2022, 0), utc(2023, 0)])).toBe('year');
    expect(detectGranularity([utc(2024, 0), utc(2024, 3), utc(2024, 6)])).toBe('quarter');
    expect(detectGranularity([utc(2024, 0), utc(2024, 1), utc(2024, 2)])).toBe('month');
    expect(detectGranularity([utc(2024, 0, 1), utc(2024, 0, 8), utc(2024, 0, 15)])).toBe('week');
    expect(detectGranularity([utc(2024, 0, 1), utc(2024, 0, 2), utc(2024, 0, 3)])).toBe('day');
    expect(detectGranularity([utc(2024, 0, 1, 5), utc(2024, 0, 1, 6)])).toBe('hour');
    expect(detectGranularity([utc(2024, 0, 1, 5, 30)])).toBe('minute');
  });

  it('formats axis labels by granularity, adding the year when the data spans years', () => {
    expect(timeAxis([utc(2022, 0), utc(2023, 0)]).format).toBe('%Y');
    expect(timeAxis([utc(2024, 0), utc(2024, 1)]).format).toBe('%b');
    expect(timeAxis([utc(2023, 11), utc(2024, 0)]).format).toBe('%b %Y');
    expect(timeAxis([utc(2024, 0, 1), utc(2024, 0, 2)]).format).toBe('%b %-d');
    expect(timeAxis([utc(2024, 0, 1), utc(2024, 3)]).format).toBe('Q%q %Y');
  });
});
