/**
 * What a masked value becomes. `redact` shows `•••`; `hash` shows a short keyed hash, the same for the same value
 * under the same key, so joins, duplicates and counts still read; keyed, so a list of guesses (every email of a
 * domain) cannot be hashed and compared without the key. Nulls stay null: absence is not the value.
 *
 * The hash is SHA-256 over a secret fixed-length prefix and the value, cut to 32 bits. Not HMAC on purpose: Node's
 * createHmac costs ~30 µs a value (1M rows: 30 s), the one-shot crypto.hash under 1 µs; with the output cut to 8 hex
 * digits, length extension (HMAC's reason to exist) gives nothing to an attacker here.
 */
import { createHash, hash } from 'node:crypto';
import type { MaskMode } from '../../config/config-file.ts';

export const REDACTED = '•••';
/** Hex digits of the hash a hashed value shows (32 bits: distinct enough to read, too short to matter as a key). */
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
  /** The secret prefix: a digest of the key, so its length is fixed whatever the key. */
  readonly #prefix: string;
  /** Recent hashes by value: results repeat values (group keys, joins), and a chart re-hashes its table's. */
  readonly #memo = new Map<string, string>();

  constructor(key: string | Buffer) {
    const bytes = Buffer.isBuffer(key) ? key : Buffer.from(key, 'utf8');
    if (bytes.length < 16) throw new TypeError('the masking hash key must be at least 16 bytes');
    this.#prefix = createHash('sha256').update('threadql masking v1\0').update(bytes).digest('hex');
  }

  /** The shown form of `value` under `mode` (`hide` never reaches here: the column is dropped). */
  redact(value: unknown, mode: Exclude<MaskMode, 'hide'>): unknown {
    if (value === null || value === undefined) return null;
    if (mode === 'redact') return REDACTED;
    const text = canonical(value);
    let shown = this.#memo.get(text);
    if (shown === undefined) {
      shown = `•${hash('sha256', this.#prefix + text, 'hex').slice(0, HASH_DIGITS)}`;
      if (this.#memo.size >= MEMO_SIZE) this.#memo.clear();
      this.#memo.set(text, shown);
    }
    return shown;
  }
}

const MEMO_SIZE = 10_000;
