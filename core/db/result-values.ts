/** Value normalisation shared by the SQL drivers: results carry only JSON-friendly values, Dates and strings. */

/** Binary values become `\x…` hex text (PostgreSQL's own notation), so results stay plain data. */
export function binaryToHex(value: Uint8Array): string {
  return `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
}

/** A BigInt becomes a number when it is exact, otherwise its decimal string (kind 'number' either way). */
export function bigintToValue(value: bigint): number | string {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}

/** Normalises one driver value: binary → hex text, bigint → number or string; everything else as is. */
export function plainValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return binaryToHex(value);
  if (typeof value === 'bigint') return bigintToValue(value);
  return value;
}
