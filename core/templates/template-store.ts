/**
 * Saved templates and their schedules in MongoDB (the truth), with the Redis search index kept in step. Every
 * write to a QueryTemplate document goes through the template lock (FerretDB loses concurrent updates of one
 * document otherwise); creation and schedule ids are claimed by unique inserts. Every change is an AuditEvent.
 * Queue side effects (BullMQ job schedulers) are the scheduler's: callers sync it after a schedule change.
 */
import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import type { DatabaseType } from '../../config/config-file.ts';
import type { Models } from '../../models/create-models.ts';
import type { QueryTemplateFields, TemplateSchedule } from '../../models/query-template.ts';
import type { ScheduleStateFields } from '../../models/schedule-state.ts';
import { isDuplicateKeyError } from '../../models/state-machine.ts';
import type { ChannelTarget } from '../../models/thread-ref-schema.ts';
import { NotFoundError, PermissionError, ValidationError } from '../errors.ts';
import type { ParameterDefinition, ParameterValue } from './parameter-values.ts';
import { auditTemplateEvent, type TemplateAuditEvent } from './template-audit.ts';
import type { TemplateLock } from './template-lock.ts';
import type { SearchOptions, TemplateSearchIndex, TemplateSummary } from './template-search-index.ts';

/** Who is acting, and whether they are an admin (admins may manage anyone's templates and schedules). */
export interface Actor {
  key: string;
  admin: boolean;
  /** Thread key the command came from, for the audit log. */
  thread?: string;
}

export interface NewTemplate {
  workspace: string;
  name: string;
  description?: string;
  question: string;
  sql: string;
  parameters: ParameterDefinition[];
  databaseType: DatabaseType;
  connectionName: string;
  connection?: Types.ObjectId | null;
  /** Thread key of the session that keeps the template's runs. */
  session: string | null;
}

export interface NewSchedule {
  cron: string;
  timeZone: string;
  summary: string;
  target: ChannelTarget;
  channelName?: string | null;
  parameterValues: Record<string, ParameterValue>;
}

/** A schedule with its template and run state. */
export interface ScheduleView {
  template: QueryTemplateFields;
  schedule: TemplateSchedule;
  state: ScheduleStateFields | null;
}

export interface TemplateStoreDeps {
  models: Models;
  lock: TemplateLock;
  index: TemplateSearchIndex;
  now?: () => Date;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Audit targets. */
const templateTarget = (t: { _id: unknown }) => `QueryTemplate:${String(t._id)}`;
const scheduleTarget = (id: string) => `Schedule:${id}`;

export class TemplateStore {
  readonly #models: Models;
  readonly #lock: TemplateLock;
  readonly #index: TemplateSearchIndex;
  readonly #now: () => Date;

  constructor(deps: TemplateStoreDeps) {
    this.#models = deps.models;
    this.#lock = deps.lock;
    this.#index = deps.index;
    this.#now = deps.now ?? (() => new Date());
  }

  get models(): Models {
    return this.#models;
  }

  /** A template id from its text form (as buttons and confirmations carry it). */
  id(text: string): Types.ObjectId {
    return new Types.ObjectId(text);
  }

