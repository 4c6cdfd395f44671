/**
 * Wires the template feature from its parts: the store (MongoDB), the search index, lock and failure counter
 * (Redis), the tick runner and the BullMQ scheduler. One call for bot/create-threadql.ts, tests and benches.
 */
import type { Redis } from 'ioredis';
import type { Limits, SchedulesConfig } from '../../config/config-file.ts';
import type { Models } from '../../models/create-models.ts';
import type { ConnectionProvider, ResultRenderers } from '../conversation/engine-ports.ts';
import { toUserMessage } from '../errors.ts';
import type { ChannelInfo } from '../conversation/chat-platform.ts';
import type { ScheduledReportCheck } from '../governance/check-scheduled-report.ts';
import type { Logger } from '../logger.ts';
import { archiveUnusedTemplates } from './archive-unused-templates.ts';
import { FailureCounter } from './failure-counter.ts';
import type { ReportSink } from './report-sink.ts';
import { ReportScheduler } from './report-scheduler.ts';
import { ScheduleRunner } from './schedule-runner.ts';
import { TemplateLock } from './template-lock.ts';
import { TemplateSearchIndex } from './template-search-index.ts';
import { TemplateStore } from './template-store.ts';

export interface TemplateServicesOptions {
  models: Models;
  /** The app's Redis (index, lock, failure streaks). */
  redis: Redis;
  /** The same Redis as a URL, for BullMQ's own connections. */
  redisUrl: string;
  /** Prefix of every Redis key the feature writes; tests use their own. Default `threadql:`. */
  prefix?: string;
  connections: Pick<ConnectionProvider, 'resolveByName' | 'classify' | 'allowedFor'>;
  renderers: Pick<ResultRenderers, 'csv' | 'chart'>;
  sink: ReportSink;
  limits: Limits;
  schedules: SchedulesConfig;
  scheduler?: {
    attempts?: number;
    backoffMs?: number;
    concurrency?: number;
    lateAfterMs?: number;
    /** False: no workers in this process (it only keeps the queue in step). */
    work?: boolean;
  };
  /** The governance check before each report (Governance.checkScheduledReport): may this audience get it? */
  checkReport?: (
    connectionName: string,
    channel: Pick<ChannelInfo, 'audience' | 'name'> | undefined,
  ) => ScheduledReportCheck;
  now?: () => Date;
  logger: Logger;
}

export interface TemplateServices {
  store: TemplateStore;
  index: TemplateSearchIndex;
  lock: TemplateLock;
  failures: FailureCounter;
  runner: ScheduleRunner;
  scheduler: ReportScheduler;
  /** Defaults from threadql.yml `schedules`. */
  schedules: SchedulesConfig;
  /** The prefix of every Redis key the feature writes. */
  prefix: string;
}

/** Builds the services; call `scheduler.start()` to reconcile and begin working, `scheduler.close()` to stop. */
export function createTemplateServices(options: TemplateServicesOptions): TemplateServices {
  const prefix = options.prefix ?? 'threadql:';
  const now = options.now ?? (() => new Date());
  const lock = new TemplateLock(options.redis, { prefix });
  const index = new TemplateSearchIndex(options.redis, options.models.QueryTemplate, { prefix, now });
  const store = new TemplateStore({ models: options.models, lock, index, now });
  const failures = new FailureCounter(options.redis, prefix);
  const runner = new ScheduleRunner({
    store,
    models: options.models,
    lock,
    index,
    connections: options.connections,
    renderers: options.renderers,
    sink: options.sink,
    failures,
    limits: options.limits,
    maxFailures: options.schedules.maxFailures,
    ...(options.scheduler?.lateAfterMs !== undefined ? { lateAfterMs: options.scheduler.lateAfterMs } : {}),
    // Before each report: the bot may still post there, and the connection's governance allows its audience.
    reportCheck: async (connectionName, channel) => {
      const info = await options.sink.describeChannel?.(channel);
      if (info && !info.canPost) return info.problem ?? 'I can no longer post in that channel.';
      const check = options.checkReport?.(connectionName, info) ?? { allowed: true as const };
      return check.allowed ? undefined : toUserMessage(check.error);
    },
    now,
    logger: options.logger,
  });
  const scheduler = new ReportScheduler(runner, store, failures, {
    redisUrl: options.redisUrl,
    prefix: `${prefix}bull`,
    ...options.scheduler,
    maintenance: () => archiveUnusedTemplates(store, options.models, now()),
    now,
    logger: options.logger,
  });
  return { store, index, lock, failures, runner, scheduler, schedules: options.schedules, prefix };
}
