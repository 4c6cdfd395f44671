/**
 * `<when>` parsing (cron in straight or typographic quotes, the phrases, `tz …`) and run times in the schedule's
 * zone across daylight-saving changes, with the clock passed in (no wall clock anywhere).
 */
import { ValidationError } from '../../core/errors.ts';
import { formatRunTime, latestDueTick, nextRunTimes } from '../../core/templates/run-times.ts';
import { parseScheduleWhen } from '../../core/templates/schedule-when.ts';

function refusal(text: string): ValidationError {
  try {
    parseScheduleWhen(text);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error(`expected "${text}" to be refused`);
}

describe('parseScheduleWhen', () => {
  it.each([
    ['"0 9 * * 1"', '0 9 * * 1', undefined],
    ['“*/5 * * * *”', '*/5 * * * *', undefined],
    ['‘30 7 1 * *’ tz Europe/Berlin', '30 7 1 * *', 'Europe/Berlin'],
    ['"* * * * *"', '* * * * *', undefined],
    ['every minute', '* * * * *', undefined],
    ['every 15 minutes', '*/15 * * * *', undefined],
    ['Hourly', '0 * * * *', undefined],
    ['daily at 09:00 tz europe/berlin', '0 9 * * *', 'Europe/Berlin'],
    ['daily at 9:30pm', '30 21 * * *', undefined],
    ['weekdays at 8:05', '5 8 * * 1-5', undefined],
    ['every Monday at 09:00', '0 9 * * 1', undefined],
    ['every fri at 17:30 tz America/New_York', '30 17 * * 5', 'America/New_York'],
    ['every Monday 09:00 Europe/Berlin', '0 9 * * 1', 'Europe/Berlin'],
    ['monthly on 1st at 07:00', '0 7 1 * *', undefined],
    ['monthly on the 15 at 12 am tz UTC', '0 0 15 * *', 'UTC'],
  ])('%s → %s', (text, cron, zone) => {
    const when = parseScheduleWhen(text);
    expect(when.cron).toBe(cron);
    expect(when.timeZone).toBe(zone);
    expect(when.summary.length).toBeGreaterThan(0);
  });

  it('refuses what cron cannot do or a person did not mean, with examples', () => {
    expect(refusal('every 7 minutes').message).toContain('does not divide the hour');
    expect(refusal('"0 9 * *"').message).toContain('not a 5-field cron expression');
    expect(refusal('"61 9 * * *"').message).toContain('not a valid cron expression');
    expect(refusal('daily at 25:00').message).toContain('not a time of day');
    expect(refusal('every monday at 9 tz Europe/Berln').message).toContain(
      '"Europe/Berln" is not a time zone',
    );
    const vague = refusal('sometimes');
    expect(vague.message).toBe('I do not understand the schedule "sometimes".');
    expect(vague.hint).toContain('daily at 09:00');
    expect(refusal('monthly on 32 at 09:00').message).toContain('no day 32');
  });
});

describe('run times in the schedule’s zone', () => {
  it('09:00 Europe/Berlin stays 09:00 local when summer time starts (UTC moves from 08:00 to 07:00)', () => {
    const runs = nextRunTimes('0 9 * * *', 'Europe/Berlin', new Date('2026-03-27T12:00:00Z'));
    expect(runs.map((d) => d.toISOString())).toEqual([
      '2026-03-28T08:00:00.000Z',
      '2026-03-29T07:00:00.000Z',
      '2026-03-30T07:00:00.000Z',
    ]);
    expect(runs.map((d) => formatRunTime(d, 'Europe/Berlin'))).toEqual([
      'Sat 28 Mar 2026, 09:00 CET',
      'Sun 29 Mar 2026, 09:00 CEST',
      'Mon 30 Mar 2026, 09:00 CEST',
    ]);
  });

  it('and when it ends (UTC moves back from 07:00 to 08:00)', () => {
    const runs = nextRunTimes('0 9 * * 1-5', 'Europe/Berlin', new Date('2026-10-22T12:00:00Z'));
    expect(runs.map((d) => d.toISOString())).toEqual([
      '2026-10-23T07:00:00.000Z',
      '2026-10-26T08:00:00.000Z',
      '2026-10-27T08:00:00.000Z',
    ]);
  });

  it('a time that does not exist on the spring-forward day runs once, an hour later; a repeated one runs once', () => {
    const spring = nextRunTimes('30 2 * * *', 'Europe/Berlin', new Date('2026-03-28T12:00:00Z'), 2);
    expect(spring.map((d) => formatRunTime(d, 'Europe/Berlin'))).toEqual([
      'Sun 29 Mar 2026, 03:30 CEST',
      'Mon 30 Mar 2026, 02:30 CEST',
    ]);
    const autumn = nextRunTimes('30 2 * * *', 'Europe/Berlin', new Date('2026-10-24T12:00:00Z'), 2);
    expect(autumn.map((d) => d.toISOString())).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  it('the tick a moment belongs to includes a tick at exactly that moment', () => {
    expect(latestDueTick('* * * * *', 'UTC', new Date('2026-01-01T10:00:00.000Z'))?.toISOString()).toBe(
      '2026-01-01T10:00:00.000Z',
    );
    expect(latestDueTick('* * * * *', 'UTC', new Date('2026-01-01T10:00:59.999Z'))?.toISOString()).toBe(
      '2026-01-01T10:00:00.000Z',
    );
    expect(latestDueTick('0 9 * * 1', 'Europe/Berlin', new Date('2026-03-31T12:00:00Z'))?.toISOString()).toBe(
      '2026-03-30T07:00:00.000Z',
    );
  });
});
