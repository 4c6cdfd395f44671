/**
 * One tick of one schedule, independent of the queue that delivers it: claim the tick (a unique ScheduleRun
 * insert, so one report per tick however many replicas or jobs reach it), classify the statement again, run it
 * with its bound values, post the report through the ReportSink, and record the run (ScheduleRun, ScheduleState,
 * QueryHistory in the template's session, TemplateUse, AuditEvent). Failures: the queue retries a retryable one;
 * the last attempt tells the channel and the owner; `maxFailures` failures in a row pause the schedule.
 * The clock is injected; nothing here reads the wall clock. The report itself is executeReport's
 * (execute-report.ts), the records ScheduleRunRecords' (schedule-run-records.ts).
 */
import type { QueryTemplateFields, TemplateSchedule } from '../../models/query-template.ts';
import { scheduleRunKey, type ScheduleRunFields } from '../../models/schedule-run.ts';
import { isDuplicateKeyError } from '../../models/state-machine.ts';
import { ThreadqlError, toUserMessage } from '../errors.ts';
import { channelFailureReply, ownerFailureReply, pausedReply, type ReportContext } from './compose-report.ts';
import { executeReport, type ExecuteReportDeps } from './execute-report.ts';
import { FinalFailure, describeFailure } from './final-failure.ts';
import { resolveParameterValues, type ParameterValue } from './parameter-values.ts';
import { latestDueTick } from './run-times.ts';
import { ScheduleRunRecords, type ScheduleRunRecordsDeps } from './schedule-run-records.ts';

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

export interface ScheduleRunnerDeps extends ExecuteReportDeps, ScheduleRunRecordsDeps {
  /** Consecutive failures before a schedule pauses itself (schedules.maxFailures). */
  maxFailures: number;
  /** A run starting this long after its tick is marked late. Default 60 s. */
  lateAfterMs?: number;
}

export class ScheduleRunner {
  readonly #deps: ScheduleRunnerDeps;
  readonly #records: ScheduleRunRecords;

  constructor(deps: ScheduleRunnerDeps) {
    this.#deps = deps;
    this.#records = new ScheduleRunRecords(deps);
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
      outcome = await executeReport(this.#deps, {
        template,
        schedule,
        context,
        values,
        late: claim.late,
        now,
      });
    } catch (error) {
      const final = error instanceof FinalFailure || job.attemptsMade + 1 >= job.maxAttempts;
      await models.ScheduleRun.updateOne(
        { _id: claim._id },
        { $set: { attempts: job.attemptsMade + 1, error: describeFailure(error).slice(0, 2000) } },
      );
      if (!final) throw new RetryTick(tick, error);
      return this.#failed(template, schedule, context, error, now);
    }
    try {
      await this.#records.succeeded(template, schedule, tick, outcome, now);
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

  /** Records a final failure, tells the owner and the channel, and pauses the schedule after maxFailures. */
  async #failed(
    template: QueryTemplateFields,
    schedule: TemplateSchedule,
    context: ReportContext,
    error: unknown,
    now: Date,
  ): Promise<TickOutcome> {
    const { store, sink, maxFailures, logger } = this.#deps;
    const tick = context.tick.getTime();
    const refused =
      error instanceof FinalFailure &&
      (error.code === 'needs_approval' ||
        error.code === 'connection_not_allowed' ||
        error.code === 'permission_denied');
    const reason = reasonOf(error);
    const count = await this.#records.failed(
      template,
      schedule,
      tick,
      refused ? 'refused' : 'failed',
      error,
      reason,
      now,
    );
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
}

function reasonOf(error: unknown): string {
  return toUserMessage(error).split('\n')[0] ?? 'unknown error';
}
