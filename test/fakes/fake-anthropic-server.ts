import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback fake of the Anthropic Messages API (POST /v1/messages) for tests that run the real
 * @anthropic-ai/sdk against it via `baseURL`. It answers from a queue of scripted replies in the real wire format
 * (content blocks, tool_use with id/name/input, stop_reason, usage with cache fields, a request-id header, the
 * error JSON shape), records every request body, checks the conversation rules the real API enforces
 * (tool_result ids must answer the previous assistant turn's tool_use ids), and emulates prompt caching: the
 * prefix up to the last cache_control breakpoint is a cache write the first time and a cache read afterwards.
 *
 *   const fake = new FakeAnthropicServer();
 *   const { url } = await fake.start();          // pass as baseURL / ANTHROPIC_BASE_URL
 *   fake.enqueue(toolUseReply('SELECT 1'), errorReply(529));
 *   ... fake.requests[0].body.system ...
 *   await fake.close();
 */

export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export type FakeContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'thinking'; thinking: string; signature: string };

export interface MessageReply {
  kind: 'message';
  content: FakeContentBlock[];
  /** Defaults to `tool_use` when the content has a tool_use block, else `end_turn`. */
  stopReason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'refusal' | 'stop_sequence';
  /** Overrides the emulated usage figures. */
  usage?: Partial<FakeUsage>;
  delayMs?: number;
}

export interface ErrorReply {
  kind: 'error';
  status: number;
  /** Anthropic error type; defaults from the status (429 → rate_limit_error, 529 → overloaded_error, …). */
  type?: string;
  message?: string;
  /** `retry-after` header value in seconds (may be fractional: the SDK honours it). */
  retryAfter?: string;
  delayMs?: number;
}

export type ScriptedReply = MessageReply | ErrorReply;

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** The key the client sent, from `x-api-key` or `Authorization: Bearer …` (current SDKs send the latter). */
  apiKey: string | undefined;
  /** The parsed JSON body as the SDK sent it. */
  body: MessagesRequestBody;
  /** What the fake answered: an HTTP status. */
  status: number;
}

