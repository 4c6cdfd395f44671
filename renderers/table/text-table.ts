/**
 * A result as a monospace text table for a code block: fits the platform's code-block width so no row wraps,
 * right-aligns numbers, shows NULL distinctly, and escapes what the platform would otherwise interpret.
 */
import type { QueryResult, ValueKind } from '../../core/db/database-dialect.ts';
import { cellText, isNumericKind, NULL_TEXT } from '../format/cell-text.ts';
import { displayWidth, padToWidth, truncateToWidth } from '../format/display-width.ts';
import { rowCountCaption } from './row-count-caption.ts';

/** How the code block's text is escaped: Slack mrkdwn, Discord markdown, or plain (terminal). */
export type TextEscape = 'slack' | 'discord' | 'none';

export interface TextTableOptions {
  /** Characters per line before the platform wraps (ChatPlatform.capabilities.codeBlockWidth). */
  maxWidth: number;
  /** Rows to show at most; default 20. */
  maxRows?: number;
  /** Budget for the whole message (fences and caption included); rows are dropped until it fits. */
  maxChars?: number;
  escape?: TextEscape;
  /** Widest a single column may be before its cells are cut with "…"; default 40. */
  maxColumnWidth?: number;
  /** Exact total row count when known; otherwise taken from the result. */
  totalRows?: number;
  nullText?: string;
}

export interface TextTable {
  /** The table lines, escaped for the platform (no fences). */
  table: string;
  /** "showing 20 of 1,284 rows" (plus hidden columns). */
  caption: string;
  /** Ready to post: the table in a code block, then the caption. */
  message: string;
  shownRows: number;
  shownColumns: number;
  /** Columns left out because even at minimum widths they would not fit. */
  hiddenColumns: string[];
  /** Some cell was cut to fit its column. */
  cutCells: boolean;
  /** Width in characters of the widest line. */
  width: number;
}

const SEPARATOR = ' │ ';
const MIN_COLUMN_WIDTH = 4;

/** Escapes text for a code block on the platform; layout is measured before escaping (entities show as one char). */
export function escapeForCodeBlock(text: string, escape: TextEscape): string {
  // A run of three backticks would close the fence on either platform; a zero-width space breaks it up.
  let out = text.replace(/`(?=``)/g, '`\u200b');
  if (escape === 'slack') out = out.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return out;
}

function columnWidths(natural: number[], minimum: number[], budget: number): number[] | undefined {
  const widths = [...natural];
  let total = widths.reduce((a, b) => a + b, 0);
  if (total <= budget) return widths;
  if (minimum.reduce((a, b) => a + b, 0) > budget) return undefined;
  // Shave the widest column one character at a time: narrow columns (ids, counts) keep their full text.
  while (total > budget) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) {
      if (widths[i]! > minimum[i]! && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    }
    if (widest < 0) return undefined;
    widths[widest]!--;
    total--;
  }
  return widths;
}

interface Layout {
  columns: number[];
  widths: number[];
}

/** Kinds whose values are never cut: a cut number or date reads as a different value. */
const UNCUTTABLE: ReadonlySet<ValueKind> = new Set(['number', 'date', 'datetime', 'boolean']);
/** Text that is really a number or a timestamp (SQLite and MongoDB hand dates over as text). */
const DATA_LIKE = /^[-+]?\d[\d.,:+\- TZ]*$/;

function layout(
  headers: string[],
  kinds: ValueKind[],
  cells: string[][],
  maxColumnWidth: number,
  maxWidth: number,
): Layout {
  const natural = headers.map((h, c) =>
    Math.min(maxColumnWidth, Math.max(displayWidth(h), ...cells.map((row) => displayWidth(row[c]!)), 1)),
  );
  const minimum = natural.map((w, c) => {
    const values = Math.max(1, ...cells.map((row) => displayWidth(row[c]!)));
    const dataLike =
      cells.length > 0 && cells.every((row) => DATA_LIKE.test(row[c]!) || row[c] === NULL_TEXT);
    if (UNCUTTABLE.has(kinds[c]!) || dataLike) return Math.min(w, Math.max(values, MIN_COLUMN_WIDTH));
    return Math.min(w, Math.max(MIN_COLUMN_WIDTH, Math.min(displayWidth(headers[c]!), 8)));
  });
  // Keep as many leading columns as fit at their minimum widths; the rest are reported as hidden.
  for (let count = headers.length; count >= 1; count--) {
    const budget = maxWidth - SEPARATOR.length * (count - 1);
    const widths = columnWidths(natural.slice(0, count), minimum.slice(0, count), budget);
    if (widths) return { columns: [...Array(count).keys()], widths };
  }
  return { columns: [0], widths: [Math.max(1, maxWidth)] };
}

/** Renders a result as a text table that fits `maxWidth` columns; see TextTableOptions. */
export function renderTextTable(result: QueryResult, options: TextTableOptions): TextTable {
  const escape = options.escape ?? 'none';
  const nullText = options.nullText ?? NULL_TEXT;
  const maxRows = Math.max(0, options.maxRows ?? 20);
  const maxColumnWidth = Math.max(MIN_COLUMN_WIDTH, options.maxColumnWidth ?? 40);
  const headers = result.columns.map((c) => cellText(c.name, 'string'));
  const rows = result.rows.slice(0, maxRows);
  const cells = rows.map((row) => result.columns.map((col, c) => cellText(row[c], col.kind, nullText)));
  const { columns, widths } = layout(
    headers,
    result.columns.map((c) => c.kind),
    cells,
    maxColumnWidth,
    Math.max(1, options.maxWidth),
  );
  const hiddenColumns = result.columns.slice(columns.length).map((c) => c.name);
  let cutCells = false;

  const line = (texts: string[], aligns: ('left' | 'right')[]): string =>
    columns
      .map((c, i) => {
        const fitted = truncateToWidth(texts[c]!, widths[i]!);
        if (fitted !== texts[c]) cutCells = true;
        return padToWidth(fitted, widths[i]!, aligns[c]!);
      })
      .join(SEPARATOR)
      .trimEnd();

  const numeric = result.columns.map((c) => (isNumericKind(c.kind) ? 'right' : 'left') as 'left' | 'right');
  const headerLine = line(headers, numeric);
  const rule = widths.map((w) => '─'.repeat(w)).join('─┼─');
  const bodyLines = cells.map((rowCells) => line(rowCells, numeric));

  const build = (shown: number): TextTable => {
    const lines = [headerLine, rule, ...bodyLines.slice(0, shown)];
    const table = escapeForCodeBlock(lines.join('\n'), escape);
    const caption = rowCountCaption({
      shownRows: shown,
      resultRows: result.rowCount,
      truncated: result.truncated,
      totalRows: options.totalRows,
      hiddenColumns,
    });
    return {
      table,
      caption,
      message: `\`\`\`\n${table}\n\`\`\`\n${caption}`,
      shownRows: shown,
      shownColumns: columns.length,
      hiddenColumns,
      cutCells,
      width: Math.max(...lines.map(displayWidth)),
    };
  };

  let shown = bodyLines.length;
  let out = build(shown);
  // Drop rows (never columns) until the message fits its character budget.
  while (options.maxChars !== undefined && out.message.length > options.maxChars && shown > 0) {
    const over = out.message.length - options.maxChars;
    const perRow = out.table.length / Math.max(1, shown + 2);
    shown = Math.max(0, shown - Math.max(1, Math.ceil(over / Math.max(1, perRow))));
    out = build(shown);
  }
  return out;
}
