/**
 * A result as a PNG table, for results too wide for a text code block. Drawn as SVG in the shipped monospace
 * font (so every width is known without measuring) and rasterised by resvg at 2×.
 */
import type { QueryResult } from '../../core/db/database-dialect.ts';
import { cellText, isNullValue, isNumericKind, NULL_TEXT } from '../format/cell-text.ts';
import { displayWidth, truncateToWidth } from '../format/display-width.ts';
import { MONO_ADVANCE_EM, MONO_FAMILY, SANS_FAMILY } from '../png/font-files.ts';
import { svgToPng } from '../png/svg-to-png.ts';
import { escapeXml } from '../png/escape-xml.ts';
import { rowCountCaption } from './row-count-caption.ts';

export interface TablePngOptions {
  /** Rows to draw at most; default 50. */
  maxRows?: number;
  /** Widest column in characters before cells are cut with "…"; default 48. */
  maxColumnChars?: number;
  /** Widest image in CSS pixels (before the 2× scale); columns past it are left out. Default 2400. */
  maxWidthPx?: number;
  title?: string;
  totalRows?: number;
  scale?: number;
  nullText?: string;
}

export interface TablePng {
  png: Buffer;
  svg: string;
  width: number;
  height: number;
  shownRows: number;
  shownColumns: number;
  hiddenColumns: string[];
  caption: string;
}

const FONT_SIZE = 13;
const CHAR_PX = FONT_SIZE * MONO_ADVANCE_EM;
const CELL_PAD = 10;
const ROW_HEIGHT = 26;
const MARGIN = 16;
const COLORS = {
  text: '#1f2328',
  muted: '#8c959f',
  header: '#eef1f5',
  zebra: '#f8f9fb',
  rule: '#d0d7de',
};

/** Renders up to `maxRows` rows as a PNG table; returns the SVG too. */
export async function renderTablePng(result: QueryResult, options: TablePngOptions = {}): Promise<TablePng> {
  const nullText = options.nullText ?? NULL_TEXT;
  const maxChars = Math.max(4, options.maxColumnChars ?? 48);
  const maxWidth = options.maxWidthPx ?? 2400;
  const rows = result.rows.slice(0, Math.max(0, options.maxRows ?? 50));
  const headers = result.columns.map((c) => cellText(c.name, 'string'));
  const cells = rows.map((row) => result.columns.map((col, c) => cellText(row[c], col.kind, nullText)));
  const chars = headers.map((h, c) =>
    Math.min(maxChars, Math.max(displayWidth(h), ...cells.map((r) => displayWidth(r[c]!)), 2)),
  );

  // Keep whole leading columns while they fit the width cap (at least one).
  const colPx: number[] = [];
  let x = MARGIN;
  for (const [c, n] of chars.entries()) {
    const w = Math.ceil(n * CHAR_PX + 2 * CELL_PAD);
    if (c > 0 && x + w + MARGIN > maxWidth) break;
    colPx.push(w);
    x += w;
  }
  const shownColumns = colPx.length;
  const hiddenColumns = result.columns.slice(shownColumns).map((c) => c.name);
  const tableWidth = colPx.reduce((a, b) => a + b, 0);
  const caption = rowCountCaption({
    shownRows: rows.length,
    resultRows: result.rowCount,
    truncated: result.truncated,
    totalRows: options.totalRows,
    hiddenColumns,
  });

  const width = Math.max(tableWidth + 2 * MARGIN, 320);
  const titleHeight = options.title ? 30 : 0;
  const top = MARGIN + titleHeight;
  const height = top + ROW_HEIGHT * (rows.length + 1) + 34;
  const parts: string[] = [];
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  if (options.title) {
    const title = escapeXml(truncateToWidth(options.title, Math.floor((width - 2 * MARGIN) / 8.5)));
    parts.push(
      `<text x="${MARGIN}" y="${MARGIN + 16}" font-family="${SANS_FAMILY}" font-size="16" font-weight="bold" fill="${COLORS.text}">${title}</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN}" y="${top}" width="${tableWidth}" height="${ROW_HEIGHT}" fill="${COLORS.header}"/>`,
  );
  for (let r = 1; r < rows.length + 1; r += 2) {
    parts.push(
      `<rect x="${MARGIN}" y="${top + ROW_HEIGHT * (r + 1)}" width="${tableWidth}" height="${ROW_HEIGHT}" fill="${COLORS.zebra}"/>`,
    );
  }
  parts.push(
    `<line x1="${MARGIN}" y1="${top + ROW_HEIGHT + 0.5}" x2="${MARGIN + tableWidth}" y2="${top + ROW_HEIGHT + 0.5}" stroke="${COLORS.rule}"/>`,
    `<line x1="${MARGIN}" y1="${top + ROW_HEIGHT * (rows.length + 1) + 0.5}" x2="${MARGIN + tableWidth}" y2="${top + ROW_HEIGHT * (rows.length + 1) + 0.5}" stroke="${COLORS.rule}"/>`,
  );

  const textAt = (
    text: string,
    c: number,
    rowIndex: number,
    style: { bold?: boolean; muted?: boolean },
  ): string => {
    const left = MARGIN + colPx.slice(0, c).reduce((a, b) => a + b, 0);
    const right = isNumericKind(result.columns[c]!.kind);
    const tx = right ? left + colPx[c]! - CELL_PAD : left + CELL_PAD;
    const ty = top + ROW_HEIGHT * rowIndex + ROW_HEIGHT / 2 + FONT_SIZE * 0.36;
    const fitted = escapeXml(truncateToWidth(text, chars[c]!));
    const attrs = [
      `x="${tx.toFixed(1)}"`,
      `y="${ty.toFixed(1)}"`,
      right ? 'text-anchor="end"' : '',
      style.bold ? 'font-weight="bold"' : '',
      `fill="${style.muted ? COLORS.muted : COLORS.text}"`,
    ];
    return `<text ${attrs.filter(Boolean).join(' ')} xml:space="preserve">${fitted}</text>`;
  };
  for (let c = 0; c < shownColumns; c++) {
    parts.push(textAt(headers[c]!, c, 0, { bold: true }));
    rows.forEach((row, r) => parts.push(textAt(cells[r]![c]!, c, r + 1, { muted: isNullValue(row[c]) })));
  }
  parts.push(
    `<text x="${MARGIN}" y="${height - 14}" font-family="${SANS_FAMILY}" font-size="12" fill="${COLORS.muted}">${escapeXml(caption)}</text>`,
  );

  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<g font-family="${MONO_FAMILY}" font-size="${FONT_SIZE}">${parts.join('')}</g></svg>`;
  const image = await svgToPng(svg, { scale: options.scale ?? 2 });
  return { ...image, svg, shownRows: rows.length, shownColumns, hiddenColumns, caption };
}