  /** Appends an AuditEvent for a template or schedule (also used by the scheduler for runs). */
  audit(event: TemplateAuditEvent): Promise<void> {
    return auditTemplateEvent(this.#models.AuditEvent, event, this.#now());
  }

  /** Saves a new template (checked by checkTemplate beforehand); a taken name is a clear ValidationError. */
  async create(input: NewTemplate, actor: Actor): Promise<QueryTemplateFields> {
    const name = input.name.trim().toLowerCase();
    if (!NAME.test(name)) {
      throw new ValidationError(`"${input.name}" cannot be a template name.`, {
        hint: 'Use lower-case letters, digits, "-" or "_" (at most 63), e.g. weekly-signups.',
      });
    }
    let created: QueryTemplateFields;
    try {
      const at = this.#now();
      const doc = await this.#models.QueryTemplate.create({
        ...input,
        // The store's clock, not Mongoose's: idle time (the archive sweep) is measured from it.
        createdAt: at,
        updatedAt: at,
        name,
        description: input.description ?? '',
        connection: input.connection ?? null,
        createdBy: actor.key,
      });
      created = doc.toObject() as QueryTemplateFields;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const existing = await this.find(input.workspace, name);
      throw new ValidationError(`There is already a template named "${name}" in this workspace.`, {
        hint: `Pick another name, or \`delete template ${name}\` first${existing?.createdBy ? ` (it belongs to ${existing.createdBy})` : ''}.`,
      });
    }
    await this.#index.put(created.workspace, created);
    await this.audit({
      action: 'template.save',
      actor: actor.key,
      workspace: created.workspace,
      thread: actor.thread ?? null,
      sql: created.sql,
      target: templateTarget(created),
      detail: { name, connection: created.connectionName, parameters: created.parameters.map((p) => p.name) },
    });
    return created;
  }

