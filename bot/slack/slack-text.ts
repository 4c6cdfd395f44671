/**
 * Slack's published message limits and the text helpers that keep a reply inside them.
 * Slack answers `invalid_blocks` or `msg_too_long` for any excess, so a reply is cut down here instead, with a
 * visible note, and never fails.
 */

export const SLACK_LIMITS = {
  /** Characters in one section/context text object. */
  textObject: 3000,
  /** Blocks in one message. */
  blocks: 50,
  /** Characters of text in one message. */
  messageChars: 40_000,
  /** Elements in one actions block. */
  actionsElements: 25,
  /** Elements in one context block. */
  contextElements: 10,
  /** Characters of a button label (plain_text). */
  buttonText: 75,
  /** Characters of a button value. */
  buttonValue: 2000,
  /** Rows (header included) and columns of a table block; one table block per message. */
  tableRows: 100,
  tableColumns: 20,
  /** Modal title and submit label (plain_text). */
  modalTitle: 24,
  /** A plain_text_input's value. */
  inputValue: 3000,
  /** A view's private_metadata. */
  privateMetadata: 3000,
} as const;

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Turns the Markdown most LLM text uses into Slack mrkdwn (bold), after escaping. */
export function toMrkdwn(text: string): string {
  return escapeMrkdwn(text).replace(/\*\*(.+?)\*\*/g, '*$1*');
}

/** Shortens `text` to at most `max` characters, ending with an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** Moves a hard cut back so it never lands inside an HTML entity (`&amp;`) produced by escaping. */
function safeCut(text: string, at: number): number {
  const amp = text.lastIndexOf('&', at - 1);
  if (amp >= 0 && at - amp < 6 && !text.slice(amp, at).includes(';')) return amp > 0 ? amp : at;
  return at;
}

/**
 * Splits (already escaped) text into chunks of at most `max` characters, preferring line breaks, then spaces,
 * so a long SQL statement or table is spread across blocks instead of being cut off.
 */
export function splitText(text: string, max: number): string[] {
  if (max <= 0) throw new Error('splitText: max must be positive');
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const window = rest.slice(0, max + 1);
    let cut = window.lastIndexOf('\n');
    let skip = 1;
    if (cut <= 0) {
      cut = window.lastIndexOf(' ');
    }
    if (cut <= 0) {
      cut = safeCut(rest, max);
      skip = 0;
    }
    chunks.push(rest.slice(0, cut));
    rest = rest.slice(cut + skip);
  }
  if (rest.length > 0 || chunks.length === 0) chunks.push(rest);
  return chunks;
}
