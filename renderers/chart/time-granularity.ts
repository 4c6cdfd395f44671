/** How fine a time column is, read from its values, so axes format dates by their granularity. */
export type TimeGranularity = 'year' | 'quarter' | 'month' | 'week' | 'day' | 'hour' | 'minute' | 'second';

export interface TimeAxis {
  granularity: TimeGranularity;
  /** d3 time format for axis labels (UTC). */
  format: string;
  /** vega-lite UTC time unit that aligns ticks with the data, where one fits. */
  timeUnit?: 'utcyear' | 'utcyearquarter' | 'utcyearmonth' | 'utcyearmonthdate' | 'utcyearmonthdatehours';
}

/** Reads the granularity of UTC epoch-millisecond values (all on Jan 1 → year, all on the 1st → month, …). */
export function detectGranularity(times: readonly number[]): TimeGranularity {
  if (times.length === 0) return 'day';
  const dates = times.map((t) => new Date(t));
  const every = (test: (d: Date) => boolean) => dates.every(test);
  if (!every((d) => d.getUTCMilliseconds() === 0 && d.getUTCSeconds() === 0)) return 'second';
  if (!every((d) => d.getUTCMinutes() === 0)) return 'minute';
  if (!every((d) => d.getUTCHours() === 0)) return 'hour';
  if (every((d) => d.getUTCDate() === 1)) {
    if (every((d) => d.getUTCMonth() === 0)) return 'year';
    if (every((d) => d.getUTCMonth() % 3 === 0) && new Set(dates.map((d) => d.getUTCMonth())).size > 1)
      return 'quarter';
    return 'month';
  }
  const days = new Set(dates.map((d) => d.getUTCDay()));
  const distinct = new Set(times).size;
  if (days.size === 1 && distinct > 2) return 'week';
  return 'day';
}

/** Axis settings (label format, time unit) for a time column's values. */
export function timeAxis(times: readonly number[]): TimeAxis {
  const granularity = detectGranularity(times);
  const years = new Set(times.map((t) => new Date(t).getUTCFullYear()));
  const oneYear = years.size <= 1;
  switch (granularity) {
    case 'year':
      return { granularity, format: '%Y', timeUnit: 'utcyear' };
    case 'quarter':
      return { granularity, format: 'Q%q %Y', timeUnit: 'utcyearquarter' };
    case 'month':
      return { granularity, format: oneYear ? '%b' : '%b %Y', timeUnit: 'utcyearmonth' };
    case 'week':
    case 'day':
      return { granularity, format: oneYear ? '%b %-d' : '%b %-d, %Y', timeUnit: 'utcyearmonthdate' };
    case 'hour':
      return { granularity, format: '%b %-d %H:%M', timeUnit: 'utcyearmonthdatehours' };
    case 'minute':
      return { granularity, format: '%H:%M' };
    case 'second':
      return { granularity, format: '%H:%M:%S' };
  }
}
