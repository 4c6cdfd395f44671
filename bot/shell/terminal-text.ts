/**
 * Slack mrkdwn (the engine's text format) for a terminal: `*bold*`, `_italic_`, `~strike~`, `` `code` ``,
 * `<url|text>` links, `<@U1>` mentions and `&amp;` entities. With ANSI they become bold, italic, struck-through,
 * cyan and underlined text; without (a pipe, a file, NO_COLOR) the markers are dropped and a link keeps its URL.
 * Fenced ``` blocks are left as they are.
 */

const ANSI = {
  bold: ['\u001b[1m', '\u001b[22m'],
  italic: ['\u001b[3m', '\u001b[23m'],
  strike: ['\u001b[9m', '\u001b[29m'],
  code: ['\u001b[36m', '\u001b[39m'],
  link: ['\u001b[4m', '\u001b[24m'],
} as const;

type Style = keyof typeof ANSI;

/** Brackets a set-aside code span's index; a private-use character no message contains. */
const MARK = '\uE000';

function decodeEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

// Emphasis only where Slack applies it: the marker hugs a word and sits at a word boundary.
const EMPHASIS: [RegExp, Style][] = [
  [/(^|[\s([{"'])\*(?=\S)([^*\n]*?\S)\*(?=$|[\s)\]}.,;:!?"'])/g, 'bold'],
  [/(^|[\s([{"'])_(?=\S)([^_\n]*?\S)_(?=$|[\s)\]}.,;:!?"'])/g, 'italic'],
  [/(^|[\s([{"'])~(?=\S)([^~\n]*?\S)~(?=$|[\s)\]}.,;:!?"'])/g, 'strike'],
];

function renderInline(text: string, ansi: boolean): string {
  const style = (kind: Style, inner: string) => (ansi ? `${ANSI[kind][0]}${inner}${ANSI[kind][1]}` : inner);
  // Code spans first, set aside so nothing inside them is styled.
  const spans: string[] = [];
  let out = text.replace(/`([^`\n]+)`/g, (_m, code: string) => {
    spans.push(style('code', decodeEntities(code)));
    return `${MARK}${spans.length - 1}${MARK}`;
  });
  out = out.replace(/<([^<>|\s]+)(?:\|([^<>]+))?>/g, (_m, target: string, label: string | undefined) => {
    if (target.startsWith('@') || target.startsWith('#')) return label ? `${target[0]}${label}` : target;
    if (target.startsWith('!')) return `@${label ?? target.slice(1)}`;
    const url = decodeEntities(target.replace(/^mailto:/, ''));
    if (!label || decodeEntities(label) === url) return style('link', url);
    return ansi ? `${style('link', decodeEntities(label))} (${url})` : `${decodeEntities(label)} (${url})`;
  });
  for (const [pattern, kind] of EMPHASIS)
    out = out.replace(pattern, (_m, before: string, inner: string) => `${before}${style(kind, inner)}`);
  out = decodeEntities(out);
  return out.replace(new RegExp(`${MARK}(\\d+)${MARK}`, 'g'), (_m, i: string) => spans[Number(i)]!);
}

/** Renders mrkdwn for a terminal; see the file comment. */
export function mrkdwnToTerminal(text: string, options: { ansi: boolean }): string {
  // Split on fenced blocks: odd pieces are inside a fence and stay verbatim.
  return text
    .split(/(```[\s\S]*?```)/g)
    .map((piece, i) => (i % 2 === 1 ? piece : renderInline(piece, options.ansi)))
    .join('');
}
