/**
 * Templates in the thread: `template <name>` (show one; with a ```sql block it is saved, see template-save-flow.ts),
 * `templates [words]`, `run <name> [key=value …]` and `delete template <name>`. Running binds the values and offers
 * the usual confirm card. The domain work is core/templates'.
 */
import type { Governance } from '../../governance/governance.ts';
import { bindTemplate } from '../../templates/bind-template.ts';
import { formatValues } from '../../templates/compose-report.ts';
import type { TemplateServices } from '../../templates/create-template-services.ts';
import { resolveParameterValues } from '../../templates/parameter-values.ts';
import { nextRunTimes } from '../../templates/run-times.ts';
import { templateDetailReply, templatesListReply } from '../../templates/template-replies.ts';
import { templateUsage } from '../../templates/template-usage.ts';
import type { IncomingMessage } from '../chat-platform.ts';
import type { CommandArgs } from '../chat-grammar.ts';
import type { ConnectionProvider } from '../engine-ports.ts';
import type { Flow } from '../flow.ts';
import type { Turn } from '../turn.ts';
import type { ConfirmFlow } from './confirm-flow.ts';
import { mayQuery } from './query-gate.ts';
import type { TemplateSaveFlow } from './template-save-flow.ts';

export interface TemplateFlowDeps {
  templates: Pick<TemplateServices, 'store' | 'scheduler'>;
  /** Saves `template <name>` with a query block. */
  saving: TemplateSaveFlow;
  connections: ConnectionProvider;
  confirm: ConfirmFlow;
  /** Who may query what: running a template needs the same access as a question. */
  governance: Governance;
}

/** Templates belong to a workspace: `platform:workspace`. */
export function workspaceOf(turn: Turn): string {
  return `${turn.thread.platform}:${turn.thread.workspace}`;
}

export class TemplateFlow implements Flow {
  readonly #deps: TemplateFlowDeps;

  readonly commands = {
    template: (turn: Turn, args: CommandArgs['template'], message: IncomingMessage) =>
      args.sql === undefined
        ? this.show(turn, args.name)
        : this.#deps.saving.saveBlock(turn, { name: args.name, sql: args.sql }, message),
    templates: (turn: Turn, args: CommandArgs['templates']) => this.list(turn, args.search),
    run: (turn: Turn, args: CommandArgs['run'], message: IncomingMessage) => this.run(turn, args, message),
    'delete-template': (turn: Turn, args: CommandArgs['delete-template']) => this.remove(turn, args.name),
  };

  constructor(deps: TemplateFlowDeps) {
    this.#deps = deps;
  }

  /** `template <name>`: the query, parameters, usage and schedules. */
  private async show(turn: Turn, name: string): Promise<void> {
    const { store } = this.#deps.templates;
    try {
      const template = await store.get(workspaceOf(turn), name);
      const usage = await templateUsage(store.models, template);
      const now = turn.settings.now();
      const schedules = await Promise.all(
        template.schedules.map(async (schedule) => ({
          schedule,
          state: (await store.findSchedule(schedule._id))?.state ?? null,
          next: schedule.enabled ? nextRunTimes(schedule.cron, schedule.timeZone, now, 1)[0] : undefined,
        })),
      );
      await turn.post(templateDetailReply(template, usage, schedules));
    } catch (error) {
      await turn.fail(error, { input: `template ${name}` });
    }
  }

  private async list(turn: Turn, words: string): Promise<void> {
    try {
      const hits = await this.#deps.templates.store.search(workspaceOf(turn), words, { limit: 25 });
      await turn.post(templatesListReply(hits, words));
    } catch (error) {
      await turn.fail(error, { input: `templates ${words}` });
    }
  }

  /** `run <name> [key=value …]`: the confirm card with the values bound; Run runs it as any read. */
  private async run(
    turn: Turn,
    { name, values }: CommandArgs['run'],
    message: IncomingMessage,
  ): Promise<void> {
    const { store } = this.#deps.templates;
    const { connections, confirm, governance } = this.#deps;
    let template: Awaited<ReturnType<typeof store.get>>;
    try {
      template = await store.get(workspaceOf(turn), name);
    } catch (error) {
      await turn.fail(error, { input: message.text });
      return;
    }
    // A template runs as its user: only someone who may query its connection (the refusal is private, audited).
    if (!(await mayQuery(turn, governance, template.connectionName))) return;
    const card = await turn.progress(`Preparing *${name}*…`);
    let sessionId: string | undefined;
    try {
      // The channel must be allowed to use the template's connection.
      await connections.resolve(turn.thread, template.connectionName);
      const typed = resolveParameterValues(template.parameters, values);
      const bound = await bindTemplate(template.databaseType, template.sql, template.parameters, typed);
      const session =
        (await turn.session()) ??
        (await turn.services.sessions.openSession(
          turn.thread,
          turn.user,
          template.connectionName,
          message.text,
        ));
      sessionId = session.id;
      const verdict = await connections.classify(template.connectionName, bound.query);
      const shown = formatValues(typed);
      await confirm.offer({
        turn,
        card,
        sessionId,
        connectionName: template.connectionName,
        question: message.text,
        sql: bound.query,
        verdict,
        params: bound.params,
        template: {
          id: String(template._id),
          name: template.name,
          sql: template.sql,
          values: shown,
          title: template.question || template.name,
        },
      });
    } catch (error) {
      await turn.fail(error, { progress: card, input: message.text, ...(sessionId ? { sessionId } : {}) });
    }
  }

  /** `delete template <name>` (owner or admin), with its schedules. */
  private async remove(turn: Turn, name: string): Promise<void> {
    const { store, scheduler } = this.#deps.templates;
    try {
      const deleted = await store.delete(workspaceOf(turn), name, {
        key: turn.userKey,
        admin: turn.isAdmin(),
        thread: turn.threadKey,
      });
      for (const s of deleted.schedules) await scheduler.sync(s._id);
      const n = deleted.schedules.length;
      await turn.say(
        `🗑️ Deleted template *${deleted.name}*${n ? ` and its ${n} schedule${n === 1 ? '' : 's'}` : ''}.`,
      );
    } catch (error) {
      await turn.fail(error, { input: `delete template ${name}` });
    }
  }
}
