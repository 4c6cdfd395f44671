/**
 * One budget per question for Claude, across the SDK's retries and the repair rounds; cancellation at shutdown; and
 * answers Claude got wrong logged with their status and a short excerpt, never the whole body. The real SDK against
 * the fake Messages API (or, for a body that is not JSON, a raw loopback server); the budget's signal is injected
 * and aborted by the test, so no test waits on the clock.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { AnthropicLlmClient } from '../../core/llm/anthropic-llm-client.ts';
import { SqlGenerator, type GenerationRequest } from '../../core/llm/sql-generator.ts';
import { InterruptedError, LlmError, toUserMessage } from '../../core/errors.ts';
import { createLogger } from '../../core/logger.ts';
import {
  FakeAnthropicServer,
  textReply,
  toolCallReply,
  toolUseReply,
} from '../fakes/fake-anthropic-server.ts';
import { shopSchema } from './schema-fixtures.ts';

const fake = new FakeAnthropicServer();
beforeAll(() => fake.start());
afterAll(() => fake.close());
beforeEach(() => fake.reset());

/** A logger whose lines the test reads back (parsed JSON). */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n'))
        if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('warn', sink), lines };
}

function client(baseURL = fake.url, logger?: ReturnType<typeof createLogger>) {
  return new AnthropicLlmClient({
    apiKey: 'sk-test',
    baseURL,
    model: 'claude-sonnet-5-5',
    maxRetries: 0,
    ...(logger ? { logger } : {}),
  });
}

const request: GenerationRequest = {
  question: 'how many customers per country?',
  schema: shopSchema(),
  dialectName: 'PostgreSQL 16',
  queryLanguage: 'sql',
};
const accept = async () => undefined;

/** Resolves when the fake has received `n` requests in all. */
async function received(n: number): Promise<void> {
  while (fake.requests.length < n) await new Promise((r) => setTimeout(r, 10));
}

test('the budget runs out while Claude thinks: the call is aborted and the user is told, with the budget', async () => {
  const budget = new AbortController();
  fake.enqueue(toolUseReply('SELECT 1', { delayMs: 600_000 }));
  const generator = new SqlGenerator(client(), { turnBudgetMs: 90_000, budgetSignal: () => budget.signal });
  const pending = generator.generate(request, accept).catch((e: unknown) => e);
  await received(1);
  budget.abort();
  const error = await pending;
  expect(error).toBeInstanceOf(LlmError);
  expect((error as LlmError).code).toBe('llm_timeout');
  expect(toUserMessage(error)).toBe(
    'Claude did not come up with a query within 90 s.\nPlease try again; a shorter or more specific question also helps.',
  );
  // The request was dropped, not left to finish (the fake notes it once it sees the connection close).
  while (fake.requests[0]!.status === 0) await new Promise((r) => setTimeout(r, 5));
  expect(fake.requests[0]!.status).toBe(499);
});

test('the budget covers the repair rounds: a second, slow round is cut by the same budget', async () => {
  const budget = new AbortController();
  fake.enqueue(
    toolCallReply('run_query', { explanation: 'no sql' }),
    toolUseReply('SELECT 2', { delayMs: 600_000 }),
  );
  const generator = new SqlGenerator(client(), { budgetSignal: () => budget.signal });
  const pending = generator.generate(request, accept).catch((e: unknown) => e);
  await received(2);
  budget.abort();
  const error = (await pending) as LlmError;
  expect(error.code).toBe('llm_timeout');
  expect(error.detail).toMatchObject({ attempts: 1, budgetMs: 90_000 });
});

test('shutdown cancels the call in flight: an InterruptedError, not a failure of the question', async () => {
  const shutdown = new AbortController();
  fake.enqueue(toolUseReply('SELECT 1', { delayMs: 600_000 }));
  const generator = new SqlGenerator(client(), { signal: shutdown.signal });
  const pending = generator.generate(request, accept).catch((e: unknown) => e);
  await received(1);
  shutdown.abort();
  const error = await pending;
  expect(error).toBeInstanceOf(InterruptedError);
  expect(toUserMessage(error)).toBe(
    'threadql is restarting, so I stopped writing this query.\nAsk again in a moment.',
  );
});

test('an answer without a tool call is logged with its stop reason and a short excerpt, then repaired', async () => {
  const { logger, lines } = capturedLogger();
  const rambling = `Here is my thinking: ${'lorem ipsum '.repeat(400)}`;
  fake.enqueue(textReply(rambling), toolUseReply('SELECT 1'));
  const generator = new SqlGenerator(client(), { logger });
  const answer = await generator.generate(request, accept);
  expect(answer).toMatchObject({ kind: 'query', query: 'SELECT 1', attempts: 2 });
  expect(lines).toEqual([
    expect.objectContaining({
      msg: 'Claude answered without a usable tool call; asking it again',
      problem: 'the model answered in text instead of calling a tool',
      stopReason: 'end_turn',
      attempt: 1,
    }),
  ]);
  const excerpt = String(lines[0]!.excerpt);
  expect(excerpt.length).toBeLessThan(400);
  expect(excerpt).toMatch(/^\[\{"type":"text","text":"Here is my thinking/);
  expect(excerpt).toMatch(/… \([\d,]+ chars\)$/);
});

describe('a body that is not a message', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          `{"id":"msg_1","content":[{"type":"tool_use","name":"run_query","input":{"sql":"SELECT ${'x'.repeat(2000)}`,
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('is refused with a readable error and logged with its HTTP status and an excerpt', async () => {
    const { logger, lines } = capturedLogger();
    const error = await new SqlGenerator(client(url, logger))
      .generate(request, accept)
      .catch((e: unknown) => e);
    expect(toUserMessage(error)).toBe(
      'Claude sent a response I could not read (HTTP 200).\nPlease try again; if it keeps happening, check ANTHROPIC_BASE_URL and any proxy in between.',
    );
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'Claude sent a response that is not a readable message',
        status: 200,
        bytes: 2086,
      }),
    ]);
    expect(String(lines[0]!.excerpt)).toMatch(
      /^\{"id":"msg_1","content":\[\{"type":"tool_use".*… \(2,086 chars\)$/,
    );
  });
});
