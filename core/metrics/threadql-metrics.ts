/**
 * threadql's Prometheus metrics, on a registry of its own (not prom-client's global one, so two instances in one
 * process, as in tests, never clash). Served as text by the operator endpoint `/metrics`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BreakerState } from '../resilience/dependency-breakers.ts';
import type { DependencyKey } from '../resilience/dependency-errors.ts';

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

export class ThreadqlMetrics {
  readonly registry = new Registry();
  /** Messages handled, by platform and outcome (answered, clarified, refused, failed, …). */
  readonly turns: Counter<'platform' | 'outcome'>;
  /** Button clicks, by action and outcome. */
  readonly clicks: Counter<'action' | 'outcome'>;
  /** Target-database reads, by connection and outcome (success, error, timeout, cancelled, unavailable). */
  readonly queries: Counter<'connection' | 'outcome'>;
  readonly llmLatency: Histogram<'outcome'>;
  /** Tokens Claude reported, by kind (input, output, cache_read, cache_creation). */
  readonly llmTokens: Counter<'kind'>;
  /** Failures that mean a dependency is down, by dependency (store, redis, llm, database:<name>). */
  readonly dependencyErrors: Counter<'dependency'>;
  /** 0 closed, 1 half-open, 2 open. */
  readonly breakerState: Gauge<'dependency'>;
  /** Records waiting in the local outbox for the store. */
  readonly outboxDepth: Gauge;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.turns = new Counter({
      name: 'threadql_turns_total',
      help: 'Messages handled, by platform and outcome',
      labelNames: ['platform', 'outcome'],
      registers,
    });
    this.clicks = new Counter({
      name: 'threadql_clicks_total',
      help: 'Button clicks, by action and outcome',
      labelNames: ['action', 'outcome'],
      registers,
    });
    this.queries = new Counter({
      name: 'threadql_queries_total',
      help: 'Reads run on target databases, by connection and outcome',
      labelNames: ['connection', 'outcome'],
      registers,
    });
    this.llmLatency = new Histogram({
      name: 'threadql_llm_request_seconds',
      help: 'Claude Messages API call time, retries included',
      labelNames: ['outcome'],
      buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 90, 180],
      registers,
    });
    this.llmTokens = new Counter({
      name: 'threadql_llm_tokens_total',
      help: 'Tokens reported by Claude, by kind',
      labelNames: ['kind'],
      registers,
    });
    this.dependencyErrors = new Counter({
      name: 'threadql_dependency_errors_total',
      help: 'Calls that failed because a dependency was unreachable, by dependency',
      labelNames: ['dependency'],
      registers,
    });
    this.breakerState = new Gauge({
      name: 'threadql_breaker_state',
      help: 'Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open',
      labelNames: ['dependency'],
      registers,
    });
    this.outboxDepth = new Gauge({
      name: 'threadql_outbox_depth',
      help: 'Records waiting in the local outbox for the store',
      registers,
    });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Records a breaker's new state. */
  breaker(key: DependencyKey, state: BreakerState): void {
    this.breakerState.set({ dependency: key }, BREAKER_VALUE[state]);
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