/** The parts of a Messages request body tests usually assert on (the rest is there too, untyped). */
export interface MessagesRequestBody {
  model: string;
  max_tokens: number;
  system?: string | { type: 'text'; text: string; cache_control?: { type: string } }[];
  messages: { role: 'user' | 'assistant'; content: string | Record<string, unknown>[] }[];
  tools?: { name: string; description?: string; input_schema: Record<string, unknown> }[];
  tool_choice?: { type: string; name?: string };
  [key: string]: unknown;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

let toolUseCounter = 0;

/** A unique tool_use id in the API's `toolu_…` shape. */
export function toolUseId(): string {
  toolUseCounter += 1;
  return `toolu_fake${String(toolUseCounter).padStart(6, '0')}`;
}

export interface ToolUseReplyOptions {
  explanation?: string;
  title?: string;
  chart?: { type: string; x?: string; y?: string; series?: string; title?: string };
  usage?: Partial<FakeUsage>;
  /** Put a thinking block (with a signature) before the tool_use, as models with thinking on do. */
  thinking?: boolean;
  delayMs?: number;
}

function withOptional(
  reply: MessageReply,
  options: { usage?: Partial<FakeUsage>; delayMs?: number },
): MessageReply {
  if (options.usage) reply.usage = options.usage;
  if (options.delayMs !== undefined) reply.delayMs = options.delayMs;
  return reply;
}

function thinkingBlock(): FakeContentBlock {
  return { type: 'thinking', thinking: '', signature: `sig_fake_${toolUseId()}` };
}

/** A reply calling `run_query` with the given SQL (plus explanation, optional title and chart). */
export function toolUseReply(sql: string, options: ToolUseReplyOptions = {}): MessageReply {
  const input: Record<string, unknown> = { sql, explanation: options.explanation ?? 'Runs the query.' };
  if (options.title) input.title = options.title;
  if (options.chart) input.chart = options.chart;
  return toolCallReply('run_query', input, options);
}

/** A reply calling `run_query` with a MongoDB query (collection plus pipeline or filter…). */
export function mongoToolUseReply(
  query: Record<string, unknown>,
  options: ToolUseReplyOptions = {},
): MessageReply {
  const input: Record<string, unknown> = { ...query, explanation: options.explanation ?? 'Runs the query.' };
  if (options.title) input.title = options.title;
  if (options.chart) input.chart = options.chart;
  return toolCallReply('run_query', input, options);
}

/** A reply calling `ask_clarifying_question`. */
export function clarifyReply(
  question: string,
  options: string[] = [],
  extra: ToolUseReplyOptions = {},
): MessageReply {
  const input: Record<string, unknown> = { question };
  if (options.length) input.options = options;
  return toolCallReply('ask_clarifying_question', input, extra);
}

/** A reply calling any tool with any input (for malformed-input tests). */
export function toolCallReply(name: string, input: unknown, options: ToolUseReplyOptions = {}): MessageReply {
  const content: FakeContentBlock[] = options.thinking ? [thinkingBlock()] : [];
  content.push({ type: 'tool_use', id: toolUseId(), name, input });
  return withOptional({ kind: 'message', content }, options);
}

/** A plain text reply (no tool call). */
export function textReply(
  text: string,
  options: { usage?: Partial<FakeUsage>; delayMs?: number } = {},
): MessageReply {
  return withOptional({ kind: 'message', content: [{ type: 'text', text }] }, options);
}

/** An error reply in Anthropic's error JSON shape. */
export function errorReply(
  status: number,
  options: { type?: string; message?: string; retryAfter?: string; delayMs?: number } = {},
): ErrorReply {
  return { kind: 'error', status, ...options };
}

function estimateTokens(value: unknown): number {
  return value === undefined ? 0 : Math.ceil(JSON.stringify(value).length / 4);
}

function hasCacheControl(block: unknown): boolean {
  return typeof block === 'object' && block !== null && 'cache_control' in block && !!block.cache_control;
}

/** Returns an error message when the conversation breaks a rule the real API enforces with a 400. */
function conversationProblem(body: MessagesRequestBody): string | undefined {
  if (typeof body.model !== 'string' || !body.model) return 'model: Field required';
  if (typeof body.max_tokens !== 'number') return 'max_tokens: Field required';
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    return 'messages: at least one message is required';
  if (body.messages[0]?.role !== 'user') return 'messages: first message must use the "user" role';
  for (let i = 0; i < body.messages.length; i++) {
    const message = body.messages[i]!;
    const blocks = Array.isArray(message.content) ? message.content : [];
    if (typeof message.content !== 'string' && blocks.length === 0) {
      return `messages.${i}: all messages must have non-empty content`;
    }
    const uses = blocks.filter((b) => b.type === 'tool_use').map((b) => String(b.id));
    if (message.role !== 'assistant' || uses.length === 0) continue;
    const next = body.messages[i + 1];
    const results =
      next && Array.isArray(next.content) ? next.content.filter((b) => b.type === 'tool_result') : [];
    const answered = new Set(results.map((b) => String(b.tool_use_id)));
    const missing = uses.filter((id) => !answered.has(id));
    if (next && missing.length) {
      return `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}`;
    }
  }
  for (let i = 0; i < body.messages.length; i++) {
    const message = body.messages[i]!;
    if (!Array.isArray(message.content)) continue;
    const results = message.content.filter((b) => b.type === 'tool_result');
    if (!results.length) continue;
    const prev = body.messages[i - 1];
    const ids = new Set(
      prev?.role === 'assistant' && Array.isArray(prev.content)
        ? prev.content.filter((b) => b.type === 'tool_use').map((b) => String(b.id))
        : [],
    );
    for (const r of results) {
      if (!ids.has(String(r.tool_use_id))) {
        return `messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(r.tool_use_id)}`;
      }
    }
  }
  return undefined;
}

function apiKeyOf(req: IncomingMessage): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header) return header;
  const auth = req.headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
}

export interface FakeAnthropicServerOptions {
  /** When set, requests with another key (x-api-key or bearer) get a 401 authentication_error, like the real API. */
  apiKey?: string;
}

/** The fake Messages API server; see the file comment for usage. */
export class FakeAnthropicServer {
  readonly requests: RecordedRequest[] = [];
  readonly #queue: ScriptedReply[] = [];
  readonly #cachedPrefixes = new Set<string>();
  readonly #apiKey: string | undefined;
  #fallback: ((body: MessagesRequestBody, index: number) => ScriptedReply) | undefined;
  #server: Server | undefined;
  #url = '';
  #counter = 0;

  constructor(options: FakeAnthropicServerOptions = {}) {
    this.#apiKey = options.apiKey;
  }

  /** Base URL to give the SDK (`baseURL`) or ANTHROPIC_BASE_URL; valid after start(). */
  get url(): string {
    return this.#url;
  }

