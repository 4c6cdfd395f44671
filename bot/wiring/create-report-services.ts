/**
 * Saved templates and scheduled reports: the template services on the store and Redis, the sink that delivers
 * reports to whichever chat platforms this process serves, and the start of the report scheduler once they run.
 */
import type { Redis } from 'ioredis';
import type { ThreadqlConfig } from '../../config/load-config.ts';
import type { ConfiguredConnections } from '../../core/connections/connection-provider.ts';
import type { ChatPlatform } from '../../core/conversation/chat-platform.ts';
import type { ResultRenderers } from '../../core/conversation/engine-ports.ts';
import type { MongoSessionStore } from '../../core/conversation/mongo-session-store.ts';
import type { Governance } from '../../core/governance/governance.ts';
import type { Logger } from '../../core/logger.ts';
import {
  createTemplateServices,
  type TemplateServices,
} from '../../core/templates/create-template-services.ts';
import { PlatformReportSink } from '../platform-report-sink.ts';
import type { StartupLedger } from './startup-ledger.ts';

export interface ReportServicesOptions {
  config: ThreadqlConfig;
  mongoSessions: MongoSessionStore;
  /** Redis behind its breaker. */
  redis: Redis;
  /** The same Redis as a URL, for BullMQ's own connections. */
  redisUrl: string;
  /** Prefix of the Redis keys of templates and the report queue. */
  prefix: string;
  connections: ConfiguredConnections;
  renderers: ResultRenderers;
  governance: Governance;
  now: () => Date;
  logger: Logger;
}

export interface ReportServices {
  templates: TemplateServices;
  /**
   * Starts the report scheduler once the chat platforms run: reconciles the queue with MongoDB and works the
   * reports of these platforms (each replica delivers only to platforms it serves).
   */
  startScheduler(platforms: readonly ChatPlatform[]): Promise<void>;
}

/** The template services (their scheduler stopped on close) and the scheduler's start. */
export function createReportServices(options: ReportServicesOptions, ledger: StartupLedger): ReportServices {
  const { config, governance, logger } = options;
  const reports = new PlatformReportSink();
  const templates = createTemplateServices({
    models: options.mongoSessions.models,
    redis: options.redis,
    redisUrl: options.redisUrl,
    prefix: options.prefix,
    connections: options.connections,
    renderers: options.renderers,
    sink: reports,
    limits: config.file.limits,
    schedules: config.file.schedules,
    checkReport: (name, channel) => governance.checkScheduledReport(name, channel),
    now: options.now,
    logger: logger.child({ component: 'reports' }),
  });
  ledger.closers.push(() => templates.scheduler.close());
  ledger.lines.push(`reports: schedules in ${config.file.schedules.timezone} unless given, queue on Redis`);
  return {
    templates,
    startScheduler: async (platforms) => {
      for (const platform of platforms) reports.attach(platform);
      const starting = templates.scheduler.start(platforms.map((p) => p.name)).then(
        (summary) => logger.info(summary, 'report scheduler started'),
        (err: unknown) => logger.error({ err }, 'report scheduler did not start; scheduled reports wait'),
      );
      // Start-up stays bounded: with Redis unreachable, BullMQ waits for it, and the reports start when it is back.
      let timer: NodeJS.Timeout | undefined;
      const waited = await Promise.race([
        starting.then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 10_000))),
      ]);
      clearTimeout(timer);
      if (!waited) logger.warn('report scheduler still starting (waiting for Redis); carrying on');
    },
  };
}
