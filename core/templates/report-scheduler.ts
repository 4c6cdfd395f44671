/**
 * The schedule queue: BullMQ job schedulers on Redis, one worker per replica and platform. MongoDB holds the
 * schedules (on their QueryTemplate); Redis only the queue, so at start-up every replica reconciles BullMQ with
 * MongoDB (adds what is missing, drops what is gone) and queues one catch-up run per schedule whose latest tick
 * went unrun while no replica was up. A flushed Redis therefore loses no schedule. Each tick becomes one job; the
 * runner's claim makes it one report however many replicas (or jobs) reach it.
 *
 * Reports of each platform have a queue of their own, worked only by replicas that run that platform: a replica
 * serving Discord alone never takes a Slack report it could not deliver (and never counts that as a failure).
 */
import { EventEmitter } from 'node:events';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { PlatformName } from '../conversation/chat-platform.ts';
import { scheduleRunKey } from '../../models/schedule-run.ts';
import { PLATFORMS } from '../../models/thread-ref-schema.ts';
import type { Logger } from '../logger.ts';
import type { FailureCounter } from './failure-counter.ts';
import { latestDueTick } from './run-times.ts';
import { RetryTick, type ScheduleRunner, type TickOutcome } from './schedule-runner.ts';
import type { ScheduleView, TemplateStore } from './template-store.ts';

export interface ReportSchedulerOptions {
  /** Redis URL for BullMQ's own connections (blocking worker reads need `maxRetriesPerRequest: null`, set here). */
  redisUrl: string;
  /** BullMQ key prefix; tests use their own. Default `threadql:bull`. */
  prefix?: string;
  /** Queue names are `<queueName>-<platform>` and `<queueName>-maintenance`. Default `threadql-reports`. */
  queueName?: string;
  /** Ticks processed at once per platform by this replica. Default 4. */
  concurrency?: number;
  /** Attempts per tick (first run + retries). Default 3. */
  attempts?: number;
  /** First retry delay; doubles each retry. Default 30 s. */
  backoffMs?: number;
  /** Start workers (default true); false gives a replica that only keeps the queue in step with MongoDB. */
  work?: boolean;
  /** Daily housekeeping (the template archive sweep), run once a day by whichever replica takes the job. */
  maintenance?: () => Promise<unknown>;
  now: () => Date;
  logger: Logger;
}

interface TickData {
  scheduleId: string;
  /** Set for catch-up jobs and after a retry adopted a newer tick; job-scheduler jobs carry it in their id. */
  tick?: number;
}

const SCHEDULER_PREFIX = 'report-';
const MAINTENANCE_ID = 'maintenance-daily';

/** The BullMQ job scheduler id of a schedule. */
export function jobSchedulerId(scheduleId: string): string {
  return `${SCHEDULER_PREFIX}${scheduleId}`;
}

/** The tick a job stands for: its data, else the scheduler's `repeat:<id>:<ms>` job id. */
function tickOf(job: Job<TickData>): number {
  if (typeof job.data.tick === 'number') return job.data.tick;
  const fromOpts = (job.opts as { prevMillis?: number }).prevMillis;
  if (typeof fromOpts === 'number') return fromOpts;
  return Number(String(job.id).split(':').at(-1));
}

type QueueKey = PlatformName | 'maintenance';

