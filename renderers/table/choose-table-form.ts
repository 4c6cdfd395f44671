/**
 * Which table a platform should show for a result: Slack's native table block where the platform has one and
 * the result fits its limits, a text table in a code block when every column fits the block's width, otherwise a
 * PNG (too wide for text).
 */
import type { QueryResult } from '../../core/db/database-dialect.ts';
import { SLACK_TABLE_MAX_COLUMNS } from './slack-table-block.ts';
import { renderTextTable } from './text-table.ts';

export type TableForm = 'table_block' | 'text' | 'png';

/** The platform facts the choice needs (a subset of ChatPlatform.capabilities). */
export interface TableSurface {
  /** The platform renders Slack's table block. */
  tableBlocks: boolean;
  /** Code-block width in characters before lines wrap. */
  codeBlockWidth: number;
}

export interface TableFormOptions {
  /** Rows the preview shows; default 20. */
  maxRows?: number;
  /** Share of shown cells that may be cut with "…" before the PNG is preferred; default 0.25. */
  maxCutShare?: number;
}

/** Picks the table form for a result on a surface; see the file comment. */
export function chooseTableForm(
  result: QueryResult,
  surface: TableSurface,
  options: TableFormOptions = {},
): TableForm {
  if (result.columns.length === 0) return 'text';
  if (surface.tableBlocks && result.columns.length <= SLACK_TABLE_MAX_COLUMNS) return 'table_block';
  const text = renderTextTable(result, { maxWidth: surface.codeBlockWidth, maxRows: options.maxRows ?? 20 });
  if (text.hiddenColumns.length > 0) return 'png';
  if (text.cutCells) {
    const natural = renderTextTable(result, { maxWidth: 100_000, maxRows: options.maxRows ?? 20 });
    const cut = countDifferentCells(text.table, natural.table);
    const cells = Math.max(1, (text.shownRows + 1) * text.shownColumns);
    if (cut / cells > (options.maxCutShare ?? 0.25)) return 'png';
  }
  return 'text';
}

function countDifferentCells(fitted: string, natural: string): number {
  const count = (table: string) => (table.match(/…/g) ?? []).length;
  return Math.max(0, count(fitted) - count(natural));
}
