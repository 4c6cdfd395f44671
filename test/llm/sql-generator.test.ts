import type { QueryGenerator } from '../../core/conversation/engine-ports.ts';
import { AnthropicLlmClient } from '../../core/llm/anthropic-llm-client.ts';
import {
  SqlGenerator,
  type CandidateValidator,
  type GenerationRequest,
} from '../../core/llm/sql-generator.ts';
import { LlmError } from '../../core/errors.ts';
import { parseMongoQuery } from '../../core/safety/mongo-query.ts';
import {
  clarifyReply,
  FakeAnthropicServer,
  mongoToolUseReply,
  textReply,
  toolCallReply,
  toolUseReply,
  type MessagesRequestBody,
} from '../fakes/fake-anthropic-server.ts';
import { bigSchema, shopSchema } from './schema-fixtures.ts';

const fake = new FakeAnthropicServer({ apiKey: 'sk-ant-test-generator' });

beforeAll(async () => {
  await fake.start();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
});

function generator(options: ConstructorParameters<typeof SqlGenerator>[1] = {}): SqlGenerator {
  const client = new AnthropicLlmClient({
    apiKey: 'sk-ant-test-generator',
    baseURL: fake.url,
    model: 'claude-sonnet-5-5',
    maxRetries: 0,
  });
  return new SqlGenerator(client, { clock: () => new Date('2026-03-02T10:00:00Z'), ...options });
}

function request(overrides: Partial<GenerationRequest> = {}): GenerationRequest {
  return {
    question: 'How many customers signed up each week this quarter, by country?',
    schema: shopSchema(),
    dialectName: 'PostgreSQL 16',
    queryLanguage: 'sql',
    identifierQuote: '"',
    connectionName: 'shop',
    ...overrides,
  };
}

/** A validator that records candidates and answers from a list (undefined = accept). */
function validator(answers: (string | undefined)[] = []): CandidateValidator & { seen: string[] } {
  const seen: string[] = [];
  const fn = async (query: string) => {
    seen.push(query);
    return answers[seen.length - 1];
  };
  return Object.assign(fn, { seen });
}

function systemBlocks(body: MessagesRequestBody) {
  if (!Array.isArray(body.system)) throw new Error('expected system blocks');
  return body.system;
}

const WEEKLY_SQL =
  "SELECT date_trunc('week', c.signed_up_at) AS week, co.name AS country, count(*) AS signups FROM customers c JOIN countries co ON co.id = c.country_id WHERE c.signed_up_at >= date_trunc('quarter', now()) GROUP BY 1, 2 ORDER BY 1";

