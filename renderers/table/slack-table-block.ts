/**
 * A result as Slack's native `table` block (Block Kit): at most 100 rows including the header, at most 20
 * columns, `raw_text` cells of at least one character, one table per message (Slack appends it at the bottom).
 * Plain JSON types here, so renderers stay free of @slack/* imports.
 */
import type { QueryResult } from '../../core/db/database-dialect.ts';
import { cellText, isNumericKind, NULL_TEXT } from '../format/cell-text.ts';
import { rowCountCaption } from './row-count-caption.ts';

/** Slack's table block limits. */
export const SLACK_TABLE_MAX_ROWS = 100;
export const SLACK_TABLE_MAX_COLUMNS = 20;

export interface SlackRawTextCell {
  type: 'raw_text';
  text: string;
}

export interface SlackTableColumnSetting {
  align?: 'left' | 'center' | 'right';
  is_wrapped?: boolean;
}

/** The `table` block as Slack's chat.postMessage accepts it. */
export interface SlackTableBlock {
  type: 'table';
  block_id?: string;
  rows: SlackRawTextCell[][];
  column_settings?: SlackTableColumnSetting[];
}

export interface SlackTableBlockOptions {
  /** Data rows at most (the header row is extra); capped at 99 so the block stays within 100 rows. */
  maxRows?: number;
  /** Longest cell text; longer values are cut with "…". Default 200. */
  maxCellChars?: number;
  /** Budget for the characters of all cells together; rows are dropped until it fits. Default 10,000. */
  maxTotalChars?: number;
  totalRows?: number;
  nullText?: string;
  blockId?: string;
}

export type SlackTableBlockResult =
  { ok: true; block: SlackTableBlock; caption: string; shownRows: number } | { ok: false; reason: string };

function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** Builds the table block when the result suits one (1–20 columns); otherwise says why not. */
export function renderSlackTableBlock(
  result: QueryResult,
  options: SlackTableBlockOptions = {},
): SlackTableBlockResult {
  const columnCount = result.columns.length;
  if (columnCount === 0) return { ok: false, reason: 'the result has no columns' };
  if (columnCount > SLACK_TABLE_MAX_COLUMNS) {
    return {
      ok: false,
      reason: `${columnCount} columns exceed the table block's ${SLACK_TABLE_MAX_COLUMNS}`,
    };
  }
  const nullText = options.nullText ?? NULL_TEXT;
  const maxCell = Math.max(2, options.maxCellChars ?? 200);
  const budget = options.maxTotalChars ?? 10_000;
  const maxRows = Math.min(
    SLACK_TABLE_MAX_ROWS - 1,
    Math.max(0, options.maxRows ?? SLACK_TABLE_MAX_ROWS - 1),
  );
  // Slack rejects empty raw_text; an empty string shows as a visible marker instead.
  const cell = (text: string): SlackRawTextCell => ({
    type: 'raw_text',
    text: text === '' ? '(empty)' : cut(text, maxCell),
  });
  const header = result.columns.map((c) => cell(c.name));
  const body: SlackRawTextCell[][] = [];
  let used = header.reduce((n, c) => n + c.text.length, 0);
  for (const row of result.rows.slice(0, maxRows)) {
    const cells = result.columns.map((col, i) => cell(cellText(row[i], col.kind, nullText)));
    const size = cells.reduce((n, c) => n + c.text.length, 0);
    if (used + size > budget) break;
    used += size;
    body.push(cells);
  }
  const block: SlackTableBlock = {
    type: 'table',
    rows: [header, ...body],
    column_settings: result.columns.map((c) =>
      isNumericKind(c.kind) ? { align: 'right' } : { align: 'left' },
    ),
  };
  if (options.blockId) block.block_id = options.blockId;
  const caption = rowCountCaption({
    shownRows: body.length,
    resultRows: result.rowCount,
    truncated: result.truncated,
    totalRows: options.totalRows,
  });
  return { ok: true, block, caption, shownRows: body.length };
}
