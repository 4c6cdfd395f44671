/** Replies of the template and schedule commands, as neutral Replies. Pure: no I/O. */
import type { Button, Reply, ReplyPart } from '../conversation/chat-platform.ts';
import type { QueryTemplateFields, TemplateSchedule } from '../../models/query-template.ts';
import type { ScheduleStateFields } from '../../models/schedule-state.ts';
import { formatValues } from './compose-report.ts';
import { describeParameter, type ParameterDefinition, type ParameterValue } from './parameter-values.ts';
import { formatRunTime } from './run-times.ts';
import type { TemplateDraft } from './template-drafts.ts';
import type { TemplateSummary } from './template-search-index.ts';
import type { TemplateUsage } from './template-usage.ts';

const language = (databaseType: string) => (databaseType === 'mongodb' ? 'json' : 'sql');

function parametersText(parameters: readonly ParameterDefinition[]): string {
  return parameters.length ? `Parameters: ${parameters.map(describeParameter).join(', ')}` : 'No parameters';
}

/** `run weekly-signups country=DE since=2026-01-01`: how to run a template with its parameters. */
export function runExample(name: string, parameters: readonly ParameterDefinition[]): string {
  const sample = { text: 'Germany', number: '10', date: '2026-01-31', boolean: 'true' };
  const values = parameters.map((p) => `${p.name}=${p.default ?? sample[p.type]}`);
  return ['run', name, ...values].join(' ');
}

/** The save card: the query, its parameters (Claude's proposal when there is one), and Save / Edit / Cancel. */
export function saveCardReply(draft: TemplateDraft): Reply {
  const buttons: Button[] = [{ action: 'template_save', label: 'Save', style: 'primary', value: draft.id }];
  if (draft.original) buttons.push({ action: 'template_save_plain', label: 'Save as is', value: draft.id });
  buttons.push(
    { action: 'template_edit', label: 'Edit', value: draft.id },
    { action: 'template_cancel', label: 'Cancel', style: 'danger', value: draft.id },
  );
  const intro = draft.original
    ? `💾 Save as template *${draft.name}*? Claude suggests parameters for the values in the query; *Save* keeps them, *Save as is* keeps the query as it was.`
    : `💾 Save as template *${draft.name}*?`;
  return {
    parts: [
      { type: 'text', text: intro },
      { type: 'code', code: draft.sql, language: language(draft.databaseType) },
      { type: 'context', text: `connection *${draft.connectionName}* · ${parametersText(draft.parameters)}` },
      { type: 'buttons', buttons },
    ],
    fallback: `Save ${draft.name} as a template?`,
  };
}

/** The save card once settled (saved, cancelled, failed): the query stays, the buttons go. */
export function settledSaveCardReply(
  draft: Pick<TemplateDraft, 'sql' | 'databaseType' | 'name'>,
  outcome: string,
): Reply {
  return {
    parts: [
      { type: 'text', text: `💾 Template *${draft.name}*` },
      { type: 'code', code: draft.sql, language: language(draft.databaseType) },
      { type: 'context', text: outcome },
    ],
    fallback: outcome,
  };
}

export interface ScheduleLine {
  schedule: TemplateSchedule;
  state: ScheduleStateFields | null;
  next: Date | undefined;
}

function scheduleLine({ schedule, state, next }: ScheduleLine, templateName?: string): string {
  const where = schedule.channelName ? `#${schedule.channelName}` : schedule.target.channel;
  const parts = [
    `\`${schedule._id}\``,
    ...(templateName ? [`*${templateName}*`] : []),
    `${schedule.summary || schedule.cron} (${schedule.timeZone})`,
    `into ${where}`,
  ];
  const values = formatValues(schedule.parameterValues ?? {});
  if (values) parts.push(values);
  if (!schedule.enabled) parts.push(`⏸️ paused${schedule.pausedReason ? `: ${schedule.pausedReason}` : ''}`);
  else if (next) parts.push(`next ${formatRunTime(next, schedule.timeZone)}`);
  if (state?.lastStatus && state.lastRunAt) {
    parts.push(`last ${state.lastStatus} ${formatRunTime(state.lastRunAt, schedule.timeZone)}`);
  }
  return parts.join(' · ');
}

