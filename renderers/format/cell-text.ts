/**
 * One way to turn a result value into display text, shared by the text table, the Slack table block and the
 * table PNG, so a value reads the same everywhere.
 */
import type { ValueKind } from '../../core/db/database-dialect.ts';

/** What a missing value (SQL NULL, MongoDB null/undefined) shows as. */
export const NULL_TEXT = 'NULL';

/** True when the value is SQL NULL (or a missing MongoDB field). */
export function isNullValue(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** A Date as `YYYY-MM-DD` (date kind) or `YYYY-MM-DD HH:MM:SS[.mmm]` in UTC; drivers hand dates over as UTC. */
export function formatDate(date: Date, kind: ValueKind): string {
  const time = date.getTime();
  if (Number.isNaN(time)) return 'Invalid Date';
  const year = date.getUTCFullYear();
  if (year < 1000 || year > 9999) return formatDateSlowly(date, kind);
  // toISOString is one native call (YYYY-MM-DDTHH:MM:SS.mmmZ): a CSV of a million timestamps calls this a million
  // times, and slicing it makes a third of the short-lived strings that assembling the parts did.
  const iso = date.toISOString();
  const midnight = time % 86_400_000 === 0;
  if (kind === 'date' || (midnight && kind !== 'datetime')) return iso.slice(0, 10);
  return time % 1000 === 0
    ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}`
    : `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** formatDate for years outside 1000–9999, which toISOString pads to four digits or writes with a sign. */
function formatDateSlowly(date: Date, kind: ValueKind): string {
  const day = `${date.getUTCFullYear()}-${pad2(date.getUTCMonth() + 1)}-${pad2(date.getUTCDate())}`;
  const midnight =
    date.getUTCHours() === 0 &&
    date.getUTCMinutes() === 0 &&
    date.getUTCSeconds() === 0 &&
    date.getUTCMilliseconds() === 0;
  if (kind === 'date' || (midnight && kind !== 'datetime')) return day;
  const time = `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())}`;
  const ms = date.getUTCMilliseconds();
  return ms ? `${day} ${time}.${String(ms).padStart(3, '0')}` : `${day} ${time}`;
}

/** A JS number without binary-float noise (0.1 + 0.2 shows as 0.3), integers exactly. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(12)));
}

function binaryText(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.subarray(0, 16)).toString('hex');
  return bytes.length > 16 ? `0x${head}… (${bytes.length} bytes)` : `0x${head}`;
}

/** Makes line breaks and tabs visible in one-line cells; other control characters become U+FFFD. */
export function flattenWhitespace(text: string): string {
  return (
    text
      .replace(/\r\n|\r|\n/g, '↵')
      .replace(/\t/g, ' ')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f]/g, '\ufffd')
  );
}

/** The display text of one cell (one line, never empty for a non-null value's kind). */
export function cellText(value: unknown, kind: ValueKind, nullText: string = NULL_TEXT): string {
  if (isNullValue(value)) return nullText;
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return formatDate(value, kind);
  if (value instanceof Uint8Array) return binaryText(value);
  if (typeof value === 'string') return flattenWhitespace(value);
  try {
    return flattenWhitespace(
      JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    );
  } catch {
    return flattenWhitespace(String(value));
  }
}

/** True for columns whose values read best right-aligned. */
export function isNumericKind(kind: ValueKind): boolean {
  return kind === 'number';
}
