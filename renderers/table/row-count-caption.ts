const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Formats a count with thousands separators: 1284 → "1,284". */
export function formatCount(n: number): string {
  return integer.format(n);
}

export interface RowCountCaptionInput {
  shownRows: number;
  /** Rows the result holds (QueryResult.rowCount). */
  resultRows: number;
  /** The query had more rows than the result holds (row cap hit). */
  truncated: boolean;
  /** The exact total when the caller knows it (e.g. from a COUNT); wins over resultRows/truncated. */
  totalRows?: number;
  hiddenColumns?: readonly string[];
}

/** "showing 20 of 1,284 rows", "showing 20 of 1,000+ rows", "3 rows", plus hidden columns when any. */
export function rowCountCaption(input: RowCountCaptionInput): string {
  const total =
    input.totalRows !== undefined
      ? formatCount(input.totalRows)
      : `${formatCount(input.resultRows)}${input.truncated ? '+' : ''}`;
  const all = input.totalRows ?? input.resultRows;
  const noun = all === 1 && !input.truncated ? 'row' : 'rows';
  let text =
    input.shownRows >= all && !input.truncated
      ? `${total} ${noun}`
      : `showing ${formatCount(input.shownRows)} of ${total} ${noun}`;
  const hidden = input.hiddenColumns ?? [];
  if (hidden.length > 0) {
    const names = hidden.slice(0, 5).join(', ') + (hidden.length > 5 ? ', …' : '');
    text += ` · ${hidden.length} more column${hidden.length === 1 ? '' : 's'} not shown (${names})`;
  }
  return text;
}
