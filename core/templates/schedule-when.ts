/**
 * The `<when>` of `schedule <name> <when> in <channel>`: a 5-field cron expression in quotes (straight or the
 * typographic quotes chat clients substitute) or one of a few phrases, optionally followed by `tz <IANA zone>`.
 * Every phrase becomes a cron expression, so the queue only ever sees cron.
 *
 *   "0 9 * * 1"  ·  every 15 minutes  ·  hourly  ·  daily at 09:00  ·  weekdays at 8:30
 *   every monday at 09:00  ·  monthly on 1 at 07:00  ·  … tz Europe/Berlin
 */
import { ValidationError } from '../errors.ts';
import { checkCron } from './run-times.ts';

export interface ScheduleWhen {
  /** Five fields: minute hour day-of-month month day-of-week. */
  cron: string;
  /** The zone named with `tz …`, canonical (e.g. `Europe/Berlin`); undefined means the configured default. */
  timeZone: string | undefined;
  /** How people read it, e.g. `every Monday at 09:00`. */
  summary: string;
}

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const EXAMPLES =
  'Try "0 9 * * 1" (cron, in quotes), every 15 minutes, hourly, daily at 09:00, weekdays at 09:00, every monday at 09:00 or monthly on 1 at 09:00, optionally followed by tz Europe/Berlin.';

/** The canonical IANA name of a zone (`europe/berlin` → `Europe/Berlin`), or undefined if the runtime does not know it. */
export function canonicalTimeZone(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** Straight quotes for the typographic ones Slack, Discord and phones substitute. */
export function straightenQuotes(text: string): string {
  return text
    .replace(/[\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb]/g, '"')
    .replace(/[\u2018\u2019\u201a\u201b\u2032]/g, "'");
}

/** Parses `<when> [tz <zone>]`; throws a ValidationError with examples when it is neither cron nor a known phrase. */
export function parseScheduleWhen(input: string): ScheduleWhen {
  let text = straightenQuotes(input).trim().replace(/\s+/g, ' ');
  let timeZone: string | undefined;
  const tz =
    /\s+(?:tz|timezone|time zone|in zone)\s+(\S+)$/i.exec(text) ??
    /\s+([A-Za-z_]+\/[A-Za-z_/+-]+)$/.exec(text);
  if (tz) {
    timeZone = canonicalTimeZone(tz[1]!);
    if (!timeZone) {
      throw new ValidationError(`"${tz[1]}" is not a time zone I know.`, {
        hint: 'Use an IANA zone name such as Europe/Berlin, America/New_York or UTC.',
      });
    }
    text = text.slice(0, tz.index).trim();
  }
  const quoted = /^(["'`])(.+)\1$/.exec(text);
  if (quoted) {
    const cron = quoted[2]!.trim().replace(/\s+/g, ' ');
    if (cron.split(' ').length !== 5) {
      throw new ValidationError(
        `"${cron}" is not a 5-field cron expression (minute hour day-of-month month day-of-week).`,
        { hint: EXAMPLES },
      );
    }
    checkCron(cron);
    return { cron, timeZone, summary: `cron "${cron}"` };
  }
  const phrase = fromPhrase(text.toLowerCase());
  if (!phrase)
    throw new ValidationError(`I do not understand the schedule "${input.trim()}".`, { hint: EXAMPLES });
  checkCron(phrase.cron);
  return { ...phrase, timeZone };
}

function fromPhrase(text: string): Omit<ScheduleWhen, 'timeZone'> | undefined {
  let m: RegExpExecArray | null;
  if (/^every minute$/.test(text)) return { cron: '* * * * *', summary: 'every minute' };
  if ((m = /^every (\d+) ?(?:minutes?|mins?|m)$/.exec(text))) return everyMinutes(Number(m[1]));
  if (/^(?:hourly|every hour)$/.test(text)) return { cron: '0 * * * *', summary: 'every hour, on the hour' };
  const at = '(?:at )?(\\d{1,2}(?::\\d{2})?(?: ?[ap]\\.?m\\.?)?)';
  if ((m = new RegExp(`^(?:daily|every day) ${at}$`).exec(text))) {
    const t = time(m[1]!);
    return { cron: `${t.minute} ${t.hour} * * *`, summary: `daily at ${t.text}` };
  }
  if ((m = new RegExp(`^(?:weekdays|every weekday|on weekdays) ${at}$`).exec(text))) {
    const t = time(m[1]!);
    return { cron: `${t.minute} ${t.hour} * * 1-5`, summary: `weekdays (Mon–Fri) at ${t.text}` };
  }
  if ((m = new RegExp(`^(?:every|on) ([a-z]+?)s? ${at}$`).exec(text))) {
    const day = weekday(m[1]!);
    if (day === undefined) return undefined;
    const t = time(m[2]!);
    const name = WEEKDAYS[day]!;
    return {
      cron: `${t.minute} ${t.hour} * * ${day}`,
      summary: `every ${name[0]!.toUpperCase()}${name.slice(1)} at ${t.text}`,
    };
  }
  if ((m = new RegExp(`^monthly on (?:the )?(\\d{1,2})(?:st|nd|rd|th)? ${at}$`).exec(text))) {
    const day = Number(m[1]);
    if (day < 1 || day > 31) throw new ValidationError(`There is no day ${day} in a month; use 1 to 31.`);
    const t = time(m[2]!);
    const note = day > 28 ? ' (months without that day are skipped)' : '';
    return { cron: `${t.minute} ${t.hour} ${day} * *`, summary: `monthly on day ${day} at ${t.text}${note}` };
  }
  return undefined;
}

function everyMinutes(n: number): Omit<ScheduleWhen, 'timeZone'> {
  if (n === 1) return { cron: '* * * * *', summary: 'every minute' };
  if (n === 60) return { cron: '0 * * * *', summary: 'every hour, on the hour' };
  if (n < 1 || 60 % n !== 0) {
    throw new ValidationError(
      `Every ${n} minutes does not divide the hour evenly, so cron cannot keep that pace.`,
      {
        hint: 'Use 1, 2, 3, 4, 5, 6, 10, 12, 15, 20 or 30 minutes, hourly, or a cron expression in quotes.',
      },
    );
  }
  return { cron: `*/${n} * * * *`, summary: `every ${n} minutes` };
}

function weekday(word: string): number | undefined {
  const index = WEEKDAYS.findIndex((d) => word.length >= 3 && d.startsWith(word));
  return index < 0 ? undefined : index;
}

/** `9`, `09:00`, `9:30pm`, `12 am` → hour and minute (24 h), refusing times that do not exist. */
function time(text: string): { hour: number; minute: number; text: string } {
  const m = /^(\d{1,2})(?::(\d{2}))? ?(?:([ap])\.?m\.?)?$/.exec(text)!;
  let hour = Number(m[1]);
  const minute = Number(m[2] ?? 0);
  const half = m[3];
  if (half && (hour < 1 || hour > 12))
    throw new ValidationError(`"${text}" is not a time: use 1–12 with am/pm.`);
  if (half === 'p' && hour < 12) hour += 12;
  if (half === 'a' && hour === 12) hour = 0;
  if (hour > 23 || minute > 59)
    throw new ValidationError(`"${text}" is not a time of day: use HH:MM, 00:00 to 23:59.`);
  return { hour, minute, text: `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}` };
}
