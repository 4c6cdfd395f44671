/** Claude for threadql, when ANTHROPIC_API_KEY is set: the guarded client and the SQL generator over it. */
import type { ThreadqlConfig } from '../../config/load-config.ts';
import { AnthropicLlmClient, anthropicConfigFromEnv } from '../../core/llm/anthropic-llm-client.ts';
import { GuardedLlmClient } from '../../core/llm/guarded-llm-client.ts';
import { SqlGenerator } from '../../core/llm/sql-generator.ts';
import type { Logger } from '../../core/logger.ts';
import type { ThreadqlMetrics } from '../../core/metrics/threadql-metrics.ts';
import type { DependencyBreakers } from '../../core/resilience/dependency-breakers.ts';
import type { StartupLedger } from './startup-ledger.ts';

export interface LlmOptions {
  config: ThreadqlConfig;
  breakers: DependencyBreakers;
  metrics: ThreadqlMetrics;
  /** Aborted on shutdown: Claude calls in flight stop. */
  signal: AbortSignal;
  logger: Logger;
}

/** The LLM client and SQL generator, both undefined when no API key is configured (pasted SQL still works). */
export function createLlm(
  options: LlmOptions,
  ledger: StartupLedger,
): { llm: GuardedLlmClient | undefined; generator: SqlGenerator | undefined } {
  const { config, logger } = options;
  const env = config.env;
  const llm = env.ANTHROPIC_API_KEY
    ? new GuardedLlmClient(
        new AnthropicLlmClient({ ...anthropicConfigFromEnv(env), logger }),
        options.breakers,
        options.metrics,
      )
    : undefined;
  const generator = llm
    ? new SqlGenerator(llm, {
        turnBudgetMs: config.file.llm.turnBudgetMs,
        signal: options.signal,
        logger,
      })
    : undefined;
  ledger.lines.push(
    generator
      ? `llm: ${env.THREADQL_MODEL}`
      : 'llm: not configured (set ANTHROPIC_API_KEY); pasted SQL still works',
  );
  return { llm, generator };
}
