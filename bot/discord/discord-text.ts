/**
 * Fitting text into Discord's character limits without ever failing: blocks are laid out in order and the
 * first one that does not fit is shrunk (code keeps its closing fence) and followed by a visible note.
 */

/** A piece of a message that knows how to shrink itself into a character budget. */
export interface TextBlock {
  /** The block at full size. */
  full: string;
  /** The block shrunk to at most `budget` characters, or undefined when nothing useful fits. */
  fit(budget: number): string | undefined;
}

const ELLIPSIS = '…';

/** Makes a code body safe inside a ``` fence: a literal fence in the data would end the block early. */
export function escapeFences(code: string): string {
  return code.replaceAll('```', '`\u200b``');
}

/** Wraps code in a fenced block. */
export function codeBlock(code: string, language = ''): string {
  return `\`\`\`${language}\n${escapeFences(code)}\n\`\`\``;
}

/** Cuts text to `max` characters, marking the cut with an ellipsis. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  return text.slice(0, max - 1) + ELLIPSIS;
}

/** Italic note telling the reader something was cut (visible, never silent). */
export function truncationNote(what: string): string {
  return `*${what}*`;
}

/** A plain text block; shrinks by cutting characters. */
export function textBlock(text: string): TextBlock {
  return {
    full: text,
    fit: (budget) => (budget >= 16 ? truncateText(text, budget) : undefined),
  };
}

/** A fenced code block; shrinks by dropping whole lines from the end and saying how many. */
export function codeTextBlock(code: string, language = ''): TextBlock {
  const full = codeBlock(code, language);
  return {
    full,
    fit(budget) {
      if (full.length <= budget) return full;
      const lines = escapeFences(code).split('\n');
      const open = `\`\`\`${language}\n`;
      const close = '\n```';
      for (let keep = lines.length - 1; keep >= 1; keep--) {
        const note = `\n${truncationNote(`… ${lines.length - keep} more line${lines.length - keep === 1 ? '' : 's'} not shown`)}`;
        const candidate = open + lines.slice(0, keep).join('\n') + close + note;
        if (candidate.length <= budget) return candidate;
      }
      // One very long line: cut inside it.
      const note = `\n${truncationNote('… cut to fit')}`;
      const room = budget - open.length - close.length - note.length;
      if (room < 8) return undefined;
      return open + truncateText(lines[0] ?? '', room) + close + note;
    },
  };
}

/**
 * Joins blocks with newlines within `max` characters. When they do not all fit, the first block that
 * overflows is shrunk, the rest are dropped, and `note` says so.
 */
export function fitBlocks(blocks: TextBlock[], max: number, note: string): string {
  const whole = blocks.map((b) => b.full).join('\n');
  if (whole.length <= max) return whole;
  const tail = `\n${truncationNote(note)}`;
  const out: string[] = [];
  let used = 0;
  for (const block of blocks) {
    const sep = out.length ? 1 : 0;
    const budget = max - used - sep - tail.length;
    if (block.full.length <= budget) {
      out.push(block.full);
      used += sep + block.full.length;
      continue;
    }
    const shrunk = block.fit(budget);
    if (shrunk !== undefined && shrunk.length <= budget) out.push(shrunk);
    break;
  }
  const text = out.join('\n') + (out.length ? tail : tail.slice(1));
  return truncateText(text, max);
}
