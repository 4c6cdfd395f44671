/**
 * Words of a question and of identifiers, reduced to comparable stems, for picking the tables a question is about.
 * Deliberately simple and deterministic: lower case, split camelCase / snake_case / punctuation, drop stop words,
 * fold the common English plural and verb endings ("categories" → "category", "orders" → "order", "shipped" → "ship").
 */

const STOP_WORDS = new Set(
  (
    'a an and are as at be by can could did do does each every for from get give had has have how i in into is it ' +
    'its last list me my of on or our per please show shows than that the their them then there these this those ' +
    'to top us was we week weekly were what when where which who whose why will with would you your all any most ' +
    'many much more less by only just also been being over under between during since until about like want need ' +
    'count number total sum average avg find tell return see day days month monthly year yearly quarter today ' +
    'yesterday time new old first make id ids'
  ).split(' '),
);

/** The stem of one lower-case word: plural and -ing/-ed endings folded. */
export function stem(word: string): string {
  let w = word;
  if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`;
  else if (w.length > 4 && /(ss|x|ch|sh|zz)es$/.test(w)) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) {
    w = w.slice(0, -1);
  }
  let cut = false;
  if (w.length > 5 && w.endsWith('ing')) {
    w = w.slice(0, -3);
    cut = true;
  } else if (w.length > 4 && w.endsWith('ed')) {
    w = w.slice(0, -2);
    cut = true;
  }
  // "shipped" → "shipp" → "ship": undo a doubled final consonant left by the cut.
  if (cut && w.length > 3 && /([bdfgmnprt])\1$/.test(w)) w = w.slice(0, -1);
  return w;
}

/** Raw lower-case words of a text or identifier (camelCase and snake_case split). */
export function words(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** Stems of the meaningful words of a question (stop words and one-letter words dropped), de-duplicated. */
export function questionStems(question: string): Set<string> {
  const out = new Set<string>();
  for (const w of words(question)) {
    if (w.length < 2 || STOP_WORDS.has(w) || /^\d+$/.test(w)) continue;
    out.add(stem(w));
  }
  return out;
}

/** Stems of an identifier such as `order_items`, `OrderItems`, `customer_id` (id-like parts kept). */
export function identifierStems(identifier: string): string[] {
  return words(identifier).map(stem);
}
