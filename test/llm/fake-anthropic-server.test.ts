import { errorReply, FakeAnthropicServer, textReply } from '../fakes/fake-anthropic-server.ts';

const fake = new FakeAnthropicServer();

beforeAll(async () => {
  await fake.start();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
});

async function post(
  body: unknown,
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const response = await fetch(`${fake.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'k' },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}

const HELLO = { model: 'claude-sonnet-5-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] };

describe('FakeAnthropicServer', () => {
  test('answers in the Messages wire format with a request-id header', async () => {
    fake.enqueue(textReply('hello'));
    const { status, headers, json } = await post(HELLO);
    expect(status).toBe(200);
    expect(headers.get('request-id')).toMatch(/^req_fake/);
    expect(json).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-5-5',
      content: [{ type: 'text', text: 'hello' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: expect.any(Number),
        output_tokens: expect.any(Number),
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
    expect(fake.requests[0]!.body).toEqual(HELLO);
    expect(fake.requests[0]!.apiKey).toBe('k');
  });

  test('errors use the Anthropic error shape and carry retry-after when scripted', async () => {
    fake.enqueue(errorReply(429, { retryAfter: '12' }));
    const { status, headers, json } = await post(HELLO);
    expect(status).toBe(429);
    expect(headers.get('retry-after')).toBe('12');
    expect(json).toMatchObject({
      type: 'error',
      error: { type: 'rate_limit_error' },
      request_id: expect.stringMatching(/^req_fake/),
    });
  });

  test('rejects a tool_result that answers no tool_use, like the real API', async () => {
    fake.enqueue(textReply('unused'));
    const { status, json } = await post({
      ...HELLO,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: [{ type: 'text', text: 'hm' }] },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_x', content: 'boom', is_error: true }],
        },
      ],
    });
    expect(status).toBe(400);
    expect(json).toMatchObject({
      error: { type: 'invalid_request_error', message: expect.stringContaining('toolu_x') },
    });
    expect(fake.pending).toBe(1);
  });

  test('an empty queue is a 400 unless a fallback is set', async () => {
    expect((await post(HELLO)).status).toBe(400);
    fake.setFallback((body) => textReply(`echo ${body.messages.length}`));
    const { status, json } = await post(HELLO);
    expect(status).toBe(200);
    expect(json.content).toEqual([{ type: 'text', text: 'echo 1' }]);
  });
});
