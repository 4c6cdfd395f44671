import { DEFAULT_MODEL, loadEnv } from '../../config/env.ts';
import {
  AnthropicLlmClient,
  anthropicConfigFromEnv,
  type AnthropicLlmConfig,
} from '../../core/llm/anthropic-llm-client.ts';
import type { LlmRequest } from '../../core/llm/llm-client.ts';
import { retryAfterSeconds } from '../../core/llm/to-llm-error.ts';
import { LlmError, toUserMessage } from '../../core/errors.ts';
import { errorReply, FakeAnthropicServer, toolUseReply } from '../fakes/fake-anthropic-server.ts';

const KEY = 'sk-ant-test-client';
const fake = new FakeAnthropicServer({ apiKey: KEY });

beforeAll(async () => {
  await fake.start();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
});

function client(overrides: Partial<AnthropicLlmConfig> = {}): AnthropicLlmClient {
  return new AnthropicLlmClient({
    apiKey: KEY,
    baseURL: fake.url,
    model: 'claude-sonnet-5-5',
    maxRetries: 2,
    overloadRetries: 0,
    overloadBackoffMs: 5,
    ...overrides,
  });
}

const REQUEST: LlmRequest = {
  system: [{ type: 'text', text: 'You write SQL.', cacheControl: { type: 'ephemeral' } }],
  messages: [{ role: 'user', content: 'count orders' }],
  tools: [
    {
      name: 'run_query',
      description: 'run it',
      inputSchema: { type: 'object', properties: { sql: { type: 'string' } } },
    },
  ],
  toolChoice: 'auto',
  maxTokens: 1024,
};

async function failure(promise: Promise<unknown>): Promise<LlmError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LlmError);
  return error as LlmError;
}

// Tiny retry-after values keep the SDK's honoured waits short; the header is what real 429/529s carry.
const SOON = '0.01';

