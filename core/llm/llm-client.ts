/**
 * The seam between threadql and a chat model: one request in, one response out. The Anthropic SDK sits behind it
 * (AnthropicLlmClient); tests run that real SDK against a loopback fake of the Messages API.
 */

/** Marks a prompt block as a prompt-cache breakpoint (everything up to and including it is cached). */
export interface LlmCacheControl {
  type: 'ephemeral';
}

export interface LlmTextBlock {
  type: 'text';
  text: string;
  cacheControl?: LlmCacheControl;
}

export interface LlmToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}

export interface LlmToolResultBlock {
  type: 'tool_result';
  toolUseId: string;
  content: string;
  isError?: boolean;
}

/**
 * A block threadql does not interpret (thinking, redacted_thinking, server tool blocks) but must hand back
 * unchanged in the next request of the same conversation: thinking blocks are tied to the model and the turn.
 */
export interface LlmOpaqueBlock {
  type: 'opaque';
  block: unknown;
}

export type LlmContentBlock = LlmTextBlock | LlmToolUseBlock | LlmToolResultBlock | LlmOpaqueBlock;

export interface LlmMessage {
  role: 'user' | 'assistant';
  content: string | LlmContentBlock[];
}

export interface LlmTool {
  name: string;
  description: string;
  /** JSON Schema of the tool's input. */
  inputSchema: Record<string, unknown>;
}

export interface LlmRequest {
  system: LlmTextBlock[];
  messages: LlmMessage[];
  tools: LlmTool[];
  /**
   * `auto` lets the model answer with text; `any` forces a tool call. Current models with thinking on
   * (Claude Sonnet 5.5) reject forced tool use with a 400, so callers default to `auto` and steer by prompt.
   */
  toolChoice: 'auto' | 'any';
  maxTokens: number;
}

/** Token counts as the API reports them for one response. */
export interface LlmTokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
}

export interface LlmResponse {
  content: LlmContentBlock[];
  /** `tool_use`, `end_turn`, `max_tokens`, `refusal`, … as the API names it. */
  stopReason: string | null;
  usage: LlmTokenUsage;
  /** Wall time of the call including the SDK's own retries. */
  durationMs: number;
  requestId?: string;
  model: string;
}

export interface LlmCallOptions {
  signal?: AbortSignal;
}

/** A chat model behind a small interface; errors are LlmErrors with llm_* codes. */
export interface LlmClient {
  readonly model: string;
  /** Sends one Messages request; throws LlmError (llm_not_configured, llm_auth_failed, …) on failure. */
  createMessage(request: LlmRequest, options?: LlmCallOptions): Promise<LlmResponse>;
}
