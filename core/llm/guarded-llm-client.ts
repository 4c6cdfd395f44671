/**
 * An LlmClient behind the `llm` breaker, measured: while Claude is known down (connection failures, 5xx, overload)
 * a turn fails at once with a clear "Claude is unreachable" instead of spending its whole budget on retries, and
 * every call's time and tokens reach the metrics.
 */
import type { ThreadqlMetrics } from '../metrics/threadql-metrics.ts';
import type { DependencyBreakers } from '../resilience/dependency-breakers.ts';
import type { LlmCallOptions, LlmClient, LlmRequest, LlmResponse } from './llm-client.ts';

export class GuardedLlmClient implements LlmClient {
  readonly model: string;
  readonly #inner: LlmClient;
  readonly #breakers: DependencyBreakers;
  readonly #metrics: ThreadqlMetrics | undefined;

  constructor(inner: LlmClient, breakers: DependencyBreakers, metrics?: ThreadqlMetrics) {
    this.model = inner.model;
    this.#inner = inner;
    this.#breakers = breakers;
    this.#metrics = metrics;
  }

  async createMessage(request: LlmRequest, options: LlmCallOptions = {}): Promise<LlmResponse> {
    const started = performance.now();
    try {
      const response = await this.#breakers.call('llm', () => this.#inner.createMessage(request, options));
      this.#metrics?.llmLatency.observe({ outcome: 'success' }, (performance.now() - started) / 1000);
      const tokens = this.#metrics?.llmTokens;
      tokens?.inc({ kind: 'input' }, response.usage.inputTokens);
      tokens?.inc({ kind: 'output' }, response.usage.outputTokens);
      tokens?.inc({ kind: 'cache_read' }, response.usage.cacheReadTokens);
      tokens?.inc({ kind: 'cache_creation' }, response.usage.cacheCreationTokens);
      return response;
    } catch (error) {
      this.#metrics?.llmLatency.observe({ outcome: 'error' }, (performance.now() - started) / 1000);
      throw error;
    }
  }
}
