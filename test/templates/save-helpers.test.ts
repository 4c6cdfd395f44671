/**
 * What the save card and the schedule command lean on: Claude's parameter proposal (through the real Anthropic SDK
 * against the fake Messages API) accepted only when it changes nothing but literals, parameter lines people edit,
 * and channel references as each platform sends them.
 */
import { AnthropicLlmClient } from '../../core/llm/anthropic-llm-client.ts';
import { ValidationError } from '../../core/errors.ts';
import {
  formatParameterLines,
  guessParameterType,
  parseParameterLines,
} from '../../core/templates/parameter-lines.ts';
import { parseChannelRef } from '../../core/templates/parse-channel-ref.ts';
import { LlmParameterProposer, verifyProposal } from '../../core/templates/propose-parameters.ts';
import { FakeAnthropicServer, textReply, toolCallReply } from '../fakes/fake-anthropic-server.ts';

const fake = new FakeAnthropicServer({ apiKey: 'sk-ant-test-proposer' });
beforeAll(async () => {
  await fake.start();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

const proposer = () =>
  new LlmParameterProposer(
    new AnthropicLlmClient({
      apiKey: 'sk-ant-test-proposer',
      baseURL: fake.url,
      model: 'claude-sonnet-5-5',
      maxRetries: 0,
    }),
  );

const SQL =
  "SELECT * FROM orders WHERE shipping_country = 'DE' AND ordered_at >= '2026-01-01' AND total_cents > 5000";

describe('Claude’s parameter proposal', () => {
  it('is accepted when putting the literals back gives the query, with typed defaults', async () => {
    fake.enqueue(
      toolCallReply('propose_parameters', {
        sql: 'SELECT * FROM orders WHERE shipping_country = :country AND ordered_at >= :since AND total_cents > :min_total',
        parameters: [
          { name: 'country', type: 'text', literal: "'DE'" },
          { name: 'since', type: 'date', literal: "'2026-01-01'" },
          { name: 'min_total', type: 'number', literal: '5000' },
        ],
      }),
    );
    const proposal = await proposer().propose({
      databaseType: 'postgres',
      sql: SQL,
      question: 'big German orders',
    });
    expect(proposal?.parameters).toEqual([
      { name: 'country', type: 'text', default: 'DE', required: false },
      { name: 'since', type: 'date', default: '2026-01-01', required: false },
      { name: 'min_total', type: 'number', default: 5000, required: false },
    ]);
    const request = fake.requests.at(-1)!.body;
    expect(JSON.stringify(request.messages)).toContain("shipping_country = 'DE'");
    expect(request.tools?.map((t) => t.name)).toEqual(['propose_parameters']);
  });

  it('is refused when it changes more than literals, mistypes one, or leaves a placeholder undefined', async () => {
    const changed = await verifyProposal('postgres', SQL, {
      sql: 'SELECT * FROM orders WHERE shipping_country = :country AND ordered_at >= :since',
      parameters: [
        { name: 'country', type: 'text', literal: "'DE'" },
        { name: 'since', type: 'date', literal: "'2026-01-01'" },
      ],
    });
    expect(changed).toEqual({ ok: false, reason: 'the proposal changes more than literal values' });
    const mistyped = await verifyProposal('postgres', SQL, {
      sql: SQL.replace("'DE'", ':country'),
      parameters: [{ name: 'country', type: 'number', literal: "'DE'" }],
    });
    expect(mistyped).toEqual({ ok: false, reason: "'DE' is not a number" });
    const undefinedUse = await verifyProposal('postgres', SQL, {
      sql: SQL.replace("'DE'", ':country'),
      parameters: [],
    });
    expect(undefinedUse).toEqual({ ok: false, reason: 'placeholders and parameters do not match' });
    // And a refused proposal means none on the card.
    fake.enqueue(toolCallReply('propose_parameters', { sql: 'DROP TABLE orders', parameters: [] }));
    expect(await proposer().propose({ databaseType: 'postgres', sql: SQL, question: '' })).toBeUndefined();
  });

  it('MongoDB: literals put back must give the same document', async () => {
    const query = JSON.stringify({
      collection: 'orders',
      operation: 'find',
      filter: { status: 'paid', total: { $gt: 10 } },
    });
    const ok = await verifyProposal('mongodb', query, {
      sql: JSON.stringify({
        collection: 'orders',
        operation: 'find',
        filter: { status: ':status', total: { $gt: ':min' } },
      }),
      parameters: [
        { name: 'status', type: 'text', literal: '"paid"' },
        { name: 'min', type: 'number', literal: '10' },
      ],
    });
    expect(ok.ok && ok.proposal.parameters.map((p) => p.default)).toEqual(['paid', 10]);
    const moved = await verifyProposal('mongodb', query, {
      sql: JSON.stringify({
        collection: 'customers',
        operation: 'find',
        filter: { status: ':status', total: { $gt: 10 } },
      }),
      parameters: [{ name: 'status', type: 'text', literal: '"paid"' }],
    });
    expect(moved.ok).toBe(false);
  });

  it('no tool call (Claude answered in words) means no proposal', async () => {
    fake.enqueue(textReply('Nothing to parameterise.'));
    expect(
      await proposer().propose({ databaseType: 'sqlite', sql: 'SELECT 1', question: '' }),
    ).toBeUndefined();
  });
});

describe('parameter lines', () => {
  it('round-trip, with defaults, required and optional', () => {
    const parsed = parseParameterLines(
      'country text = Germany\nsince date required\nlimit number = 10\nactive boolean optional',
    );
    expect(parsed).toEqual([
      { name: 'country', type: 'text', default: 'Germany', required: false },
      { name: 'since', type: 'date', required: true },
      { name: 'limit', type: 'number', default: 10, required: false },
      { name: 'active', type: 'boolean', required: false },
    ]);
    expect(parseParameterLines(formatParameterLines(parsed))).toEqual(parsed);
  });

  it('say which line is wrong and why', () => {
    expect(() => parseParameterLines('since date = last tuesday\nn integer')).toThrow(ValidationError);
    expect(() => parseParameterLines('since date = last tuesday\nn integer')).toThrow(
      'line 1: since: expected a date like 2026-01-31, got "last tuesday"',
    );
  });

  it('guess a placeholder’s type from its name', () => {
    expect(
      ['since', 'start_date', 'created_at', 'limit', 'min_total', 'is_active', 'country'].map(
        guessParameterType,
      ),
    ).toEqual(['date', 'date', 'date', 'number', 'number', 'boolean', 'text']);
  });
});

describe('channel references', () => {
  it('take each platform’s form and refuse the others with how to write one', () => {
    expect(parseChannelRef('slack', 'T1', '<#C0123ABC|growth>')).toEqual({
      channel: { platform: 'slack', workspace: 'T1', channel: 'C0123ABC' },
      name: 'growth',
    });
    expect(parseChannelRef('slack', 'T1', '<#C0123ABC>').channel.channel).toBe('C0123ABC');
    expect(parseChannelRef('discord', 'G1', '<#123456789012345678>').channel.channel).toBe(
      '123456789012345678',
    );
    expect(parseChannelRef('shell', 'local', '#reports')).toEqual({
      channel: { platform: 'shell', workspace: 'local', channel: 'reports' },
      name: 'reports',
    });
    expect(() => parseChannelRef('slack', 'T1', '#growth')).toThrow(
      '"#growth" is not a channel I can post in from here.',
    );
    expect(() => parseChannelRef('discord', 'G1', '<#C0123ABC|growth>')).toThrow(ValidationError);
  });
});
