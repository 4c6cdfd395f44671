/**
 * What a masked value becomes. `redact` shows `•••`; `hash` shows a short keyed hash (HMAC-SHA256), the same for
 * the same value under the same key, so joins, duplicates and counts still read; keyed, so a list of guesses
 * (every email of a domain) cannot be hashed and compared. Nulls stay null: absence is not the value.
 */
import { createHmac } from 'node:crypto';
import type { MaskMode } from '../../config/config-file.ts';

export const REDACTED = '•••';
/** Hex digits of the HMAC a hashed value shows (32 bits: distinct enough to read, too short to matter as a key). */
const HASH_DIGITS = 8;

function canonical(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value) ?? String(value);
}

/** Replaces values of masked columns; one per process, keyed from the master key. */
export class ValueRedactor {
  readonly #key: Buffer;

  constructor(key: string | Buffer) {
    this.#key = Buffer.isBuffer(key) ? key : Buffer.from(key, 'utf8');
    if (this.#key.length < 16) throw new TypeError('the masking hash key must be at least 16 bytes');
  }

  /** The shown form of `value` under `mode` (`hide` never reaches here: the column is dropped). */
  redact(value: unknown, mode: Exclude<MaskMode, 'hide'>): unknown {
    if (value === null || value === undefined) return null;
    if (mode === 'redact') return REDACTED;
    return `•${createHmac('sha256', this.#key).update(canonical(value)).digest('hex').slice(0, HASH_DIGITS)}`;
  }
}
