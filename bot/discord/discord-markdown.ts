/**
 * The engine writes its neutral reply text in Slack's mrkdwn, where `*x*` is bold. Discord's markdown reads
 * `*x*` as italics and `**x**` as bold, and embed footers render no markdown at all. Code (``` fences and
 * `inline` spans) is left exactly as written: a `*` there is SQL, not emphasis.
 */

const CODE = /(```[\s\S]*?```|`[^`\n]*`)/;

/**
 * A Slack bold span: `*` after the start, whitespace or an opening bracket/quote, then text that neither
 * starts nor ends with a space, then `*` before the end, whitespace or punctuation. `SELECT * FROM`,
 * `count(*)` and `2 * 3` do not match; `**already bold**` is left alone.
 */
const SLACK_BOLD = /(^|[\s([{"'“‘>])\*(?![\s*])([^*\n]*?[^\s*])\*(?![*\w])/g;

function outsideCode(text: string, change: (prose: string) => string): string {
  return text
    .split(CODE)
    .map((piece, i) => (i % 2 === 1 ? piece : change(piece)))
    .join('');
}

/** Slack-style `*bold*` → Discord `**bold**`, outside code. */
export function toDiscordMarkdown(text: string): string {
  return outsideCode(text, (prose) => prose.replace(SLACK_BOLD, '$1**$2**'));
}

/** Slack-style `*bold*` → `bold`, outside code: for embed footers, where Discord shows markdown literally. */
export function withoutSlackEmphasis(text: string): string {
  return outsideCode(text, (prose) => prose.replace(SLACK_BOLD, '$1$2'));
}