/** One template: its query, parameters, usage and schedules. */
export function templateDetailReply(
  template: QueryTemplateFields,
  usage: TemplateUsage,
  schedules: ScheduleLine[],
): Reply {
  const used = usage.usageCount
    ? `used ${usage.usageCount} time${usage.usageCount === 1 ? '' : 's'}, last ${usage.lastUsedAt?.toISOString().slice(0, 10) ?? 'never'}`
    : 'not used yet';
  const parts: ReplyPart[] = [
    {
      type: 'text',
      text: `📄 *${template.name}*${template.description ? ` — ${template.description}` : ''}${template.archivedAt ? ' (archived: unused for 180 days; running it brings it back)' : ''}`,
    },
    { type: 'code', code: template.sql, language: language(template.databaseType) },
    {
      type: 'context',
      text: [`connection *${template.connectionName}*`, parametersText(template.parameters), used].join(
        ' · ',
      ),
    },
    {
      type: 'text',
      text: schedules.length
        ? `Schedules:\n${schedules.map((s) => `• ${scheduleLine(s)}`).join('\n')}`
        : `No schedules. Run it with \`${runExample(template.name, template.parameters)}\`.`,
    },
  ];
  return { parts, fallback: `Template ${template.name}` };
}

/** A list of templates (a search or all of them). */
export function templatesListReply(hits: TemplateSummary[], words: string): Reply {
  if (!hits.length) {
    const text = words
      ? `No template matches "${words}". Type \`templates\` to list them all.`
      : 'No templates yet. Run a query and type `save as <name>`, or `template <name>` with a ```sql block.';
    return { parts: [{ type: 'text', text }], fallback: text };
  }
  const lines = hits.map((t) => {
    const about = t.description || t.question;
    const params = t.parameters.length ? ` · ${t.parameters.join(', ')}` : '';
    const schedules = t.schedules ? ` · ${t.schedules} schedule${t.schedules === 1 ? '' : 's'}` : '';
    return `• *${t.name}*${about ? ` — ${about}` : ''}${params} · used ${t.usageCount}×${schedules}`;
  });
  const title = words ? `Templates matching "${words}":` : 'Templates:';
  const text = `${title}\n${lines.join('\n')}\nShow one with \`template <name>\`, run it with \`run <name> [key=value …]\`.`;
  return { parts: [{ type: 'text', text }], fallback: title };
}

/** The answer to `schedule …`: what was scheduled and its next three runs. */
export function scheduledReply(
  template: QueryTemplateFields,
  schedule: TemplateSchedule,
  values: Readonly<Record<string, ParameterValue>>,
  next: Date[],
): Reply {
  const where = schedule.channelName ? `#${schedule.channelName}` : schedule.target.channel;
  const shown = formatValues(values);
  const text = [
    `⏰ Scheduled *${template.name}* into ${where}: ${schedule.summary} (${schedule.timeZone})${shown ? ` with ${shown}` : ''}.`,
    `Next runs: ${next.map((d) => formatRunTime(d, schedule.timeZone)).join(' · ')}`,
    `Schedule id \`${schedule._id}\`: \`pause ${schedule._id}\`, \`resume ${schedule._id}\`, \`unschedule ${schedule._id}\`.`,
  ].join('\n');
  return { parts: [{ type: 'text', text }], fallback: `Scheduled ${template.name}` };
}

/** `schedules`: every schedule of the workspace. */
export function schedulesListReply(lines: { templateName: string; line: ScheduleLine }[]): Reply {
  const text = lines.length
    ? `Scheduled reports:\n${lines.map((l) => `• ${scheduleLine(l.line, l.templateName)}`).join('\n')}`
    : 'No scheduled reports. Schedule one with `schedule <name> <when> in <channel>`.';
  return { parts: [{ type: 'text', text }], fallback: 'Scheduled reports' };
}
