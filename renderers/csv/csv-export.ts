/**
 * Streaming CSV (RFC 4180: CRLF line ends, fields quoted when they hold a comma, quote or line break, quotes
 * doubled; UTF-8) for results of any size, with a byte cap that cuts only at a record boundary. Quoting and
 * escaping are csv-stringify's; this file turns values into text and enforces the cap.
 */
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import type { Options as StringifyOptions } from 'csv-stringify/sync';
import type { QueryResult, ReadStream, ResultColumn, ValueKind } from '../../core/db/database-dialect.ts';
import { RenderError } from '../../core/errors.ts';
import { formatDate, formatNumber, isNullValue } from '../format/cell-text.ts';

export interface CsvOptions {
  /** Largest output in bytes (header included); rows past it are left out and `capped` is set. Default 50 MiB. */
  maxBytes?: number;
  /** Prefix a UTF-8 byte-order mark, which makes Excel read UTF-8 correctly. Default false. */
  bom?: boolean;
  /**
   * Prefix `'` to text cells starting with = + - @ tab or CR so spreadsheets do not run them as formulas
   * (CSV injection). Number columns are never touched. Default true.
   */
  escapeFormulas?: boolean;
}

/** How an export ended. */
export interface CsvSummary {
  /** Data rows written (header excluded). */
  rows: number;
  bytes: number;
  /** True when the byte cap cut the export short. */
  capped: boolean;
  /** True when the source itself was cut (QueryResult.truncated: the query's row cap). */
  sourceTruncated: boolean;
}

export interface CsvBuffer extends CsvSummary {
  data: Buffer;
}

/** A finished result, or a streamed read (columns + batches of rows). */
export type CsvInput = QueryResult | ReadStream;

export const DEFAULT_CSV_MAX_BYTES = 50 * 1024 * 1024;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const FORMULA_START = /^[=+\-@\t\r]/;

/** A value as CSV field text; null becomes an empty field. */
export function csvValue(value: unknown, kind: ValueKind, escapeFormulas = true): string {
  if (isNullValue(value)) return '';
  let text: string;
  if (typeof value === 'number') text = formatNumber(value);
  else if (typeof value === 'bigint') text = value.toString();
  else if (typeof value === 'boolean') text = value ? 'true' : 'false';
  else if (value instanceof Date) text = formatDate(value, kind);
  else if (value instanceof Uint8Array) text = Buffer.from(value).toString('base64');
  else if (typeof value === 'string') text = value;
  else text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? '';
  if (escapeFormulas && kind !== 'number' && typeof value !== 'number' && FORMULA_START.test(text)) {
    text = `'${text}`;
  }
  return text;
}

const STRINGIFY: StringifyOptions = { record_delimiter: '\r\n', quoted_match: /^\s|\s$/ };
/** A field csv-stringify (with STRINGIFY) would quote: a comma, a quote, a line break, or edge whitespace. */
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/**
 * One batch as CSV text. Records whose fields need no quoting (nearly all of a typical result) are joined
 * directly; any other record goes through csv-stringify, which owns quoting and escaping. Measured on a
 * 1,000,000-row export (bench/large-result.bench.ts): csv-stringify on every record took twice as long and
 * made the heap peak higher with its per-field garbage.
 */
function batchText(rows: unknown[][], columns: ResultColumn[], escapeFormulas: boolean): string {
  let text = '';
  const fields: string[] = new Array<string>(columns.length);
  for (const row of rows) {
    let plain = true;
    for (let i = 0; i < columns.length; i++) {
      const field = csvValue(row[i], columns[i]!.kind, escapeFormulas);
      fields[i] = field;
      if (plain && NEEDS_QUOTES.test(field)) plain = false;
    }
    text += plain ? `${fields.join(',')}\r\n` : stringify([fields], STRINGIFY);
  }
  return text;
}

function isQueryResult(input: CsvInput): input is QueryResult {
  return Array.isArray((input as QueryResult).rows);
}

