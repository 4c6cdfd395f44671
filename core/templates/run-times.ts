/**
 * When a schedule runs, computed by cron-parser (the parser BullMQ's job schedulers use, so what we show is what
 * the queue does), always in the schedule's own IANA zone: `0 9 * * *` in Europe/Berlin is 09:00 Berlin time on
 * both sides of a daylight-saving change. All functions take the clock as an argument.
 */
import { CronExpressionParser } from 'cron-parser';
import { ValidationError } from '../errors.ts';

/** Parses a cron expression for `timeZone`, starting from `at`; throws a ValidationError naming the problem. */
function expression(cron: string, timeZone: string, at: Date) {
  const fields = cron.trim().split(/\s+/);
  // Five fields is the public form; six (seconds first) is kept for tests and internal schedules.
  if (fields.length !== 5 && fields.length !== 6) {
    throw new ValidationError(
      `"${cron}" is not a cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`,
    );
  }
  try {
    return CronExpressionParser.parse(cron, { currentDate: at, tz: timeZone });
  } catch (error) {
    throw new ValidationError(`"${cron}" is not a valid cron expression: ${(error as Error).message}`);
  }
}

/** Throws a ValidationError unless `cron` parses (5 fields, values in range). */
export function checkCron(cron: string, timeZone = 'UTC'): void {
  expression(cron, timeZone, new Date(0)).next();
}

/** The next `count` run times strictly after `after`. */
export function nextRunTimes(cron: string, timeZone: string, after: Date, count = 3): Date[] {
  return expression(cron, timeZone, after)
    .take(count)
    .map((d) => d.toDate());
}

/** The newest run time at or before `now` (the tick a run at `now` belongs to), or undefined if none. */
export function latestDueTick(cron: string, timeZone: string, now: Date): Date | undefined {
  try {
    // prev() is strictly before its start, so start just after `now` to include a tick at exactly `now`.
    return expression(cron, timeZone, new Date(now.getTime() + 1))
      .prev()
      .toDate();
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    return undefined;
  }
}

/** A run time as people in that zone read it, e.g. `Mon 30 Mar 2026, 09:00 CEST`. */
export function formatRunTime(date: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(date);
  const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('weekday')} ${get('day')} ${get('month')} ${get('year')}, ${get('hour')}:${get('minute')} ${get('timeZoneName')}`;
}
