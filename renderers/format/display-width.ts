/**
 * Monospace display width: CJK and most emoji take two cells, combining marks none. Layout of text tables and the
 * table PNG (drawn in a monospace font) both measure with this.
 */
import stringWidth from 'string-width';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Columns the text occupies in a monospace font. */
export function displayWidth(text: string): number {
  return stringWidth(text);
}

/** Cuts text to at most `width` columns, ending in `…` when cut; never splits a grapheme (emoji, accents). */
export function truncateToWidth(text: string, width: number): string {
  if (width <= 0) return '';
  if (displayWidth(text) <= width) return text;
  if (width === 1) return '…';
  let out = '';
  let used = 0;
  for (const { segment } of segmenter.segment(text)) {
    const w = displayWidth(segment);
    if (used + w > width - 1) break;
    out += segment;
    used += w;
  }
  return `${out}…`;
}

/** Pads text with spaces to exactly `width` columns, on the left (right-aligned) or the right. */
export function padToWidth(text: string, width: number, align: 'left' | 'right'): string {
  const gap = Math.max(0, width - displayWidth(text));
  return align === 'right' ? ' '.repeat(gap) + text : text + ' '.repeat(gap);
}
