import Anthropic, { OverloadedError } from '@anthropic-ai/sdk';
import type {
  ContentBlockParam,
  MessageParam,
  TextBlockParam,
  Tool,
} from '@anthropic-ai/sdk/resources/messages';
import pRetry from 'p-retry';
import type { Env } from '../../config/env.ts';
import type {
  LlmCallOptions,
  LlmClient,
  LlmContentBlock,
  LlmMessage,
  LlmRequest,
  LlmResponse,
  LlmTextBlock,
} from './llm-client.ts';
import { LlmError } from '../errors.ts';
import { clipText, type Logger } from '../logger.ts';
import { llmNotConfigured, toLlmError } from './to-llm-error.ts';

export interface AnthropicLlmConfig {
  /** Without a key every call fails with llm_not_configured (the bot still starts and says how to fix it). */
  apiKey?: string | undefined;
  /** Messages API base URL; defaults to https://api.anthropic.com. Tests point it at a loopback fake. */
  baseURL?: string | undefined;
  model: string;
  /** Per HTTP attempt; the SDK retries a timed-out attempt. Default 60 s. */
  timeoutMs?: number;
  /**
   * The SDK's own retries, with exponential backoff (0.5 s, 1 s, … up to 8 s) that honours `retry-after(-ms)`:
   * connection errors, timeouts, 408, 409, 429 and every 5xx including 529 overloaded. Default 2.
   */
  maxRetries?: number;
  /**
   * Extra rounds when the API is still overloaded (529) after the SDK's retries: overload spells tend to outlast
   * the SDK's ~1.5 s of backoff, while a 429 carries its own retry-after that the SDK already honoured. Default 1.
   */
  overloadRetries?: number;
  /** Pause before the first extra overload round (doubles for each further round). Default 4 s. */
  overloadBackoffMs?: number;
  /** `output_config.effort` for models that support it; omitted by default (the model's own default). */
  effort?: 'low' | 'medium' | 'high';
  /** Where a response that cannot be read is logged (with its HTTP status and a short excerpt). */
  logger?: Pick<Logger, 'warn'>;
}

/** How much of an unreadable response body is logged. */
const EXCERPT_CHARS = 300;

/** The LLM settings from validated env (config/env.ts); never reads process.env itself. */
export function anthropicConfigFromEnv(
  env: Pick<Env, 'ANTHROPIC_API_KEY' | 'ANTHROPIC_BASE_URL' | 'THREADQL_MODEL'>,
): AnthropicLlmConfig {
  return { apiKey: env.ANTHROPIC_API_KEY, baseURL: env.ANTHROPIC_BASE_URL, model: env.THREADQL_MODEL };
}

const DEFAULT_BASE_URL = 'https://api.anthropic.com';

function toSystemParam(block: LlmTextBlock): TextBlockParam {
  return block.cacheControl
    ? { type: 'text', text: block.text, cache_control: { type: 'ephemeral' } }
    : { type: 'text', text: block.text };
}

function toContentParam(block: LlmContentBlock): ContentBlockParam {
  switch (block.type) {
    case 'text':
      return toSystemParam(block);
    case 'tool_use':
      return { type: 'tool_use', id: block.id, name: block.name, input: block.input };
    case 'tool_result':
      return {
        type: 'tool_result',
        tool_use_id: block.toolUseId,
        content: block.content,
        is_error: block.isError,
      };
    case 'opaque':
      // Handed back exactly as the API produced it (thinking blocks carry a signature the API verifies).
      return block.block as ContentBlockParam;
  }
}

function toMessageParam(message: LlmMessage): MessageParam {
  return {
    role: message.role,
    content: typeof message.content === 'string' ? message.content : message.content.map(toContentParam),
  };
}

function fromResponseBlock(block: Anthropic.ContentBlock): LlmContentBlock {
  if (block.type === 'text') return { type: 'text', text: block.text };
  if (block.type === 'tool_use')
    return { type: 'tool_use', id: block.id, name: block.name, input: block.input };
  return { type: 'opaque', block };
}

/** LlmClient over the real @anthropic-ai/sdk Messages API. */
export class AnthropicLlmClient implements LlmClient {
  readonly model: string;
  readonly #sdk: Anthropic | undefined;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #overloadRetries: number;
  readonly #overloadBackoffMs: number;
  readonly #effort: AnthropicLlmConfig['effort'];
  readonly #logger: AnthropicLlmConfig['logger'];