  /** A template by name, or undefined. */
  async find(workspace: string, name: string): Promise<QueryTemplateFields | undefined> {
    const doc = await this.#models.QueryTemplate.findOne({
      workspace,
      name: name.trim().toLowerCase(),
    }).lean<QueryTemplateFields>();
    return doc ?? undefined;
  }

  /** A template by name; NotFoundError naming close matches when there is none. */
  async get(workspace: string, name: string): Promise<QueryTemplateFields> {
    const found = await this.find(workspace, name);
    if (found) return found;
    const near = await this.search(workspace, name.replace(/[-_]/g, ' '), {
      limit: 5,
      includeArchived: true,
    });
    throw new NotFoundError(`There is no template named "${name}".`, {
      hint: near.length
        ? `Did you mean ${near.map((t) => t.name).join(', ')}?`
        : 'Type `templates` to list them.',
    });
  }

  /** A template by id, or undefined. */
  async byId(id: Types.ObjectId | string): Promise<QueryTemplateFields | undefined> {
    return (await this.#models.QueryTemplate.findById(id).lean<QueryTemplateFields>()) ?? undefined;
  }

  /** Searches names, descriptions and questions (see TemplateSearchIndex). */
  search(workspace: string, words: string, options: SearchOptions = {}): Promise<TemplateSummary[]> {
    return this.#index.search(workspace, words, options);
  }

  /** Deletes a template (owner or admin) with its schedules' states; returns it so the caller can drop job schedulers. */
  async delete(workspace: string, name: string, actor: Actor): Promise<QueryTemplateFields> {
    const found = await this.get(workspace, name);
    this.#mayManage(actor, [found.createdBy], `delete the template "${found.name}"`);
    const template = await this.#lock.with(String(found._id), async () => {
      const current = (await this.byId(found._id)) ?? found;
      await this.#models.QueryTemplate.deleteOne({ _id: found._id });
      return current;
    });
    // Newer than any version the template had, whichever clock stamped it.
    await this.#index.remove(workspace, String(template._id), template.updatedAt);
    const ids = template.schedules.map((s) => s._id);
    if (ids.length) await this.#models.ScheduleState.deleteMany({ _id: { $in: ids } });
    await this.audit({
      action: 'template.delete',
      actor: actor.key,
      workspace,
      thread: actor.thread ?? null,
      sql: template.sql,
      target: templateTarget(template),
      detail: { name: template.name, schedules: ids },
    });
    return template;
  }

  /** Adds a schedule to a template; its short id is claimed by inserting its ScheduleState. */
  async addSchedule(templateId: Types.ObjectId, input: NewSchedule, actor: Actor): Promise<ScheduleView> {
    const template = await this.byId(templateId);
    if (!template) throw new NotFoundError('That template no longer exists.');
    const now = this.#now();
    let id = '';
    for (let attempt = 0; !id; attempt++) {
      const candidate = shortId();
      try {
        await this.#models.ScheduleState.create({
          _id: candidate,
          template: template._id,
          workspace: template.workspace,
          createdAt: now,
        });
        id = candidate;
      } catch (error) {
        if (!isDuplicateKeyError(error) || attempt > 20) throw error;
      }
    }
    const schedule: TemplateSchedule = {
      _id: id,
      cron: input.cron,
      timeZone: input.timeZone,
      summary: input.summary,
      target: input.target,
      channelName: input.channelName ?? null,
      enabled: true,
      parameterValues: input.parameterValues,
      createdBy: actor.key,
      createdAt: now,
      activeSince: now,
      pausedReason: null,
    };
    const updated = await this.#writeSchedules(template._id, (list) => [...list, schedule]);
    await this.audit({
      action: 'schedule.create',
      actor: actor.key,
      workspace: template.workspace,
      thread: actor.thread ?? null,
      sql: template.sql,
      target: scheduleTarget(id),
      detail: {
        template: template.name,
        cron: input.cron,
        timeZone: input.timeZone,
        channel: input.target.channel,
      },
    });
    return { template: updated, schedule, state: null };
  }

  /**
   * Pauses or resumes a schedule. People need to own it (or the template) or be an admin; the scheduler pauses
   * with `actor.key = 'system'` after repeated failures. Resuming resets activeSince, so paused ticks are not caught up.
   */
  async setScheduleEnabled(
    scheduleId: string,
    enabled: boolean,
    actor: Actor,
    reason: string | null = null,
  ): Promise<ScheduleView> {
    const view = await this.getSchedule(scheduleId);
    if (actor.key !== 'system') {
      this.#mayManage(
        actor,
        [view.schedule.createdBy, view.template.createdBy],
        `${enabled ? 'resume' : 'pause'} schedule ${scheduleId}`,
      );
    }
    const now = this.#now();
    const template = await this.#writeSchedules(view.template._id, (list) =>
      list.map((s) =>
        s._id !== scheduleId
          ? s
          : {
              ...s,
              enabled,
              pausedReason: enabled ? null : (reason ?? `paused by ${actor.key}`),
              ...(enabled && !s.enabled ? { activeSince: now } : {}),
            },
      ),
    );
    if (enabled)
      await this.#models.ScheduleState.updateOne({ _id: scheduleId }, { $set: { consecutiveFailures: 0 } });
    const schedule = template.schedules.find((s) => s._id === scheduleId)!;
    await this.audit({
      action: enabled ? 'schedule.resume' : 'schedule.pause',
      actor: actor.key,
      workspace: template.workspace,
      thread: actor.thread ?? null,
      target: scheduleTarget(scheduleId),
      detail: { template: template.name, ...(reason ? { reason } : {}) },
    });
    return { template, schedule, state: view.state };
  }

  /** Removes a schedule (owner or admin). */
  async removeSchedule(scheduleId: string, actor: Actor): Promise<ScheduleView> {
    const view = await this.getSchedule(scheduleId);
    this.#mayManage(
      actor,
      [view.schedule.createdBy, view.template.createdBy],
      `remove schedule ${scheduleId}`,
    );
    const template = await this.#writeSchedules(view.template._id, (list) =>
      list.filter((s) => s._id !== scheduleId),
    );
    await this.#models.ScheduleState.deleteOne({ _id: scheduleId });
    await this.audit({
      action: 'schedule.delete',
      actor: actor.key,
      workspace: template.workspace,
      thread: actor.thread ?? null,
      target: scheduleTarget(scheduleId),
      detail: { template: template.name },
    });
    return { ...view, template };
  }

  /** A schedule by id (an `_id` lookup of its state, then of its template), or undefined. */
  async findSchedule(scheduleId: string): Promise<ScheduleView | undefined> {
    const id = scheduleId.trim().toLowerCase();
    const state = await this.#models.ScheduleState.findById(id).lean<ScheduleStateFields>();
    if (!state) return undefined;
    const template = await this.byId(state.template);
    const schedule = template?.schedules.find((s) => s._id === id);
    return template && schedule ? { template, schedule, state } : undefined;
  }

  /** A schedule by id; NotFoundError when there is none. */
  async getSchedule(scheduleId: string): Promise<ScheduleView> {
    const view = await this.findSchedule(scheduleId);
    if (!view) {
      throw new NotFoundError(`There is no schedule "${scheduleId}".`, {
        hint: 'Type `schedules` to list them.',
      });
    }
    return view;
  }

  /** Every schedule of a workspace (or of all workspaces), with template and state, oldest first. */
  async listSchedules(workspace?: string): Promise<ScheduleView[]> {
    const states = await this.#models.ScheduleState.find(workspace ? { workspace } : {}).lean<
      ScheduleStateFields[]
    >();
    const templates = new Map<string, QueryTemplateFields | undefined>();
    const views: ScheduleView[] = [];
    for (const state of states) {
      const key = String(state.template);
      if (!templates.has(key)) templates.set(key, await this.byId(state.template));
      const template = templates.get(key);
      const schedule = template?.schedules.find((s) => s._id === state._id);
      if (template && schedule) views.push({ template, schedule, state });
    }
    return views.sort((a, b) => a.schedule.createdAt.getTime() - b.schedule.createdAt.getTime());
  }

  /**
   * Sets `archivedAt` on a template (the archive sweep), under its lock, unless it was used after `idleBefore`
   * meanwhile; returns the archived template, or undefined when it was not archived.
   */
  async archive(
    templateId: Types.ObjectId,
    at: Date,
    idleBefore: Date,
  ): Promise<QueryTemplateFields | undefined> {
    return this.#lock.with(String(templateId), async () => {
      const current = await this.#models.QueryTemplate.findById(templateId, { lastUsedAt: 1 }).lean<
        Pick<QueryTemplateFields, 'lastUsedAt'>
      >();
      if (!current || (current.lastUsedAt && current.lastUsedAt >= idleBefore)) return undefined;
      const updated = await this.#models.QueryTemplate.findOneAndUpdate(
        { _id: templateId },
        { $set: { archivedAt: at } },
        { returnDocument: 'after' },
      ).lean<QueryTemplateFields>();
      if (updated) await this.#index.put(updated.workspace, updated);
      return updated ?? undefined;
    });
  }

  /** Read-modify-write of a template's schedules, serialised by the template lock. */
  async #writeSchedules(
    templateId: Types.ObjectId,
    change: (list: TemplateSchedule[]) => TemplateSchedule[],
  ): Promise<QueryTemplateFields> {
    return this.#lock.with(String(templateId), async () => {
      const current = await this.#models.QueryTemplate.findById(templateId, { schedules: 1 }).lean<
        Pick<QueryTemplateFields, 'schedules'>
      >();
      if (!current) throw new NotFoundError('That template no longer exists.');
      const updated = await this.#models.QueryTemplate.findOneAndUpdate(
        { _id: templateId },
        { $set: { schedules: change(current.schedules ?? []) } },
        { returnDocument: 'after', runValidators: true },
      ).lean<QueryTemplateFields>();
      if (!updated) throw new NotFoundError('That template no longer exists.');
      await this.#index.put(updated.workspace, updated);
      return updated;
    });
  }

  #mayManage(actor: Actor, owners: (string | null)[], what: string): void {
    if (actor.admin || owners.includes(actor.key)) return;
    throw new PermissionError(`Only its owner or an admin can ${what}.`, {
      detail: { actor: actor.key },
    });
  }
}

/** 8 lower-case letters and digits, e.g. `k3x9p2ab`. */
function shortId(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  return [...randomBytes(8)].map((b) => alphabet[b % alphabet.length]).join('');
}