describe('SqlGenerator against the real SDK and a fake Messages API', () => {
  test('a query answer: SQL, explanation, chart and title from the run_query tool', async () => {
    fake.enqueue(
      toolUseReply(WEEKLY_SQL, {
        explanation: 'Counts signups per week and country since the start of the quarter.',
        title: 'Weekly signups by country',
        chart: { type: 'line', x: 'week', y: 'signups', series: 'country' },
        usage: {
          input_tokens: 1200,
          output_tokens: 150,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
        },
      }),
    );
    const validate = validator();
    const answer = await generator().generate(request(), validate);

    expect(answer).toMatchObject({
      kind: 'query',
      query: WEEKLY_SQL,
      language: 'sql',
      explanation: 'Counts signups per week and country since the start of the quarter.',
      title: 'Weekly signups by country',
      chart: { type: 'line', x: 'week', y: 'signups', series: 'country' },
      attempts: 1,
    });
    expect(validate.seen).toEqual([WEEKLY_SQL]);
    expect(answer.usage).toMatchObject({ inputTokens: 1200, outputTokens: 150, requests: 1 });
    expect(answer.usage.llmMs).toBeGreaterThanOrEqual(0);

    expect(fake.requests).toHaveLength(1);
    const [sent] = fake.requests;
    expect(sent!.apiKey).toBe('sk-ant-test-generator');
    expect(sent!.path).toBe('/v1/messages');
    expect(sent!.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const body = sent!.body;
    expect(body.model).toBe('claude-sonnet-5-5');
    expect(body.tools!.map((t) => t.name)).toEqual([
      'run_query',
      'ask_clarifying_question',
      'propose_migration',
    ]);
    expect(body.tools![0]!.input_schema).toMatchObject({
      type: 'object',
      required: expect.arrayContaining(['sql', 'explanation']),
    });
    // Forced tool choice is a 400 on Claude Sonnet 5.5 (thinking on), so the generator steers by prompt.
    expect(body.tool_choice).toEqual({ type: 'auto' });
    const system = systemBlocks(body);
    expect(system[0]!.text).toContain('PostgreSQL 16');
    expect(system[0]!.text).toContain('LIMIT 100');
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: 'How many customers signed up each week this quarter, by country?\n\n(Today is 2026-03-02.)',
      },
    ]);
  });

  test('prompt caching: the schema block carries cache_control, and a second question reads the cache', async () => {
    const g = generator();
    fake.enqueue(toolUseReply('SELECT count(*) FROM orders'), toolUseReply('SELECT count(*) FROM customers'));
    const first = await g.generate(request({ question: 'how many orders?' }), validator());
    const second = await g.generate(request({ question: 'how many customers?' }), validator());

    const system = systemBlocks(fake.requests[0]!.body);
    const schemaBlock = system[system.length - 1]!;
    expect(schemaBlock.cache_control).toEqual({ type: 'ephemeral' });
    expect(schemaBlock.text).toContain('<schema>');
    expect(schemaBlock.text).toContain('orders(id bigint PK, customer_id bigint FK→customers.id');
    expect(schemaBlock.text).toContain('connection "shop"');
    // Only the schema block is a breakpoint; the rules before it are cached as part of the same prefix.
    expect(system.filter((b) => b.cache_control)).toHaveLength(1);
    // The system prompt does not change with the question, so the cached prefix is reused.
    expect(fake.requests[1]!.body.system).toEqual(fake.requests[0]!.body.system);

    expect(first.usage.cacheCreationTokens).toBeGreaterThan(0);
    expect(first.usage.cacheReadTokens).toBe(0);
    expect(second.usage.cacheReadTokens).toBe(first.usage.cacheCreationTokens);
    expect(second.usage.cacheCreationTokens).toBe(0);
  });

  test('a clarifying question', async () => {
    fake.enqueue(clarifyReply('Revenue before or after refunds?', ['before refunds', 'after refunds']));
    const validate = validator();
    const answer = await generator().generate(
      request({ question: 'what was revenue last month?' }),
      validate,
    );
    expect(answer).toMatchObject({
      kind: 'clarify',
      question: 'Revenue before or after refunds?',
      options: ['before refunds', 'after refunds'],
      attempts: 1,
    });
    expect(validate.seen).toEqual([]);
  });

  test('a repair round: the validation error reaches the model as an is_error tool_result, the fix is returned', async () => {
    const bad = toolUseReply('SELECT signup_at FROM customers', {
      thinking: true,
      usage: {
        input_tokens: 1000,
        output_tokens: 80,
        cache_creation_input_tokens: 900,
        cache_read_input_tokens: 0,
      },
    });
    const good = toolUseReply('SELECT signed_up_at FROM customers LIMIT 100', {
      usage: {
        input_tokens: 1100,
        output_tokens: 60,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 900,
      },
    });
    fake.enqueue(bad, good);
    const validate = validator(['column "signup_at" does not exist']);
    const answer = await generator().generate(request({ question: 'list signup times' }), validate);

    expect(answer).toMatchObject({
      kind: 'query',
      query: 'SELECT signed_up_at FROM customers LIMIT 100',
      attempts: 2,
    });
    expect(validate.seen).toEqual([
      'SELECT signup_at FROM customers',
      'SELECT signed_up_at FROM customers LIMIT 100',
    ]);
    // Usage is summed over both requests.
    expect(answer.usage).toMatchObject({
      inputTokens: 2100,
      outputTokens: 140,
      cacheCreationTokens: 900,
      cacheReadTokens: 900,
      requests: 2,
    });

    expect(fake.requests).toHaveLength(2);
    const messages = fake.requests[1]!.body.messages;
    expect(messages).toHaveLength(3);
    // The assistant turn is echoed whole, thinking block (with its signature) included.
    expect(messages[1]).toEqual({ role: 'assistant', content: bad.content });
    const feedback = messages[2]!;
    expect(feedback.role).toBe('user');
    const toolUseId = (bad.content[1] as { id: string }).id;
    expect(feedback.content).toEqual([
      {
        type: 'tool_result',
        tool_use_id: toolUseId,
        is_error: true,
        content: expect.stringContaining('column "signup_at" does not exist'),
      },
    ]);
  });

  test('gives up after 3 tries with a clear llm_no_answer error carrying the usage', async () => {
    fake.enqueue(
      toolUseReply('SELECT a FROM nope'),
      toolUseReply('SELECT b FROM nope'),
      toolUseReply('SELECT c FROM nope'),
    );
    const validate = validator([
      'relation "nope" does not exist',
      'relation "nope" does not exist',
      'still no "nope"',
    ]);
    const error = await generator()
      .generate(request({ question: 'the nope report' }), validate)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(LlmError);
    const llmError = error as LlmError;
    expect(llmError.code).toBe('llm_no_answer');
    expect(llmError.message).toBe(
      'I could not write a working query in 3 tries. The last problem: still no "nope"',
    );
    expect(llmError.hint).toContain('rephrasing');
    expect(llmError.detail).toMatchObject({
      attempts: 3,
      lastQuery: 'SELECT c FROM nope',
      usage: { requests: 3 },
    });
    expect(validate.seen).toHaveLength(3);
    expect(fake.requests).toHaveLength(3);
    expect(fake.pending).toBe(0);
    // Each repair request carries every earlier failure, in order.
    const last = fake.requests[2]!.body.messages;
    expect(last.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
  });

  test('maxAttempts is configurable', async () => {
    fake.enqueue(toolUseReply('SELECT 1 FROM x'));
    const error = await generator({ maxAttempts: 1 })
      .generate(request(), validator(['bad']))
      .catch((e: unknown) => e);
    expect((error as LlmError).code).toBe('llm_no_answer');
    expect(fake.requests).toHaveLength(1);
  });

  test('a text-only answer is nudged back to the tools', async () => {
    fake.enqueue(
      textReply('You could count customers per week.'),
      toolUseReply('SELECT count(*) FROM customers'),
    );
    const answer = await generator().generate(request(), validator());
    expect(answer).toMatchObject({ kind: 'query', query: 'SELECT count(*) FROM customers', attempts: 2 });
    const nudge = fake.requests[1]!.body.messages[2]!;
    expect(nudge.role).toBe('user');
    expect(JSON.stringify(nudge.content)).toContain('Please answer by calling run_query');
  });

  test('invalid tool input is reported back to the model and repaired', async () => {
    fake.enqueue(toolCallReply('run_query', { explanation: 'no sql here' }), toolUseReply('SELECT 1'));
    const validate = validator();
    const answer = await generator().generate(request(), validate);
    expect(answer).toMatchObject({ kind: 'query', query: 'SELECT 1', attempts: 2 });
    expect(validate.seen).toEqual(['SELECT 1']);
    const feedback = fake.requests[1]!.body.messages[2]!.content as { is_error: boolean; content: string }[];
    expect(feedback[0]!.is_error).toBe(true);
    expect(feedback[0]!.content).toContain('Invalid input: sql:');
  });

  test('earlier turns become messages and reviewed examples sit before the schema block', async () => {
    fake.enqueue(toolUseReply('SELECT 1'));
    await generator().generate(
      request({
        question: 'only Germany, and make it monthly',
        history: [
          { question: 'weekly signups by country', sql: WEEKLY_SQL, status: 'success', resultCount: 52 },
          { question: 'what about refunds?', summary: 'Asked: refunds of orders or of payments?' },
        ],
        examples: [
          { question: 'orders per status', sql: 'SELECT status, count(*) FROM orders GROUP BY status' },
        ],
      }),
      validator(),
    );
    const body = fake.requests[0]!.body;
    expect(body.messages).toEqual([
      { role: 'user', content: 'weekly signups by country' },
      { role: 'assistant', content: `\`\`\`sql\n${WEEKLY_SQL}\n\`\`\`\n(status: success, 52 rows)` },
      { role: 'user', content: 'what about refunds?' },
      { role: 'assistant', content: 'Asked: refunds of orders or of payments?' },
      { role: 'user', content: 'only Germany, and make it monthly\n\n(Today is 2026-03-02.)' },
    ]);
    const system = systemBlocks(body);
    expect(system).toHaveLength(3);
    expect(system[1]!.text).toContain(
      'Question: orders per status\nSQL:\nSELECT status, count(*) FROM orders GROUP BY status',
    );
    expect(system[1]!.cache_control).toBeUndefined();
    expect(system[2]!.cache_control).toEqual({ type: 'ephemeral' });
  });

  test('a 1,000-table schema is never sent whole', async () => {
    fake.enqueue(toolUseReply('SELECT 1'));
    const answer = await generator({ schemaContext: { maxChars: 12_000 } }).generate(
      request({
        question: 'How many orders did customers in Germany place per week?',
        schema: bigSchema(1_000),
      }),
      validator(),
    );
    const schemaText = systemBlocks(fake.requests[0]!.body)[1]!.text;
    expect(schemaText.length).toBeLessThan(13_000);
    expect(schemaText).toContain('of 1000; ');
    expect(schemaText).toMatch(/^orders\(/m);
    expect(schemaText).toMatch(/^customers\(/m);
    expect(answer.kind === 'query' && answer.schemaTables.slice(0, 2).sort()).toEqual([
      'customers',
      'orders',
    ]);
  });

  test('MongoDB: the tool asks for the query shape, and the answer is its canonical JSON text', async () => {
    const pipeline = [{ $group: { _id: '$status', n: { $sum: 1 } } }];
    fake.enqueue(mongoToolUseReply({ collection: 'orders', operation: 'aggregate', pipeline }));
    const validate = validator();
    const answer = await generator().generate(
      request({
        dialectName: 'MongoDB 7',
        queryLanguage: 'mongo',
        identifierQuote: '',
        question: 'orders per status',
      }),
      validate,
    );
    expect(answer).toMatchObject({ kind: 'query', language: 'mongo', attempts: 1 });
    const query = answer.kind === 'query' ? answer.query : '';
    expect(JSON.parse(query)).toEqual({ collection: 'orders', operation: 'aggregate', pipeline });
    expect(parseMongoQuery(query)).toEqual({ collection: 'orders', operation: 'aggregate', pipeline });
    expect(validate.seen).toEqual([query]);
    const schema = fake.requests[0]!.body.tools![0]!.input_schema as {
      properties: Record<string, { enum?: string[] }>;
    };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['collection', 'operation', 'pipeline', 'filter', 'field', 'command']),
    );
    expect(schema.properties.operation!.enum).toEqual(['find', 'aggregate', 'count', 'distinct']);
    expect(systemBlocks(fake.requests[0]!.body)[0]!.text).toContain('never $out or $merge');
  });

  test('MongoDB: a shape error goes back to the model naming the field and the accepted shapes', async () => {
    fake.enqueue(
      mongoToolUseReply({ collection: 'orders', pipeline: [{ $match: { status: 'paid' } }] }),
      mongoToolUseReply({ collection: 'orders', operation: 'count', filter: {}, sort: { total: -1 } }),
      mongoToolUseReply({ command: { count: 'orders', query: { status: 'paid' } } }),
    );
    const validate = validator();
    const answer = await generator().generate(
      request({ dialectName: 'MongoDB 7', queryLanguage: 'mongo', question: 'how many paid orders' }),
      validate,
    );
    expect(answer).toMatchObject({ kind: 'query', attempts: 3 });
    expect(answer.kind === 'query' && parseMongoQuery(answer.query)).toEqual({
      collection: 'orders',
      operation: 'count',
      filter: { status: 'paid' },
    });
    // Only the third candidate was a valid shape, so only it reached the caller's check.
    expect(validate.seen).toHaveLength(1);
    const feedback = (n: number): string => {
      const last = fake.requests[n]!.body.messages.at(-1)!.content as Record<string, unknown>[];
      return String(last[0]!.content);
    };
    expect(feedback(1)).toMatch(/operation must be one of find, aggregate, count, distinct/);
    expect(feedback(1)).toContain('"operation": "aggregate", "pipeline"');
    expect(feedback(2)).toMatch(/count takes no sort \(it takes filter, limit, skip\)/);
    expect(feedback(2)).toContain('or a read command');
  });

  test('without chart hints the run_query schema has no chart property', async () => {
    fake.enqueue(toolUseReply('SELECT 1'));
    await generator().generate(request({ chartHintAllowed: false }), validator());
    const schema = fake.requests[0]!.body.tools![0]!.input_schema as { properties: Record<string, unknown> };
    expect(schema.properties.chart).toBeUndefined();
    expect(schema.properties.sql).toBeDefined();
  });

  test('forceToolUse sends tool_choice any for models that allow it', async () => {
    fake.enqueue(toolUseReply('SELECT 1'));
    await generator({ forceToolUse: true }).generate(request(), validator());
    expect(fake.requests[0]!.body.tool_choice).toEqual({ type: 'any' });
  });

  test('an API error mid-repair keeps the usage spent so far on the error', async () => {
    fake.enqueue(
      toolUseReply('SELECT x', {
        usage: {
          input_tokens: 10,
          output_tokens: 5,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
        },
      }),
      { kind: 'error', status: 401 },
    );
    const error = (await generator()
      .generate(request(), validator(['bad column x']))
      .catch((e: unknown) => e)) as LlmError;
    expect(error.code).toBe('llm_auth_failed');
    expect(error.detail).toMatchObject({ usage: { inputTokens: 10, outputTokens: 5, requests: 1 } });
  });

  test('without an API key the generator fails with llm_not_configured and sends nothing', async () => {
    const g = new SqlGenerator(
      new AnthropicLlmClient({ apiKey: undefined, baseURL: fake.url, model: 'claude-sonnet-5-5' }),
    );
    const error = (await g.generate(request(), validator()).catch((e: unknown) => e)) as LlmError;
    expect(error.code).toBe('llm_not_configured');
    expect(error.hint).toContain('ANTHROPIC_API_KEY');
    expect(fake.requests).toHaveLength(0);
  });

  test('plugs into the conversation engine port as is', async () => {
    // Type-checked by tsc: the engine's QueryGenerator (validate(query: string)) accepts a SqlGenerator.
    const port: QueryGenerator = generator();
    fake.enqueue(toolUseReply('SELECT 1'));
    const seen: string[] = [];
    const answer = await port.generate(
      {
        question: 'one',
        schema: shopSchema(),
        dialectName: 'SQLite 3',
        queryLanguage: 'sql',
        history: [{ question: 'zero', status: 'success' }],
      },
      async (query) => {
        seen.push(query);
        return undefined;
      },
    );
    expect(answer).toMatchObject({ kind: 'query', query: 'SELECT 1', attempts: 1 });
    expect(seen).toEqual(['SELECT 1']);
  });
});