export class ReportScheduler extends EventEmitter<{
  /** Every tick handled by this replica's workers: the outcome and the schedule id. */
  outcome: [TickOutcome, string];
  error: [unknown];
}> {
  readonly #runner: ScheduleRunner;
  readonly #store: TemplateStore;
  readonly #failures: FailureCounter;
  readonly #options: ReportSchedulerOptions;
  readonly #queues = new Map<QueueKey, Queue<TickData>>();
  readonly #connections: Redis[] = [];
  readonly #workers: Worker<TickData>[] = [];

  constructor(
    runner: ScheduleRunner,
    store: TemplateStore,
    failures: FailureCounter,
    options: ReportSchedulerOptions,
  ) {
    super();
    this.#runner = runner;
    this.#store = store;
    this.#failures = failures;
    this.#options = options;
  }

  /**
   * Reconciles with MongoDB, queues catch-ups, then works the reports of `platforms` (the ones this replica
   * delivers to) and the daily maintenance. Without platforms the replica only keeps the queue in step.
   */
  async start(
    platforms: readonly PlatformName[] = PLATFORMS,
  ): Promise<{ upserted: number; removed: number; caughtUp: number }> {
    const summary = await this.reconcile();
    if (this.#options.maintenance) {
      await this.#queue('maintenance').upsertJobScheduler(
        MAINTENANCE_ID,
        { pattern: '17 3 * * *', tz: 'UTC' },
        {
          name: 'maintenance',
          data: { scheduleId: '' },
          opts: { removeOnComplete: { count: 10 }, removeOnFail: { count: 10 } },
        },
      );
    }
    const worked: QueueKey[] =
      this.#options.work === false
        ? []
        : [...new Set(platforms), ...(this.#options.maintenance ? ['maintenance' as const] : [])];
    for (const key of worked) {
      if (this.#workers.some((w) => w.name === this.#queue(key).name)) continue;
      const worker = new Worker<TickData>(this.#queue(key).name, (job) => this.#process(job), {
        connection: this.#connect(),
        prefix: this.#options.prefix ?? 'threadql:bull',
        concurrency: key === 'maintenance' ? 1 : (this.#options.concurrency ?? 4),
      });
      worker.on('error', (error) => this.emit('error', error));
      await worker.waitUntilReady();
      this.#workers.push(worker);
    }
    return summary;
  }

  /**
   * Makes BullMQ match MongoDB: a job scheduler per enabled schedule in its platform's queue (added, or updated
   * when its cron or zone changed), none for anything else; then one catch-up job per schedule whose latest tick
   * has no run.
   */
  async reconcile(): Promise<{ upserted: number; removed: number; caughtUp: number }> {
    const views = (await this.#store.listSchedules()).filter((v) => v.schedule.enabled);
    let removed = 0;
    let upserted = 0;
    for (const platform of PLATFORMS) {
      const wanted = new Map(
        views
          .filter((v) => v.schedule.target.platform === platform)
          .map((v) => [jobSchedulerId(v.schedule._id), v]),
      );
      const queue = this.#queue(platform);
      const existing = await queue.getJobSchedulers();
      for (const scheduler of existing) {
        if (scheduler.key.startsWith(SCHEDULER_PREFIX) && !wanted.has(scheduler.key)) {
          await queue.removeJobScheduler(scheduler.key);
          removed += 1;
        }
      }
      const current = new Map(existing.map((s) => [s.key, s]));
      for (const [id, view] of wanted) {
        const have = current.get(id);
        if (have && have.pattern === view.schedule.cron && have.tz === view.schedule.timeZone) continue;
        await this.#upsert(view);
        upserted += 1;
      }
    }
    let caughtUp = 0;
    for (const view of views) if (await this.#catchUp(view)) caughtUp += 1;
    return { upserted, removed, caughtUp };
  }

  /** After a schedule changed in MongoDB: adds, updates or removes its job scheduler to match. */
  async sync(scheduleId: string): Promise<void> {
    const view = await this.#store.findSchedule(scheduleId);
    if (view?.schedule.enabled) {
      await this.#upsert(view);
      await this.#failures.reset(scheduleId);
      return;
    }
    // Gone (or paused): whichever queue held it lets it go.
    for (const platform of PLATFORMS)
      await this.#queue(platform).removeJobScheduler(jobSchedulerId(scheduleId));
  }

  /** Queues a run of one tick (catch-ups; tests drive ticks with it). The job id makes it once per tick. */
  async enqueueTick(scheduleId: string, tick: Date): Promise<void> {
    const view = await this.#store.findSchedule(scheduleId);
    if (!view) return;
    await this.#queue(view.schedule.target.platform).add(
      'report',
      { scheduleId, tick: tick.getTime() },
      { jobId: `catchup-${scheduleId}-${tick.getTime()}`, ...this.#jobOptions() },
    );
  }

  /** The job schedulers BullMQ holds, every queue (for listings and tests). */
  async jobSchedulers() {
    const all = [];
    for (const key of [...PLATFORMS, 'maintenance' as const])
      all.push(...(await this.#queue(key).getJobSchedulers()));
    return all;
  }

  /** Stops the workers (letting running ticks finish) and closes the queues; start() may be called again. */
  async close(): Promise<void> {
    for (const worker of this.#workers.splice(0)) await worker.close();
    for (const queue of this.#queues.values()) await queue.close();
    this.#queues.clear();
    // disconnect, not quit: a blocking read (BullMQ waits up to 5 s for jobs) would hold quit() until it returns.
    for (const redis of this.#connections.splice(0)) redis.disconnect();
  }

  /** A queue, opened on first use. */
  #queue(key: QueueKey): Queue<TickData> {
    let queue = this.#queues.get(key);
    if (!queue) {
      queue = new Queue<TickData>(`${this.#options.queueName ?? 'threadql-reports'}-${key}`, {
        connection: this.#connect(),
        prefix: this.#options.prefix ?? 'threadql:bull',
      });
      queue.on('error', (error) => this.#options.logger.warn({ err: error }, 'report queue error'));
      this.#queues.set(key, queue);
    }
    return queue;
  }

  #connect(): Redis {
    const redis = new Redis(this.#options.redisUrl, { maxRetriesPerRequest: null });
    redis.on('error', (error) => this.#options.logger.warn({ err: error }, 'report queue Redis error'));
    this.#connections.push(redis);
    return redis;
  }

  #jobOptions() {
    return {
      attempts: this.#options.attempts ?? 3,
      backoff: { type: 'exponential' as const, delay: this.#options.backoffMs ?? 30_000 },
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
    };
  }

  async #upsert(view: ScheduleView): Promise<void> {
    await this.#queue(view.schedule.target.platform).upsertJobScheduler(
      jobSchedulerId(view.schedule._id),
      { pattern: view.schedule.cron, tz: view.schedule.timeZone },
      { name: 'report', data: { scheduleId: view.schedule._id }, opts: this.#jobOptions() },
    );
  }

  /** Queues the latest due tick when it has no run and falls after the schedule became active. */
  async #catchUp(view: ScheduleView): Promise<boolean> {
    const { schedule } = view;
    const tick = latestDueTick(schedule.cron, schedule.timeZone, this.#options.now());
    // A tick at or before the moment the schedule was created (or resumed) is not owed.
    if (!tick || tick <= schedule.activeSince) return false;
    if (await this.#store.models.ScheduleRun.exists({ _id: scheduleRunKey(schedule._id, tick) }))
      return false;
    await this.enqueueTick(schedule._id, tick);
    return true;
  }

  async #process(job: Job<TickData>): Promise<TickOutcome | undefined> {
    if (job.name === 'maintenance') {
      await this.#options.maintenance?.();
      return undefined;
    }
    const tick = tickOf(job);
    try {
      const outcome = await this.#runner.run({
        scheduleId: job.data.scheduleId,
        tick,
        jobId: String(job.id),
        attemptsMade: job.attemptsMade,
        maxAttempts: job.opts.attempts ?? 1,
      });
      if (
        (outcome.kind === 'skipped' && outcome.reason === 'gone') ||
        (outcome.kind === 'failed' && outcome.paused)
      ) {
        await this.sync(job.data.scheduleId);
      }
      this.emit('outcome', outcome, job.data.scheduleId);
      return outcome;
    } catch (error) {
      // A retry keeps the tick this attempt claimed (a late job may have adopted a newer one).
      if (error instanceof RetryTick && error.tick !== tick)
        await job.updateData({ ...job.data, tick: error.tick });
      this.#options.logger.warn(
        { err: error, schedule: job.data.scheduleId },
        'scheduled run failed; retrying',
      );
      throw error;
    }
  }
}
