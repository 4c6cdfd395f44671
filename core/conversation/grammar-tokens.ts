/** The small lexical pieces the chat grammar is built from: words, fenced code, names, `key=value` pairs. */

/** Fenced code: ``` with an optional language tag on the opening line, or a one-line ```code```. */
const FENCE = /```([^\n`]*)\n?([\s\S]*?)```/g;
const LANGUAGE_TAG = /^[a-z0-9_+-]{1,20}$/i;

/** The contents of every fenced code block, in order, trimmed (the language tag removed). */
export function fencedBlocks(text: string): string[] {
  const blocks: string[] = [];
  for (const match of text.matchAll(FENCE)) {
    const first = match[1] ?? '';
    const body = match[2] ?? '';
    // "```sql\nSELECT 1```": `sql` is a tag. "```SELECT 1```" (Slack sends one-line fences): the line is code.
    const hasNewline = match[0].slice(3 + first.length, 4 + first.length) === '\n';
    const code =
      hasNewline && LANGUAGE_TAG.test(first.trim()) ? body : `${first}${hasNewline ? '\n' : ''}${body}`;
    if (code.trim()) blocks.push(code.trim());
  }
  return blocks;
}

/** The text with every fenced code block removed. */
export function stripFences(text: string): string {
  return text.replace(FENCE, ' ');
}

/** Whitespace-separated words. */
export function words(text: string): string[] {
  return text.trim().split(/\s+/).filter(Boolean);
}

/** A template or migration name: letters, digits, `-` and `_`, starting with a letter or digit. */
export function isSlug(word: string): boolean {
  return /^[a-z0-9][a-z0-9_-]{0,62}$/i.test(word);
}

const QUOTES: Record<string, string> = { '"': '"', "'": "'", '“': '”', '”': '”', '‘': '’', '’': '’' };

export type KeyValues = Record<string, string>;

/**
 * `key=value` pairs from words; values may be quoted with straight or typographic quotes and then hold spaces
 * (`country="United States"`). Undefined when any word is not part of a pair: the text is not a command.
 */
export function keyValues(tokens: readonly string[]): KeyValues | undefined {
  const values: KeyValues = {};
  for (let k = 0; k < tokens.length; k++) {
    const match = /^([A-Za-z_]\w{0,62})=(.*)$/s.exec(tokens[k]!);
    if (!match) return undefined;
    let value = match[2]!;
    const close = QUOTES[value[0] ?? ''];
    if (close) {
      // Join the following words until the closing quote.
      let quoted = value.slice(1);
      while (!quoted.endsWith(close)) {
        k += 1;
        if (k >= tokens.length) return undefined;
        quoted += ` ${tokens[k]!}`;
      }
      value = quoted.slice(0, -close.length);
    }
    values[match[1]!] = value;
  }
  return values;
}
