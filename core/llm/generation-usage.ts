import type { LlmResponse } from './llm-client.ts';

/** Tokens and LLM time of one generation, summed over every request it made (repairs included). */
export interface GenerationUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  /** Wall time spent waiting for the model, SDK retries included. */
  llmMs: number;
  /** Messages API requests made (one per attempt). */
  requests: number;
}

/** A zero usage to sum into. */
export function emptyUsage(): GenerationUsage {
  return {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheCreationTokens: 0,
    llmMs: 0,
    requests: 0,
  };
}

/** `total` plus one response's usage and time. */
export function addResponseUsage(total: GenerationUsage, response: LlmResponse): GenerationUsage {
  return {
    inputTokens: total.inputTokens + response.usage.inputTokens,
    outputTokens: total.outputTokens + response.usage.outputTokens,
    cacheReadTokens: total.cacheReadTokens + response.usage.cacheReadTokens,
    cacheCreationTokens: total.cacheCreationTokens + response.usage.cacheCreationTokens,
    llmMs: total.llmMs + response.durationMs,
    requests: total.requests + 1,
  };
}

/** Every token the generation was billed for (input incl. cache reads and writes, plus output). */
export function totalTokens(usage: GenerationUsage): number {
  return usage.inputTokens + usage.outputTokens + usage.cacheReadTokens + usage.cacheCreationTokens;
}
