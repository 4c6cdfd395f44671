/**
 * The scheduled report and the scheduler's notices as neutral Replies, which each chat adapter renders natively.
 * Pure: no I/O.
 */
import type { FileAttachment, Reply, ReplyPart } from '../conversation/chat-platform.ts';
import type { QueryResult } from '../db/database-dialect.ts';
import type { ParameterValue } from './parameter-values.ts';
import { formatRunTime } from './run-times.ts';

const number = new Intl.NumberFormat('en-US');

/** What every scheduler message names: which template, which schedule, which tick. */
export interface ReportContext {
  templateName: string;
  question: string;
  scheduleId: string;
  /** The schedule as it reads, e.g. `every Monday at 09:00`. */
  summary: string;
  channelName: string | null;
  connectionName: string;
  tick: Date;
  timeZone: string;
  values: Readonly<Record<string, ParameterValue>>;
}

export interface ReportInput extends ReportContext {
  result: QueryResult;
  previewRows: number;
  csv?: FileAttachment;
  /** True when the CSV was cut at the size cap. */
  csvCapped?: boolean;
  chart?: FileAttachment;
  /** Run after its tick because no replica was up: said at the top. */
  late: boolean;
  ranAt: Date;
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

/** `country=Germany, since=2026-01-01`, or empty. */
export function formatValues(values: Readonly<Record<string, ParameterValue>>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${v === null ? '(none)' : String(v)}`)
    .join(', ');
}

function channelText(context: ReportContext): string {
  return context.channelName ? `#${context.channelName}` : 'its channel';
}

/** The report: title with values, the table, the CSV, the chart, and a provenance footer naming the tick. */
export function reportReply(input: ReportInput): Reply {
  const { result } = input;
  const values = formatValues(input.values);
  const tick = formatRunTime(input.tick, input.timeZone);
  const parts: ReplyPart[] = [
    { type: 'text', text: `📊 *${input.templateName}*${values ? ` · ${values}` : ''}` },
  ];
  if (input.late) {
    parts.push({
      type: 'context',
      text: `⏰ Late: this report was due ${tick} and ran ${formatRunTime(input.ranAt, input.timeZone)}, because no threadql was running at the time. Earlier missed runs are not repeated.`,
    });
  }
  if (result.columns.length === 0)
    parts.push({ type: 'text', text: 'The query ran and returned no columns.' });
  else if (result.rowCount === 0) parts.push({ type: 'text', text: 'No rows matched.' });
  else parts.push({ type: 'table', result, previewRows: input.previewRows, title: input.question });
  if (input.csv) parts.push({ type: 'file', file: input.csv });
  if (input.chart)
    parts.push({ type: 'image', image: input.chart, alt: `Chart: ${input.question || input.templateName}` });
  const rows = result.truncated
    ? `${number.format(result.rowCount)}+ rows (capped)`
    : `${number.format(result.rowCount)} row${result.rowCount === 1 ? '' : 's'}`;
  const footer = [
    input.connectionName,
    rows,
    `query ${ms(result.durationMs)}`,
    `tick ${tick}`,
    `schedule ${input.scheduleId} (${input.summary})`,
  ];
  if (input.csvCapped) footer.push('CSV cut at the size cap');
  parts.push({ type: 'context', text: footer.join(' · ') });
  return { parts, fallback: `${input.templateName}: ${rows} from ${input.connectionName} (${tick})` };
}

/** The short note in the channel when a run failed after its retries. */
export function channelFailureReply(context: ReportContext, reason: string, ownerKnows: boolean): Reply {
  const tick = formatRunTime(context.tick, context.timeZone);
  const text =
    `⚠️ The scheduled report *${context.templateName}* for ${tick} failed: ${reason}` +
    (ownerKnows ? ' Its owner has been told.' : '');
  return { parts: [{ type: 'text', text }], fallback: `Scheduled report ${context.templateName} failed` };
}

/** The owner's direct message about a failed (or refused) run, with what to do next. */
export function ownerFailureReply(
  context: ReportContext,
  reason: string,
  failures: { count: number; max: number },
): Reply {
  const tick = formatRunTime(context.tick, context.timeZone);
  const text = [
    `⚠️ Your scheduled report *${context.templateName}* in ${channelText(context)} (${context.summary}) did not post for ${tick}.`,
    `Reason: ${reason}`,
    `Failures in a row: ${failures.count} of ${failures.max}; at ${failures.max} the schedule pauses itself.`,
    `Manage it with \`pause ${context.scheduleId}\`, \`resume ${context.scheduleId}\` or \`unschedule ${context.scheduleId}\`.`,
  ].join('\n');
  return { parts: [{ type: 'text', text }], fallback: `Scheduled report ${context.templateName} failed` };
}

/** Said in the channel and to the owner when a schedule pauses itself. */
export function pausedReply(context: ReportContext, failures: number): Reply {
  const text =
    `⏸️ Schedule ${context.scheduleId} of *${context.templateName}* (${context.summary}) has paused itself after ${failures} failed runs in a row. ` +
    `Fix the cause, then \`resume ${context.scheduleId}\`.`;
  return { parts: [{ type: 'text', text }], fallback: `Schedule ${context.scheduleId} paused itself` };
}
