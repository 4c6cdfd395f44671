/**
 * The production settings: their defaults, their bounds, and the input-limit check that uses them.
 */
import { loadEnv } from '../../config/env.ts';
import { parseConfigText } from '../../config/load-config.ts';
import { checkInputLength } from '../../core/conversation/input-limits.ts';
import { ConfigError, InputTooLongError, toUserMessage } from '../../core/errors.ts';

test('defaults: 4,000-character questions, a 90 s LLM budget, a 10 s shutdown grace; no health port', () => {
  const file = parseConfigText('connections: []\n', {});
  expect(file.limits).toMatchObject({ questionChars: 4000, sqlChars: 20_000 });
  expect(file.llm).toEqual({ turnBudgetMs: 90_000 });
  expect(file.shutdown).toEqual({ graceMs: 10_000 });
  expect(loadEnv({}).HEALTH_PORT).toBeUndefined();
  expect(loadEnv({ HEALTH_PORT: '9464' }).HEALTH_PORT).toBe(9464);
});

test('settings are checked: a limit above what history can keep, or a bad port, is refused by name', () => {
  expect(() => parseConfigText('limits:\n  questionChars: 50000\n', {})).toThrow(ConfigError);
  expect(() => parseConfigText('shutdown:\n  graceMs: -1\n', {})).toThrow(/shutdown\.graceMs/);
  expect(() => parseConfigText('llm:\n  turnBudget: 5\n', {})).toThrow(/llm/);
  expect(() => loadEnv({ HEALTH_PORT: 'ninety' })).toThrow(/HEALTH_PORT: expected a port number/);
});

test('input over its limit is refused with both lengths and what to do', () => {
  const limits = { questionChars: 4000, sqlChars: 20_000 };
  expect(() => checkInputLength('x'.repeat(4000), 'question', limits)).not.toThrow();
  let error: unknown;
  try {
    checkInputLength('x'.repeat(40_123), 'question', limits);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InputTooLongError);
  expect(toUserMessage(error)).toBe(
    'Your question is 40,123 characters long; the limit is 4,000 characters.\nPlease shorten it: describe the data you want rather than pasting it.',
  );
  expect(() => checkInputLength('S'.repeat(20_001), 'sql', limits)).toThrow(
    'Your SQL is 20,001 characters long; the limit is 20,000 characters.',
  );
  // Before a message is read as SQL or a question, only the larger limit can apply.
  expect(() => checkInputLength('m'.repeat(19_000), 'message', limits)).not.toThrow();
  expect(() => checkInputLength('m'.repeat(84_000), 'message', limits)).toThrow(
    'Your message is 84,000 characters long; the limit is 20,000 characters (4,000 for a question in plain words).',
  );
});
