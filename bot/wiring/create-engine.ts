/**
 * The conversation engine and its flows, assembled from the wired parts: who is an approver or admin, event
 * de-duplication across replicas, the flows' stores, and the sweep that expires pending approvals.
 */
import type { Redis } from 'ioredis';
import type { ThreadqlConfig } from '../../config/load-config.ts';
import { ApprovalPolicy } from '../../core/approvals/approval-policy.ts';
import type { ConfiguredConnections } from '../../core/connections/connection-provider.ts';
import type { UserRef } from '../../core/conversation/chat-platform.ts';
import { ConfirmationStore } from '../../core/conversation/confirmation-store.ts';
import { ConversationEngine } from '../../core/conversation/conversation-engine.ts';
import { createFlows } from '../../core/conversation/create-flows.ts';
import type { ResultRenderers } from '../../core/conversation/engine-ports.ts';
import { ApprovalFlow } from '../../core/conversation/flows/approval-flow.ts';
import { IntentChoiceStore } from '../../core/conversation/intent-choice-store.ts';
import type { MongoSessionStore } from '../../core/conversation/mongo-session-store.ts';
import { WriteBehindSessionStore } from '../../core/conversation/write-behind-session-store.ts';
import type { Governance } from '../../core/governance/governance.ts';
import type { GuardedLlmClient } from '../../core/llm/guarded-llm-client.ts';
import type { SqlGenerator } from '../../core/llm/sql-generator.ts';
import type { Logger } from '../../core/logger.ts';
import type { ThreadqlMetrics } from '../../core/metrics/threadql-metrics.ts';
import type { MigrationTargets } from '../../core/migrations/migration-targets.ts';
import type { OutboxedSessionStore } from '../../core/outbox/outboxed-session-store.ts';
import type { TemplateServices } from '../../core/templates/create-template-services.ts';
import { LlmParameterProposer } from '../../core/templates/propose-parameters.ts';
import { TemplateDrafts } from '../../core/templates/template-drafts.ts';
import { degradingOnce, memoryOnce, redisOnce } from '../slack/event-dedupe.ts';
import type { StartupLedger } from './startup-ledger.ts';

export interface EngineOptions {
  config: ThreadqlConfig;
  connections: ConfiguredConnections;
  governance: Governance;
  llm: GuardedLlmClient | undefined;
  generator: SqlGenerator | undefined;
  renderers: ResultRenderers;
  templates: TemplateServices;
  /** Prefix of the Redis keys of templates (the drafts share it). */
  templatesPrefix: string;
  migrationTargets: MigrationTargets;
  mongoSessions: MongoSessionStore;
  sessions: OutboxedSessionStore;
  /** Redis behind its breaker. */
  redis: Redis;
  now: () => Date;
  metrics: ThreadqlMetrics;
  /** Aborted on shutdown: the engine's turns in flight stop. */
  signal: AbortSignal;
  logger: Logger;
  /** How often pending approvals are checked for expiry; default 60 s. */
  approvalSweepMs?: number | undefined;
}

/** The engine and the approval-expiry sweep (also run every approvalSweepMs until close). */
export function createEngine(
  options: EngineOptions,
  ledger: StartupLedger,
): { engine: ConversationEngine; sweepApprovals: () => Promise<number> } {
  const { config, redis, now, mongoSessions, sessions, logger } = options;
  const listed = (ids: typeof config.file.approvers) => (user: UserRef) => {
    const list: string[] = ids[user.platform] ?? [];
    return list.includes(user.user) || (user.roles ?? []).some((role) => list.includes(role));
  };
  const policy = new ApprovalPolicy(config.file.approvers, config.file.approvals);
  const settings = {
    limits: config.file.limits,
    isApprover: (user: UserRef) => policy.qualifies(user).approver,
    isAdmin: listed(config.file.admins),
    now,
  };
  // A retried event is answered once across replicas through Redis; while Redis is down, once per process.
  const firstSeen = degradingOnce(
    redisOnce(redis, { prefix: 'threadql:seen:' }),
    memoryOnce({ ttlMs: 60 * 60 * 1000 }),
    (err) => logger.warn({ err }, 'de-duplication fell back to this process (Redis unreachable)'),
  );
  const flows = createFlows({
    connections: options.connections,
    generator: options.generator,
    confirmations: new ConfirmationStore(redis, {
      ttlSeconds: config.file.limits.confirmTtlSeconds,
      now,
    }),
    choices: new IntentChoiceStore(redis, { ttlSeconds: config.file.limits.confirmTtlSeconds }),
    renderers: options.renderers,
    settings,
    governance: options.governance,
    approvals: {
      models: mongoSessions.models,
      policy,
      connectionId: (name) => mongoSessions.connectionId(name),
    },
    migrations: { targets: options.migrationTargets, models: mongoSessions.models, policy },
    templates: {
      services: options.templates,
      drafts: new TemplateDrafts(redis, { prefix: options.templatesPrefix }),
      proposer: options.llm ? new LlmParameterProposer(options.llm, { logger }) : undefined,
      schedules: config.file.schedules,
    },
  });
  const engine = new ConversationEngine({
    // History and audit records follow the replies (write-behind-session-store.ts); engine.idle() flushes them.
    sessions: new WriteBehindSessionStore(sessions, { logger }),
    settings,
    logger,
    signal: options.signal,
    metrics: options.metrics,
    firstSeen,
    flows,
  });
  // Pending approvals past approvals.ttl expire (FerretDB has no TTL index); every replica may sweep.
  const approvalFlow = flows.find((f): f is ApprovalFlow => f instanceof ApprovalFlow);
  const sweepApprovals = async (): Promise<number> =>
    approvalFlow ? approvalFlow.sweep(sessions, (name) => engine.platformFor(name), logger) : 0;
  const sweeper = setInterval(() => {
    sweepApprovals().catch((err: unknown) => logger.warn({ err }, 'approval expiry sweep failed'));
  }, options.approvalSweepMs ?? 60_000);
  sweeper.unref();
  ledger.closers.push(async () => clearInterval(sweeper));
  ledger.closers.push(() => engine.idle());
  return { engine, sweepApprovals };
}
