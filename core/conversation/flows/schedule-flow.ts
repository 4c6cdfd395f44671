/**
 * Scheduled reports from the thread: `schedule <name> <when> in <channel> [key=value …]`, `schedules`, and
 * `pause` / `resume` / `unschedule <id>` (owner or admin). A channel is refused when its connection binding does
 * not allow the template's connection, when the bot cannot post there (said plainly, with the fix), or when the
 * connection's governance forbids reports to that audience. MongoDB keeps the schedule; the queue follows it.
 */
import type { SchedulesConfig } from '../../../config/config-file.ts';
import type { Governance } from '../../governance/governance.ts';
import { PermissionError, ValidationError } from '../../errors.ts';
import {
  coerceParameterValue,
  resolveParameterValues,
  type ParameterValue,
} from '../../templates/parameter-values.ts';
import type { TemplateServices } from '../../templates/create-template-services.ts';
import { parseChannelRef } from '../../templates/parse-channel-ref.ts';
import { formatRunTime, nextRunTimes } from '../../templates/run-times.ts';
import { parseScheduleWhen } from '../../templates/schedule-when.ts';
import { scheduledReply, schedulesListReply } from '../../templates/template-replies.ts';
import type { CommandArgs } from '../chat-grammar.ts';
import type { ConnectionProvider } from '../engine-ports.ts';
import type { Flow } from '../flow.ts';
import type { Turn } from '../turn.ts';
import { mayQuery } from './query-gate.ts';
import { workspaceOf } from './template-flow.ts';

export interface ScheduleFlowDeps {
  templates: Pick<TemplateServices, 'store' | 'scheduler'>;
  /** threadql.yml `schedules` (the default zone). */
  schedules: SchedulesConfig;
  connections: Pick<ConnectionProvider, 'allowedFor'>;
  /** Governance: may the user query the connection, and may its reports go to the channel's audience? */
  governance: Pick<Governance, 'checkScheduledReport' | 'checkAccess'>;
}

export class ScheduleFlow implements Flow {
  readonly #deps: ScheduleFlowDeps;

  readonly commands = {
    schedule: (turn: Turn, args: CommandArgs['schedule']) => this.schedule(turn, args),
    schedules: (turn: Turn) => this.list(turn),
    pause: (turn: Turn, args: CommandArgs['pause']) => this.setEnabled(turn, args.id, false),
    resume: (turn: Turn, args: CommandArgs['resume']) => this.setEnabled(turn, args.id, true),
    unschedule: (turn: Turn, args: CommandArgs['unschedule']) => this.unschedule(turn, args.id),
  };

  constructor(deps: ScheduleFlowDeps) {
    this.#deps = deps;
  }