async function* batchesOf(input: CsvInput): AsyncGenerator<unknown[][]> {
  if (isQueryResult(input)) {
    // Chunked so a large in-memory result still streams out in pieces.
    for (let i = 0; i < input.rows.length; i += 1000) yield input.rows.slice(i, i + 1000);
    return;
  }
  yield* input.batches;
}

/**
 * Yields the CSV as Buffers, batch by batch, and returns the summary. Stops reading the source once the cap is
 * reached (so a streamed read is released early).
 */
export async function* csvChunks(
  input: CsvInput,
  options: CsvOptions = {},
): AsyncGenerator<Buffer, CsvSummary> {
  const maxBytes = options.maxBytes ?? DEFAULT_CSV_MAX_BYTES;
  const escapeFormulas = options.escapeFormulas ?? true;
  const columns = input.columns;
  const summary: CsvSummary = {
    rows: 0,
    bytes: 0,
    capped: false,
    sourceTruncated: isQueryResult(input) ? input.truncated : false,
  };
  const head = Buffer.concat([
    options.bom ? BOM : Buffer.alloc(0),
    Buffer.from(stringify([columns.map((c) => c.name)], STRINGIFY), 'utf8'),
  ]);
  if (head.length > maxBytes) {
    summary.capped = true;
    return summary;
  }
  summary.bytes = head.length;
  yield head;
  for await (const batch of batchesOf(input)) {
    if (batch.length === 0) continue;
    const whole = Buffer.from(batchText(batch, columns, escapeFormulas), 'utf8');
    if (summary.bytes + whole.length <= maxBytes) {
      summary.bytes += whole.length;
      summary.rows += batch.length;
      yield whole;
      continue;
    }
    // The cap falls inside this batch: add records one by one up to it, then stop reading the source.
    const parts: Buffer[] = [];
    for (const row of batch) {
      const one = Buffer.from(batchText([row], columns, escapeFormulas), 'utf8');
      if (summary.bytes + one.length > maxBytes) break;
      parts.push(one);
      summary.bytes += one.length;
      summary.rows++;
    }
    if (parts.length > 0) yield Buffer.concat(parts);
    summary.capped = true;
    if (!isQueryResult(input)) await input.close?.();
    return summary;
  }
  if (!isQueryResult(input) && typeof input.summary === 'function')
    summary.sourceTruncated = input.summary().truncated;
  return summary;
}

/** Writes the whole CSV into one Buffer (bounded by maxBytes). */
export async function renderCsv(input: CsvInput, options: CsvOptions = {}): Promise<CsvBuffer> {
  const chunks: Buffer[] = [];
  const gen = csvChunks(input, options);
  for (;;) {
    const step = await gen.next();
    if (step.done) return { ...step.value, data: Buffer.concat(chunks) };
    chunks.push(step.value);
  }
}

/** The CSV as a Node Readable (backpressure-aware); `summary` resolves when the stream has ended. */
export function csvStream(
  input: CsvInput,
  options: CsvOptions = {},
): { stream: Readable; summary: Promise<CsvSummary> } {
  let resolve!: (s: CsvSummary) => void;
  let reject!: (e: unknown) => void;
  const summary = new Promise<CsvSummary>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A consumer that never awaits `summary` must not see an unhandled rejection; the stream errors too.
  summary.catch(() => undefined);
  async function* pump(): AsyncGenerator<Buffer> {
    let settled = false;
    try {
      // yield* passes an early stop (stream destroyed) down to csvChunks and on to the source's batches.
      resolve(yield* csvChunks(input, options));
      settled = true;
    } catch (error) {
      settled = true;
      // Destroying the stream throws an AbortError into the generator: the export was stopped, not broken.
      reject((error as { name?: unknown } | null)?.name === 'AbortError' ? stopped(error) : error);
      throw error;
    } finally {
      if (!settled)
        reject(new RenderError('render_failed', 'The CSV export was stopped before it finished.'));
    }
  }
  return { stream: Readable.from(pump(), { objectMode: false }), summary };
}

function stopped(cause?: unknown): RenderError {
  return new RenderError('render_failed', 'The CSV export was stopped before it finished.', { cause });
}