  /** Listens on 127.0.0.1 on a free port. */
  async start(): Promise<{ url: string }> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent)
          this.#sendError(res, 500, 'api_error', `fake-anthropic crashed: ${String(error)}`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.#url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { url: this.#url };
  }

  /** Adds replies to the end of the queue; each request takes the next one. */
  enqueue(...replies: ScriptedReply[]): void {
    this.#queue.push(...replies);
  }

  /** Replies used when the queue is empty (e.g. for end-to-end tests); without one an empty queue is a 400. */
  setFallback(reply: ((body: MessagesRequestBody, index: number) => ScriptedReply) | undefined): void {
    this.#fallback = reply;
  }

  /** Scripted replies not yet used. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Forgets recorded requests, queued replies and the emulated prompt cache. */
  reset(): void {
    this.requests.length = 0;
    this.#queue.length = 0;
    this.#cachedPrefixes.clear();
    this.#fallback = undefined;
  }

  /** Stops listening and drops open keep-alive connections. */
  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    let body: MessagesRequestBody;
    try {
      body = (raw ? JSON.parse(raw) : {}) as MessagesRequestBody;
    } catch {
      this.#sendError(res, 400, 'invalid_request_error', 'The request body is not valid JSON.');
      return;
    }
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      apiKey: apiKeyOf(req),
      body,
      status: 0,
    };
    this.requests.push(record);

    if (req.method !== 'POST' || path !== '/v1/messages') {
      record.status = 404;
      this.#sendError(
        res,
        404,
        'not_found_error',
        `fake-anthropic only serves POST /v1/messages, not ${req.method} ${path}`,
      );
      return;
    }
    if (this.#apiKey !== undefined && record.apiKey !== this.#apiKey) {
      record.status = 401;
      this.#sendError(res, 401, 'authentication_error', 'invalid x-api-key');
      return;
    }
    if (body.stream) {
      record.status = 400;
      this.#sendError(res, 400, 'invalid_request_error', 'fake-anthropic does not implement streaming');
      return;
    }
    const problem = conversationProblem(body);
    if (problem) {
      record.status = 400;
      this.#sendError(res, 400, 'invalid_request_error', problem);
      return;
    }

    const reply = this.#queue.shift() ?? this.#fallback?.(body, this.requests.length - 1);
    if (!reply) {
      record.status = 400;
      this.#sendError(
        res,
        400,
        'invalid_request_error',
        'fake-anthropic: no scripted reply queued for this request',
      );
      return;
    }
    if (reply.delayMs) {
      const aborted = await this.#wait(reply.delayMs, res);
      if (aborted) {
        record.status = 499;
        return;
      }
    }
    if (reply.kind === 'error') {
      record.status = reply.status;
      const headers: Record<string, string> =
        reply.retryAfter === undefined ? {} : { 'retry-after': reply.retryAfter };
      this.#sendError(
        res,
        reply.status,
        reply.type ?? ERROR_TYPES[reply.status] ?? 'api_error',
        reply.message ?? `fake ${reply.status}`,
        headers,
      );
      return;
    }
    record.status = 200;
    this.#sendMessage(res, body, reply);
  }

  // Resolves true when the client went away first (an SDK timeout), so no reply is written.
  #wait(ms: number, res: ServerResponse): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        res.off('close', onClose);
        resolve(false);
      }, ms);
      const onClose = () => {
        clearTimeout(timer);
        resolve(true);
      };
      res.once('close', onClose);
    });
  }

  #usageFor(body: MessagesRequestBody, reply: MessageReply): FakeUsage {
    // Cache prefix order is tools → system → messages; the last block with cache_control ends the prefix.
    const prefix: unknown[] = [];
    let cachedPart: unknown[] | undefined;
    const walk = (part: unknown) => {
      prefix.push(part);
      if (hasCacheControl(part)) cachedPart = [...prefix];
    };
    for (const tool of body.tools ?? []) walk(tool);
    if (Array.isArray(body.system)) for (const block of body.system) walk(block);
    else if (body.system !== undefined) walk(body.system);
    for (const message of body.messages) {
      if (Array.isArray(message.content)) for (const block of message.content) walk(block);
      else walk(message.content);
    }
    const total = estimateTokens(prefix);
    let cacheRead = 0;
    let cacheWrite = 0;
    if (cachedPart) {
      const key = JSON.stringify(cachedPart);
      const tokens = estimateTokens(cachedPart);
      if (this.#cachedPrefixes.has(key)) cacheRead = tokens;
      else {
        cacheWrite = tokens;
        this.#cachedPrefixes.add(key);
      }
    }
    return {
      input_tokens: Math.max(1, total - cacheRead - cacheWrite),
      output_tokens: estimateTokens(reply.content),
      cache_creation_input_tokens: cacheWrite,
      cache_read_input_tokens: cacheRead,
      ...reply.usage,
    };
  }

  #sendMessage(res: ServerResponse, body: MessagesRequestBody, reply: MessageReply): void {
    this.#counter += 1;
    const hasToolUse = reply.content.some((b) => b.type === 'tool_use');
    const usage = this.#usageFor(body, reply);
    const message = {
      id: `msg_fake${String(this.#counter).padStart(6, '0')}`,
      type: 'message',
      role: 'assistant',
      model: body.model,
      content: reply.content,
      stop_reason: reply.stopReason ?? (hasToolUse ? 'tool_use' : 'end_turn'),
      stop_sequence: null,
      usage: { ...usage, service_tier: 'standard' },
    };
    const text = JSON.stringify(message);
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'request-id': `req_fake${String(this.#counter).padStart(6, '0')}`,
    });
    res.end(text);
  }

  #sendError(
    res: ServerResponse,
    status: number,
    type: string,
    message: string,
    extra: Record<string, string> = {},
  ): void {
    this.#counter += 1;
    const requestId = `req_fake${String(this.#counter).padStart(6, '0')}`;
    const text = JSON.stringify({ type: 'error', error: { type, message }, request_id: requestId });
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'request-id': requestId,
      ...extra,
    });
    res.end(text);
  }
}