describe('SqlGenerator: schema changes as migrations', () => {
  it('returns a migration from propose_migration, after its scripts pass the validator (errors go back to Claude)', async () => {
    const broken = {
      description: 'Add an index on orders(customer_id)',
      up: 'CREATE INDEX i ON orders (customer_id',
      down: 'DROP INDEX i',
    };
    fake.enqueue(toolCallReply('propose_migration', broken));
    fake.enqueue(
      toolCallReply('propose_migration', {
        ...broken,
        name: 'add_orders_customer_index',
        up: 'CREATE INDEX i ON orders (customer_id)',
      }),
    );
    const validate = validator(['The query does not parse: syntax error at end of input']);
    const answer = await generator().generate(
      request({ question: 'add an index on orders(customer_id)' }),
      validate,
    );
    expect(answer).toMatchObject({
      kind: 'migration',
      description: 'Add an index on orders(customer_id)',
      name: 'add_orders_customer_index',
      up: 'CREATE INDEX i ON orders (customer_id)',
      down: 'DROP INDEX i',
      attempts: 2,
    });
    expect(validate.seen).toEqual([
      'CREATE INDEX i ON orders (customer_id',
      'CREATE INDEX i ON orders (customer_id)',
      'DROP INDEX i',
    ]);
    const retry = fake.requests[1]!.body.messages.at(-1)!;
    expect(JSON.stringify(retry)).toContain('The up script failed: The query does not parse');
    expect(JSON.stringify(systemBlocks(fake.requests[0]!.body))).toContain(
      'call propose_migration with a one-sentence description',
    );
  });

  it('offers no migration tool on MongoDB', async () => {
    fake.enqueue(clarifyReply('Which collection?'));
    await generator().generate(request({ queryLanguage: 'mongo', dialectName: 'MongoDB 7' }), validator());
    expect(fake.requests[0]!.body.tools!.map((t) => t.name)).toEqual([
      'run_query',
      'ask_clarifying_question',
    ]);
  });
});
