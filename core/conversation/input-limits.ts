import type { Limits } from '../../config/config-file.ts';
import { InputTooLongError } from '../errors.ts';

export type InputKind = 'question' | 'sql';

const SETTING: Record<InputKind, 'questionChars' | 'sqlChars'> = {
  question: 'questionChars',
  sql: 'sqlChars',
};

/**
 * Refuses input longer than its limit (`limits.questionChars` for questions, `limits.sqlChars` for pasted SQL)
 * before anything is sent to Claude or a parser: the message names both lengths and the setting.
 */
export function checkInputLength(
  text: string,
  kind: InputKind,
  limits: Pick<Limits, 'questionChars' | 'sqlChars'>,
): void {
  const limit = limits[SETTING[kind]];
  if (text.length <= limit) return;
  const what = kind === 'question' ? 'Your question' : 'Your SQL';
  const n = (value: number) => value.toLocaleString('en-US');
  throw new InputTooLongError(
    `${what} is ${n(text.length)} characters long; the limit is ${n(limit)} characters.`,
    {
      hint:
        kind === 'question'
          ? 'Please shorten it: describe the data you want rather than pasting it.'
          : `Please shorten the statement, or ask an admin to raise limits.${SETTING[kind]} in threadql.yml.`,
      detail: { kind, length: text.length, limit },
    },
  );
}