  private async schedule(turn: Turn, args: CommandArgs['schedule']): Promise<void> {
    const { store, scheduler } = this.#deps.templates;
    try {
      const template = await store.get(workspaceOf(turn), args.name);
      // Reports run the template on the scheduler's behalf: only someone who may query its connection schedules.
      if (!(await mayQuery(turn, this.#deps.governance, template.connectionName))) return;
      const when = parseScheduleWhen(args.when);
      const timeZone = when.timeZone ?? this.#deps.schedules.timezone;
      const { channel, name } = parseChannelRef(turn.platform.name, turn.thread.workspace, args.channel);
      const label = name ? `#${name}` : args.channel;
      const allowed = this.#deps.connections.allowedFor({ ...channel, thread: '' });
      if (!allowed.some((c) => c.toLowerCase() === template.connectionName.toLowerCase())) {
        throw new PermissionError(
          `${label} may not use the connection *${template.connectionName}*, so reports of *${template.name}* cannot go there.`,
          {
            hint: allowed.length
              ? `Connections allowed in ${label}: ${allowed.join(', ')}. An admin can bind the channel in threadql.yml.`
              : `No connection is bound to ${label}; an admin can add it to the connection's \`channels\` in threadql.yml.`,
          },
        );
      }
      const info = await turn.platform.describeChannel?.(channel);
      if (info && !info.canPost) {
        throw new PermissionError(info.problem ?? `I cannot post in ${label}.`);
      }
      const check = this.#deps.governance.checkScheduledReport(
        template.connectionName,
        info ? { audience: info.audience, ...(info.name ? { name: info.name } : {}) } : undefined,
      );
      if (!check.allowed) throw check.error;
      // All values are checked now (with defaults), but only the given ones are kept: defaults may change later.
      resolveParameterValues(template.parameters, args.values);
      const given: Record<string, ParameterValue> = {};
      for (const [key, raw] of Object.entries(args.values)) {
        const definition = template.parameters.find((p) => p.name.toLowerCase() === key.toLowerCase())!;
        const coerced = coerceParameterValue(definition.name, definition.type, raw);
        if ('value' in coerced) given[definition.name] = coerced.value;
      }
      const view = await store.addSchedule(
        template._id,
        {
          cron: when.cron,
          timeZone,
          summary: when.summary,
          target: channel,
          channelName: info?.name ?? name ?? null,
          parameterValues: given,
        },
        { key: turn.userKey, admin: turn.isAdmin(), thread: turn.threadKey },
      );
      await scheduler.sync(view.schedule._id);
      const next = nextRunTimes(when.cron, timeZone, turn.settings.now(), 3);
      await turn.post(scheduledReply(view.template, view.schedule, given, next));
    } catch (error) {
      await turn.fail(error, { input: `schedule ${args.name} ${args.when} in ${args.channel}` });
    }
  }

  private async list(turn: Turn): Promise<void> {
    try {
      const now = turn.settings.now();
      const views = await this.#deps.templates.store.listSchedules(workspaceOf(turn));
      await turn.post(
        schedulesListReply(
          views.map((v) => ({
            templateName: v.template.name,
            line: {
              schedule: v.schedule,
              state: v.state,
              next: v.schedule.enabled
                ? nextRunTimes(v.schedule.cron, v.schedule.timeZone, now, 1)[0]
                : undefined,
            },
          })),
        ),
      );
    } catch (error) {
      await turn.fail(error, { input: 'schedules' });
    }
  }

  private async setEnabled(turn: Turn, id: string, enabled: boolean): Promise<void> {
    const { store, scheduler } = this.#deps.templates;
    try {
      const view = await this.#inWorkspace(turn, id);
      const changed = await store.setScheduleEnabled(
        view.schedule._id,
        enabled,
        { key: turn.userKey, admin: turn.isAdmin(), thread: turn.threadKey },
        enabled ? null : `paused by ${turn.who}`,
      );
      await scheduler.sync(changed.schedule._id);
      const where = changed.schedule.channelName ? ` into #${changed.schedule.channelName}` : '';
      await turn.say(
        enabled
          ? `▶️ Resumed schedule \`${id}\` of *${changed.template.name}*${where}; next run ${nextRunText(changed.schedule, turn)}.`
          : `⏸️ Paused schedule \`${id}\` of *${changed.template.name}*${where}. \`resume ${id}\` starts it again.`,
      );
    } catch (error) {
      await turn.fail(error, { input: `${enabled ? 'resume' : 'pause'} ${id}` });
    }
  }

  private async unschedule(turn: Turn, id: string): Promise<void> {
    const { store, scheduler } = this.#deps.templates;
    try {
      const view = await this.#inWorkspace(turn, id);
      const removed = await store.removeSchedule(view.schedule._id, {
        key: turn.userKey,
        admin: turn.isAdmin(),
        thread: turn.threadKey,
      });
      await scheduler.sync(removed.schedule._id);
      await turn.say(`🗑️ Removed schedule \`${id}\` of *${removed.template.name}*.`);
    } catch (error) {
      await turn.fail(error, { input: `unschedule ${id}` });
    }
  }

  /** A schedule of this workspace (another workspace's ids are as good as unknown here). */
  async #inWorkspace(turn: Turn, id: string) {
    const view = await this.#deps.templates.store.findSchedule(id);
    if (!view || view.template.workspace !== workspaceOf(turn)) {
      throw new ValidationError(`There is no schedule "${id}" here.`, {
        hint: 'Type `schedules` to list them.',
      });
    }
    return view;
  }
}

function nextRunText(schedule: { cron: string; timeZone: string }, turn: Turn): string {
  const [next] = nextRunTimes(schedule.cron, schedule.timeZone, turn.settings.now(), 1);
  return next ? formatRunTime(next, schedule.timeZone) : 'none';
}
