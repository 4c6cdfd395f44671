/**
 * What a finished scheduled run leaves behind: its ScheduleRun, the schedule's ScheduleState and failure streak,
 * the run in the template's session history, one TemplateUse on success, and an AuditEvent.
 */
import type { Models } from '../../models/create-models.ts';
import { appendHistory } from '../../models/query-history.ts';
import type { QueryTemplateFields, TemplateSchedule } from '../../models/query-template.ts';
import { scheduleRunKey, type RunStatus } from '../../models/schedule-run.ts';
import type { Logger } from '../logger.ts';
import type { FailureCounter } from './failure-counter.ts';
import { describeFailure } from './final-failure.ts';
import type { TemplateLock } from './template-lock.ts';
import type { TemplateSearchIndex } from './template-search-index.ts';
import type { TemplateStore } from './template-store.ts';
import { recordTemplateUse } from './template-usage.ts';

export interface ScheduleRunRecordsDeps {
  store: TemplateStore;
  models: Models;
  lock: TemplateLock;
  index: TemplateSearchIndex;
  failures: FailureCounter;
  now: () => Date;
  logger: Logger;
}

/** Writes the records of scheduled runs that succeeded or failed for good. */
export class ScheduleRunRecords {
  readonly #deps: ScheduleRunRecordsDeps;

  constructor(deps: ScheduleRunRecordsDeps) {
    this.#deps = deps;
  }

  /** Records a posted report; the failure streak starts over. */
  async succeeded(
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

  /** Records a run that failed (or was refused) for good; returns the failures in a row, this one included. */
  async failed(
    template: QueryTemplateFields,
    schedule: TemplateSchedule,
    tick: number,
    status: Extract<RunStatus, 'failed' | 'refused'>,
    error: unknown,
    reason: string,
    now: Date,
  ): Promise<number> {
    const { models, failures, store } = this.#deps;
    await models.ScheduleRun.updateOne(
      { _id: scheduleRunKey(schedule._id, tick) },
      { $set: { status, finishedAt: this.#deps.now(), error: describeFailure(error).slice(0, 2000) } },
    );
    const count = await failures.increment(schedule._id);
    await this.#state(schedule._id, tick, status, now, reason, count);
    await this.#bookkeeping(template, schedule, tick, 'error', now, { error: reason });
    await store.audit({
      action: status === 'refused' ? 'schedule.refused' : 'schedule.run_failed',
      actor: `schedule:${schedule._id}`,
      outcome: status === 'refused' ? 'denied' : 'failure',
      workspace: template.workspace,
      sql: template.sql,
      target: `Schedule:${schedule._id}`,
      detail: {
        template: template.name,
        tick: new Date(tick).toISOString(),
        error: describeFailure(error),
        failures: count,
      },
    });
    return count;
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