describe('AnthropicLlmClient over the real SDK', () => {
  test('maps a tool_use response, usage with cache fields and the request id', async () => {
    fake.enqueue(
      toolUseReply('SELECT count(*) FROM orders', {
        usage: {
          input_tokens: 40,
          output_tokens: 12,
          cache_creation_input_tokens: 300,
          cache_read_input_tokens: 0,
        },
      }),
    );
    const response = await client().createMessage(REQUEST);
    expect(response.stopReason).toBe('tool_use');
    expect(response.content).toEqual([
      {
        type: 'tool_use',
        id: expect.stringMatching(/^toolu_/),
        name: 'run_query',
        input: expect.objectContaining({ sql: 'SELECT count(*) FROM orders' }),
      },
    ]);
    expect(response.usage).toEqual({
      inputTokens: 40,
      outputTokens: 12,
      cacheCreationTokens: 300,
      cacheReadTokens: 0,
    });
    expect(response.requestId).toMatch(/^req_fake/);
    expect(response.model).toBe('claude-sonnet-5-5');
    const body = fake.requests[0]!.body;
    expect(body.system).toEqual([
      { type: 'text', text: 'You write SQL.', cache_control: { type: 'ephemeral' } },
    ]);
    expect(body.max_tokens).toBe(1024);
  });

  test('529 then success: the SDK retries on its own', async () => {
    fake.enqueue(errorReply(529, { retryAfter: SOON }), toolUseReply('SELECT 1'));
    const response = await client().createMessage(REQUEST);
    expect(response.stopReason).toBe('tool_use');
    expect(fake.requests.map((r) => r.status)).toEqual([529, 200]);
  });

  test('529 that persists through the SDK retries and the extra overload round → llm_overloaded', async () => {
    for (let i = 0; i < 4; i++) fake.enqueue(errorReply(529, { retryAfter: SOON }));
    const error = await failure(client({ maxRetries: 1, overloadRetries: 1 }).createMessage(REQUEST));
    expect(error.code).toBe('llm_overloaded');
    expect(error.message).toBe('Claude is overloaded right now (tried 4 times).');
    expect(toUserMessage(error)).toContain('try again in a minute');
    // Two SDK attempts per round, two rounds.
    expect(fake.requests.map((r) => r.status)).toEqual([529, 529, 529, 529]);
    expect(error.detail).toMatchObject({
      status: 529,
      type: 'overloaded_error',
      requestId: expect.stringMatching(/^req_fake/),
    });
  });

  test('the extra overload round recovers when the API does', async () => {
    fake.enqueue(
      errorReply(529, { retryAfter: SOON }),
      errorReply(529, { retryAfter: SOON }),
      toolUseReply('SELECT 1'),
    );
    const response = await client({ maxRetries: 1, overloadRetries: 1 }).createMessage(REQUEST);
    expect(response.stopReason).toBe('tool_use');
    expect(fake.requests).toHaveLength(3);
  });

  test('429 → llm_rate_limited after the SDK retries, honouring retry-after', async () => {
    fake.enqueue(errorReply(429, { retryAfter: SOON }), errorReply(429, { retryAfter: '7' }));
    const error = await failure(client({ maxRetries: 1 }).createMessage(REQUEST));
    expect(error.code).toBe('llm_rate_limited');
    expect(error.message).toBe('Claude is rate-limiting this bot right now (tried 2 times).');
    expect(error.hint).toBe('Please try again in about 7 s.');
    expect(error.detail).toMatchObject({ retryAfterSeconds: 7, status: 429, type: 'rate_limit_error' });
    expect(fake.requests).toHaveLength(2);
  });

  test('429 then success: the SDK waits as told and retries', async () => {
    fake.enqueue(errorReply(429, { retryAfter: SOON }), toolUseReply('SELECT 1'));
    const response = await client().createMessage(REQUEST);
    expect(response.stopReason).toBe('tool_use');
    expect(fake.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  test('401 → llm_auth_failed, not retried', async () => {
    const error = await failure(client({ apiKey: 'sk-ant-wrong' }).createMessage(REQUEST));
    expect(error.code).toBe('llm_auth_failed');
    expect(toUserMessage(error)).toBe(
      'Claude rejected the API key (401 authentication_error).\nCheck ANTHROPIC_API_KEY: it may be mistyped, revoked, or belong to another workspace.',
    );
    expect(toUserMessage(error)).not.toContain('sk-ant-wrong');
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.status).toBe(401);
  });

  test('a slow answer → llm_timeout', async () => {
    fake.enqueue(toolUseReply('SELECT 1', { delayMs: 2_000 }));
    const error = await failure(client({ timeoutMs: 150, maxRetries: 0 }).createMessage(REQUEST));
    expect(error.code).toBe('llm_timeout');
    expect(error.message).toBe('Claude did not answer within 150 ms.');
    expect(error.detail).toMatchObject({ timeoutMs: 150 });
  });

  test('a timed-out attempt is retried by the SDK', async () => {
    fake.enqueue(toolUseReply('SELECT 1', { delayMs: 2_000 }), toolUseReply('SELECT 2'));
    const response = await client({ timeoutMs: 300, maxRetries: 1 }).createMessage(REQUEST);
    expect(response.content[0]).toMatchObject({ type: 'tool_use', input: { sql: 'SELECT 2' } });
    expect(fake.requests).toHaveLength(2);
  });

  test('no key → llm_not_configured, saying how to configure, with no request sent', async () => {
    const error = await failure(client({ apiKey: undefined }).createMessage(REQUEST));
    expect(error.code).toBe('llm_not_configured');
    expect(toUserMessage(error)).toContain('Set ANTHROPIC_API_KEY');
    expect(fake.requests).toHaveLength(0);
  });

  test('an unknown model → llm_failed naming THREADQL_MODEL', async () => {
    fake.enqueue(errorReply(404, { message: 'model: claude-nope' }));
    const error = await failure(client({ model: 'claude-nope' }).createMessage(REQUEST));
    expect(error.code).toBe('llm_failed');
    expect(error.message).toBe('Claude could not serve model "claude-nope": model: claude-nope');
    expect(error.hint).toContain('THREADQL_MODEL');
  });

  test('a persistent 500 → llm_failed after the SDK retries', async () => {
    for (let i = 0; i < 3; i++)
      fake.enqueue(errorReply(500, { retryAfter: SOON, message: 'Internal server error' }));
    const error = await failure(client().createMessage(REQUEST));
    expect(error.code).toBe('llm_failed');
    expect(error.message).toBe(
      'The Claude API request failed (500 api_error): Internal server error (tried 3 times).',
    );
    expect(fake.requests).toHaveLength(3);
  });

  test('an unreachable API → llm_failed mentioning ANTHROPIC_BASE_URL', async () => {
    const closed = new FakeAnthropicServer();
    const { url } = await closed.start();
    await closed.close();
    const error = await failure(client({ baseURL: url, maxRetries: 0 }).createMessage(REQUEST));
    expect(error.code).toBe('llm_failed');
    expect(error.hint).toContain('ANTHROPIC_BASE_URL');
  });

  test('config comes from validated env; the default model is a current Sonnet', () => {
    const env = loadEnv({ ANTHROPIC_API_KEY: 'sk-ant-x', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/' });
    expect(anthropicConfigFromEnv(env)).toEqual({
      apiKey: 'sk-ant-x',
      baseURL: 'http://127.0.0.1:9/',
      model: DEFAULT_MODEL,
    });
    expect(DEFAULT_MODEL).toBe('claude-sonnet-5-5');
    expect(anthropicConfigFromEnv(loadEnv({ THREADQL_MODEL: 'claude-opus-5-5' })).model).toBe(
      'claude-opus-5-5',
    );
    expect(anthropicConfigFromEnv(loadEnv({})).apiKey).toBeUndefined();
  });

  test('retry-after parsing: seconds, milliseconds and HTTP dates', () => {
    expect(retryAfterSeconds(new Headers({ 'retry-after': '30' }))).toBe(30);
    expect(retryAfterSeconds(new Headers({ 'retry-after-ms': '1500' }))).toBe(2);
    const now = Date.parse('2026-03-02T10:00:00Z');
    expect(retryAfterSeconds(new Headers({ 'retry-after': 'Mon, 02 Mar 2026 10:01:00 GMT' }), now)).toBe(60);
    expect(retryAfterSeconds(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterSeconds(new Headers())).toBeUndefined();
  });
});
