import type { Limits } from '../../config/config-file.ts';
import { InputTooLongError } from '../errors.ts';

/** A question in plain words, pasted SQL, or a message not yet known to be either (the larger limit applies). */
export type InputKind = 'question' | 'sql' | 'message';

/**
 * Refuses input longer than its limit (`limits.questionChars` for questions, `limits.sqlChars` for pasted SQL,
 * the larger of the two for a message not yet read) before anything is sent to Claude or a parser: the message
 * names both lengths.
 */
export function checkInputLength(
  text: string,
  kind: InputKind,
  limits: Pick<Limits, 'questionChars' | 'sqlChars'>,
): void {
  const limit =
    kind === 'question'
      ? limits.questionChars
      : kind === 'sql'
        ? limits.sqlChars
        : Math.max(limits.questionChars, limits.sqlChars);
  if (text.length <= limit) return;
  const what = kind === 'question' ? 'Your question' : kind === 'sql' ? 'Your SQL' : 'Your message';
  const n = (value: number) => value.toLocaleString('en-US');
  const extra =
    kind === 'message' && limits.questionChars < limit
      ? ` (${n(limits.questionChars)} for a question in plain words)`
      : '';
  throw new InputTooLongError(
    `${what} is ${n(text.length)} characters long; the limit is ${n(limit)} characters${extra}.`,
    {
      hint:
        kind === 'sql'
          ? 'Please shorten the statement, or ask an admin to raise limits.sqlChars in threadql.yml.'
          : 'Please shorten it: describe the data you want rather than pasting it.',
      detail: { kind, length: text.length, limit },
    },
  );
}