  constructor(config: AnthropicLlmConfig) {
    this.model = config.model;
    this.#timeoutMs = config.timeoutMs ?? 60_000;
    this.#maxRetries = config.maxRetries ?? 2;
    this.#overloadRetries = config.overloadRetries ?? 1;
    this.#overloadBackoffMs = config.overloadBackoffMs ?? 4_000;
    this.#effort = config.effort;
    this.#logger = config.logger;
    // Key and base URL are passed explicitly (never undefined) so the SDK does not fall back to reading
    // process.env itself: configuration comes only through config/.
    this.#sdk = config.apiKey
      ? new Anthropic({
          apiKey: config.apiKey,
          baseURL: config.baseURL ?? DEFAULT_BASE_URL,
          maxRetries: this.#maxRetries,
          timeout: this.#timeoutMs,
        })
      : undefined;
  }

  /** Sends one Messages request (with SDK retries plus bounded extra rounds on 529); throws LlmError. */
  async createMessage(request: LlmRequest, options: LlmCallOptions = {}): Promise<LlmResponse> {
    const sdk = this.#sdk;
    if (!sdk) throw llmNotConfigured();
    const tools: Tool[] = request.tools.map((t) => ({
      name: t.name,
      description: t.description,
      input_schema: t.inputSchema as Tool['input_schema'],
    }));
    const params: Anthropic.MessageCreateParamsNonStreaming = {
      model: this.model,
      max_tokens: request.maxTokens,
      system: request.system.map(toSystemParam),
      messages: request.messages.map(toMessageParam),
      tools,
      tool_choice: { type: request.toolChoice },
      ...(this.#effort ? { output_config: { effort: this.#effort } } : {}),
    };

    const started = performance.now();
    let rounds = 0;
    try {
      const message = await pRetry(
        async () => {
          rounds += 1;
          // The raw response, so a body that is not a Message can be reported with its status and an excerpt.
          const response = await sdk.messages.create(params, { signal: options.signal }).asResponse();
          return this.#readMessage(response);
        },
        {
          retries: this.#overloadRetries,
          minTimeout: this.#overloadBackoffMs,
          factor: 2,
          randomize: true,
          signal: options.signal,
          shouldRetry: ({ error }) => error instanceof OverloadedError,
        },
      );
      return {
        content: message.content.map(fromResponseBlock),
        stopReason: message.stop_reason,
        usage: {
          inputTokens: message.usage.input_tokens,
          outputTokens: message.usage.output_tokens,
          cacheReadTokens: message.usage.cache_read_input_tokens ?? 0,
          cacheCreationTokens: message.usage.cache_creation_input_tokens ?? 0,
        },
        durationMs: Math.round(performance.now() - started),
        requestId: message.requestId,
        model: message.model,
      };
    } catch (error) {
      throw toLlmError(error, {
        model: this.model,
        timeoutMs: this.#timeoutMs,
        attempts: rounds * (1 + (retryableBySdk(error) ? this.#maxRetries : 0)),
      });
    }
  }

  async #readMessage(response: Response): Promise<Anthropic.Message & { requestId?: string }> {
    const text = await response.text();
    let message: Anthropic.Message | undefined;
    try {
      message = JSON.parse(text) as Anthropic.Message;
    } catch {
      message = undefined;
    }
    if (!message || !Array.isArray(message.content) || typeof message.usage !== 'object') {
      const excerpt = clipText(text, EXCERPT_CHARS);
      this.#logger?.warn(
        { status: response.status, bytes: text.length, excerpt, model: this.model },
        'Claude sent a response that is not a readable message',
      );
      throw new LlmError('llm_failed', `Claude sent a response I could not read (HTTP ${response.status}).`, {
        hint: 'Please try again; if it keeps happening, check ANTHROPIC_BASE_URL and any proxy in between.',
        detail: { status: response.status, malformed: true },
      });
    }
    return { ...message, requestId: response.headers.get('request-id') ?? undefined };
  }
}

// Which failures the SDK already retried maxRetries times, so the attempt count in messages is honest.
function retryableBySdk(error: unknown): boolean {
  if (error instanceof Anthropic.APIConnectionError) return true;
  if (error instanceof Anthropic.APIError && typeof error.status === 'number') {
    return error.status === 408 || error.status === 409 || error.status === 429 || error.status >= 500;
  }
  return false;
}
