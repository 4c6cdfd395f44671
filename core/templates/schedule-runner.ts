/**
 * One tick of one schedule, independent of the queue that delivers it: claim the tick (a unique ScheduleRun
 * insert, so one report per tick however many replicas or jobs reach it), classify the statement again, run it
 * with its bound values, post the report through the ReportSink, and record the run (ScheduleRun, ScheduleState,
 * QueryHistory in the template's session, TemplateUse, AuditEvent). Failures: the queue retries a retryable one;
 * the last attempt tells the channel and the owner; `maxFailures` failures in a row pause the schedule.
 * The clock is injected; nothing here reads the wall clock.
 */
import type { Models } from '../../models/create-models.ts';
import type { QueryTemplateFields, TemplateSchedule } from '../../models/query-template.ts';
import { appendHistory } from '../../models/query-history.ts';
import { scheduleRunKey, type RunStatus, type ScheduleRunFields } from '../../models/schedule-run.ts';
import { isDuplicateKeyError } from '../../models/state-machine.ts';
import type { Limits } from '../../config/config-file.ts';
import type { ChannelRef, FileAttachment } from '../conversation/chat-platform.ts';
import type { ConnectionProvider, ResultRenderers } from '../conversation/engine-ports.ts';
import { ThreadqlError, toUserMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { bindTemplate } from './bind-template.ts';
import {
  channelFailureReply,
  ownerFailureReply,
  pausedReply,
  reportReply,
  type ReportContext,
} from './compose-report.ts';
import { resolveParameterValues, type ParameterValue } from './parameter-values.ts';
import type { ReportSink } from './report-sink.ts';
import { latestDueTick } from './run-times.ts';
import type { FailureCounter } from './failure-counter.ts';
import type { TemplateLock } from './template-lock.ts';
import type { TemplateSearchIndex } from './template-search-index.ts';
import type { TemplateStore } from './template-store.ts';
import { recordTemplateUse } from './template-usage.ts';

/** A tick as the queue hands it over. */
export interface TickJob {
  scheduleId: string;
  /** The tick (ms since epoch) the job was made for. */
  tick: number;
  /** The queue's job id: holds the claim across retries. */
  jobId: string;
  /** Attempts already made (0 on the first). */
  attemptsMade: number;
  /** Attempts the queue allows in total. */
  maxAttempts: number;
}

export type TickOutcome =
  | { kind: 'posted'; tick: number; late: boolean; rows: number }
  /** Another job or replica holds this tick. */
  | { kind: 'duplicate'; tick: number }
  /** The schedule is gone or paused, or the tick predates it: nothing to do (drop the job scheduler if gone). */
  | { kind: 'skipped'; tick: number; reason: 'gone' | 'paused' | 'before-active' }
  /** Failed for good (last attempt, or not worth retrying); `paused` when it paused the schedule. */
  | { kind: 'failed'; tick: number; paused: boolean; reason: string };

/** Thrown for a failure the queue should retry (with backoff); carries the tick the retry must keep. */
export class RetryTick extends ThreadqlError {
  readonly tick: number;
  constructor(tick: number, cause: unknown) {
    super('internal', `scheduled run failed, will retry: ${toUserMessage(cause)}`, { cause });
    this.tick = tick;
  }
}

/** A failure that retrying cannot fix (no longer a read, channel no longer allowed, template broken). */
class FinalFailure extends ThreadqlError {}

export interface ScheduleRunnerDeps {
  store: TemplateStore;
  models: Models;
  lock: TemplateLock;
  index: TemplateSearchIndex;
  connections: Pick<ConnectionProvider, 'resolveByName' | 'classify' | 'allowedFor'>;
  renderers: Pick<ResultRenderers, 'csv' | 'chart'>;
  sink: ReportSink;
  failures: FailureCounter;
  limits: Limits;
  /** Consecutive failures before a schedule pauses itself (schedules.maxFailures). */
  maxFailures: number;
  /** A run starting this long after its tick is marked late. Default 60 s. */
  lateAfterMs?: number;
  /**
   * Checked before each run: why a report of `connectionName` may not go into `channel` now (the bot was removed,
   * the channel went public for a sensitive connection), or undefined when it may.
   */
  reportCheck?: (connectionName: string, channel: ChannelRef) => Promise<string | undefined>;
  now: () => Date;
  logger: Logger;
}

export class ScheduleRunner {
  readonly #deps: ScheduleRunnerDeps;

  constructor(deps: ScheduleRunnerDeps) {
    this.#deps = deps;
  }

  /** Runs one tick; throws RetryTick when the queue should try again. */
  async run(job: TickJob): Promise<TickOutcome> {
    const { store, models } = this.#deps;
    const now = this.#deps.now();
    const view = await store.findSchedule(job.scheduleId);
    if (!view) return { kind: 'skipped', tick: job.tick, reason: 'gone' };
    const { template, schedule } = view;
    if (!schedule.enabled) return { kind: 'skipped', tick: job.tick, reason: 'paused' };

    let tick = job.tick;
    if (job.attemptsMade === 0) {
      // A job delivered after newer ticks have passed (every replica was down): it stands for the newest due
      // tick, once, marked late; the ticks in between are not repeated.
      const due = latestDueTick(schedule.cron, schedule.timeZone, now)?.getTime();
      if (due !== undefined && due > tick) tick = due;
    }
    if (tick <= schedule.activeSince.getTime()) return { kind: 'skipped', tick, reason: 'before-active' };
    const late = now.getTime() - tick > (this.#deps.lateAfterMs ?? 60_000);
    const claim = await this.#claim(job, template, schedule, tick, late, now);
    if (!claim) return { kind: 'duplicate', tick };

    const context: ReportContext = {
      templateName: template.name,
      question: template.question,
      scheduleId: schedule._id,
      summary: schedule.summary || schedule.cron,
      channelName: schedule.channelName,
      connectionName: template.connectionName,
      tick: new Date(tick),
      timeZone: schedule.timeZone,
      values: {},
    };
    let outcome: { rows: number; durationMs: number };
    try {
      const values = this.#values(template, schedule);
      context.values = values;
      outcome = await this.#execute(template, schedule, context, values, claim.late, now);
    } catch (error) {
      const final = error instanceof FinalFailure || job.attemptsMade + 1 >= job.maxAttempts;
      await models.ScheduleRun.updateOne(
        { _id: claim._id },
        { $set: { attempts: job.attemptsMade + 1, error: describe(error).slice(0, 2000) } },
      );
      if (!final) throw new RetryTick(tick, error);
      return this.#failed(template, schedule, context, error, now);
    }
    try {
      await this.#succeeded(template, schedule, tick, outcome, now);
    } catch (error) {
      // The report is out: failing now would retry the tick and post it twice.
      this.#deps.logger.warn({ err: error, schedule: schedule._id }, 'could not record a posted report');
    }
    return { kind: 'posted', tick, late: claim.late, rows: outcome.rows };
  }

  /** Inserts the claim; an existing claim is ours only when the same job (a retry) made it. */
  async #claim(
    job: TickJob,
    template: QueryTemplateFields,
    schedule: TemplateSchedule,
    tick: number,
    late: boolean,
    now: Date,
  ): Promise<ScheduleRunFields | undefined> {
    const { ScheduleRun } = this.#deps.models;
    const _id = scheduleRunKey(schedule._id, tick);
    try {
      const doc = await ScheduleRun.create({
        _id,
        schedule: schedule._id,
        template: template._id,
        workspace: template.workspace,
        tick: new Date(tick),
        late,
        claimedBy: job.jobId,
        status: 'running',
        startedAt: now,
      });
      return doc.toObject() as ScheduleRunFields;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const existing = await ScheduleRun.findById(_id).lean<ScheduleRunFields>();
      return existing && existing.claimedBy === job.jobId && existing.status === 'running'
        ? existing
        : undefined;
    }
  }

  /** The schedule's values over the template's defaults, checked against the definitions as they are now. */
  #values(template: QueryTemplateFields, schedule: TemplateSchedule): Record<string, ParameterValue> {
    try {
      return resolveParameterValues(template.parameters, schedule.parameterValues ?? {});
    } catch (error) {
      throw new FinalFailure(
        'validation_failed',
        `the schedule's parameter values no longer fit: ${toUserMessage(error)}`,
      );
    }
  }

  async #execute(
    template: QueryTemplateFields,
    schedule: TemplateSchedule,
    context: ReportContext,
    values: Record<string, ParameterValue>,
    late: boolean,
    now: Date,
  ): Promise<{ rows: number; durationMs: number }> {
    const { connections, renderers, limits, sink } = this.#deps;
    const channel: ChannelRef = schedule.target;
    const allowed = connections.allowedFor({ ...channel, thread: '' });
    if (!allowed.some((name) => name.toLowerCase() === template.connectionName.toLowerCase())) {
      throw new FinalFailure(
        'connection_not_allowed',
        `the channel may no longer use the connection "${template.connectionName}" (threadql.yml channel bindings).`,
      );
    }
    const refusal = await this.#deps.reportCheck?.(template.connectionName, channel);
    if (refusal) throw new FinalFailure('permission_denied', refusal);
    const bound = await bindTemplate(template.databaseType, template.sql, template.parameters, values);
    // Classified again at every run: the classifier (or the template) may have changed since it was saved.
    const verdict = await connections.classify(template.connectionName, bound.query);
    if (verdict.verdict !== 'read' || verdict.statements.length !== 1) {
      throw new FinalFailure(
        'needs_approval',
        `the statement is now classified as ${verdict.verdict}, so it was not run (${verdict.reasons.join('; ') || 'not a single read'}).`,
      );
    }
    const { driver } = await connections.resolveByName(template.connectionName);
    const result = await driver.executeRead(bound.query, {
      timeoutMs: limits.statementTimeoutMs,
      maxRows: limits.maxRows,
      params: bound.params,
    });
    const base = `${template.name}-${new Date(context.tick).toISOString().slice(0, 16).replace(/[:T]/g, '-')}`;
    // A capped result is streamed again in full for the CSV, like a thread's result.
    const csv = await renderers.csv(
      result.truncated
        ? await driver.streamRead(bound.query, {
            timeoutMs: limits.statementTimeoutMs * 4,
            maxRows: Number.MAX_SAFE_INTEGER,
            params: bound.params,
          })
        : result,
      { filename: `${base}.csv`, maxBytes: limits.csvMaxBytes },
    );
    let chart: FileAttachment | undefined;
    try {
      const image = await renderers.chart(result, { title: template.question || template.name });
      if (image)
        chart = {
          filename: `${base}-chart.png`,
          mimeType: 'image/png',
          data: image.png,
          title: template.name,
        };
    } catch (error) {
      this.#deps.logger.warn(
        { err: error, template: template.name },
        'report chart failed; posting without it',
      );
    }
    await sink.postToChannel(
      channel,
      reportReply({
        ...context,
        result,
        previewRows: limits.previewRows,
        csv: csv.file,
        csvCapped: csv.capped,
        ...(chart ? { chart } : {}),
        late,
        ranAt: now,
      }),
    );
    return { rows: result.rowCount, durationMs: result.durationMs };
  }

  async #succeeded(
    template: QueryTemplateFields,
    schedule: TemplateSchedule,
    tick: number,
    outcome: { rows: number; durationMs: number },
    now: Date,
  ): Promise<void> {
    const { models, failures, store } = this.#deps;
    const finishedAt = this.#deps.now();
    // Independent records of one finished run: written together.
    await Promise.all([
      models.ScheduleRun.updateOne(
        { _id: scheduleRunKey(schedule._id, tick) },
        {
          $set: {
            status: 'success',
            finishedAt,
            rows: outcome.rows,
            durationMs: outcome.durationMs,
            error: null,
          },
        },
      ),
      failures.reset(schedule._id),
      this.#state(schedule._id, tick, 'success', now, null, 0),
      this.#bookkeeping(template, schedule, tick, 'success', now, {
        rows: outcome.rows,
        ms: outcome.durationMs,
      }),
      store.audit({
        action: 'schedule.run',
        actor: `schedule:${schedule._id}`,
        workspace: template.workspace,
        sql: template.sql,
        target: `Schedule:${schedule._id}`,
        detail: { template: template.name, tick: new Date(tick).toISOString(), rows: outcome.rows },
      }),
    ]);
  }

  async #failed(
    template: QueryTemplateFields,
    schedule: TemplateSchedule,
    context: ReportContext,
    error: unknown,
    now: Date,
  ): Promise<TickOutcome> {
    const { models, failures, store, sink, maxFailures, logger } = this.#deps;
    const tick = context.tick.getTime();
    const refused =
      error instanceof FinalFailure &&
      (error.code === 'needs_approval' ||
        error.code === 'connection_not_allowed' ||
        error.code === 'permission_denied');
    const status: RunStatus = refused ? 'refused' : 'failed';
    const reason = reasonOf(error);
    await models.ScheduleRun.updateOne(
      { _id: scheduleRunKey(schedule._id, tick) },
      { $set: { status, finishedAt: this.#deps.now(), error: describe(error).slice(0, 2000) } },
    );
    const count = await failures.increment(schedule._id);
    await this.#state(schedule._id, tick, status, now, reason, count);
    await this.#bookkeeping(template, schedule, tick, 'error', now, { error: reason });
    await store.audit({
      action: refused ? 'schedule.refused' : 'schedule.run_failed',
      actor: `schedule:${schedule._id}`,
      outcome: refused ? 'denied' : 'failure',
      workspace: template.workspace,
      sql: template.sql,
      target: `Schedule:${schedule._id}`,
      detail: {
        template: template.name,
        tick: new Date(tick).toISOString(),
        error: describe(error),
        failures: count,
      },
    });
    const owner = schedule.createdBy ?? template.createdBy;
    const tell = async (what: string, send: () => Promise<void>) => {
      try {
        await send();
        return true;
      } catch (err) {
        logger.warn({ err, schedule: schedule._id }, `could not ${what}`);
        return false;
      }
    };
    const ownerTold = owner
      ? await tell('message the schedule owner', () =>
          sink.notifyUser(owner, ownerFailureReply(context, reason, { count, max: maxFailures })),
        )
      : false;
    // A refusal is the owner's to fix; the channel hears about failures it would otherwise wonder about.
    if (!refused) {
      await tell('post the failure in the channel', () =>
        sink.postToChannel(schedule.target, channelFailureReply(context, reason, ownerTold)),
      );
    }
    if (count < maxFailures) return { kind: 'failed', tick, paused: false, reason };
    await store.setScheduleEnabled(
      schedule._id,
      false,
      { key: 'system', admin: true },
      `paused after ${count} failed runs in a row (last: ${reason})`,
    );
    const paused = pausedReply(context, count);
    await tell('post the pause in the channel', () => sink.postToChannel(schedule.target, paused));
    if (owner) await tell('tell the owner about the pause', () => sink.notifyUser(owner, paused));
    return { kind: 'failed', tick, paused: true, reason };
  }

  async #state(
    scheduleId: string,
    tick: number,
    status: RunStatus,
    now: Date,
    error: string | null,
    consecutiveFailures: number,
  ): Promise<void> {
    await this.#deps.models.ScheduleState.updateOne(
      { _id: scheduleId },
      {
        $set: {
          lastTick: new Date(tick),
          lastStatus: status,
          lastRunAt: now,
          lastError: error,
          consecutiveFailures,
        },
      },
    );
  }

  /** The run in the template's session history, and one use of the template. */
  async #bookkeeping(
    template: QueryTemplateFields,
    schedule: TemplateSchedule,
    tick: number,
    status: 'success' | 'error',
    now: Date,
    detail: { rows?: number; ms?: number; error?: string },
  ): Promise<void> {
    const { models, lock, index, logger } = this.#deps;
    try {
      if (template.session) {
        await appendHistory(
          models,
          template.session,
          {
            type: 'query',
            userInput: `scheduled report ${template.name} (${schedule.summary || schedule.cron}) for ${new Date(tick).toISOString()}`,
            generatedSql: template.sql,
            executionStatus: status,
            resultCount: detail.rows ?? null,
            executionMs: detail.ms === undefined ? null : Math.round(detail.ms),
            user: schedule.createdBy,
            connection: template.connection,
            error: detail.error?.slice(0, 2000) ?? null,
          },
          { now },
        );
      }
      if (status === 'success') {
        await recordTemplateUse({ models, lock, index }, template._id, {
          actor: `schedule:${schedule._id}`,
          via: 'schedule',
          at: now,
        });
      }
    } catch (error) {
      // The report went out; losing a history line must not turn it into a failure (and a retry, a second post).
      logger.warn({ err: error, schedule: schedule._id }, 'could not record a scheduled run in the history');
    }
  }
}

function describe(error: unknown): string {
  return error instanceof ThreadqlError ? `${error.code}: ${error.message}` : `internal: ${String(error)}`;
}

function reasonOf(error: unknown): string {
  return toUserMessage(error).split('\n')[0] ?? 'unknown error';
}
