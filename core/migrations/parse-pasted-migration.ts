/**
 * A migration pasted into the thread, no LLM involved:
 *
 *     migrate add_orders_customer_index
 *     ```sql
 *     CREATE INDEX orders_customer_id_idx ON orders (customer_id);
 *     ```
 *     ```sql
 *     DROP INDEX orders_customer_id_idx;
 *     ```
 *
 * The first fenced block is the up script, the second the down script; the name is optional.
 */
import { ValidationError } from '../errors.ts';

export interface PastedMigration {
  /** The name after `migrate`, as typed (undefined when none was given). */
  name: string | undefined;
  up: string;
  down: string;
}

const LEAD = /^\s*migrate(?=\s|$)/i;
const FENCE = /```([^\n`]*)\n?([\s\S]*?)```/g;
// A language tag on the fence line (```sql) or, where a platform drops the line break, alone on the first line.
const LANGUAGE = /^(sql|pgsql|postgres|postgresql|mysql|mariadb|sqlite|plsql)$/i;
const USAGE =
  'Write `migrate <name>` followed by two code blocks: the up script first, then the down script that undoes it.';

/** True when the message asks for a pasted migration (starts with the word `migrate`). */
export function isPastedMigration(text: string): boolean {
  return LEAD.test(text);
}

/** The code of one fenced block, without a language tag. */
function blockCode(tag: string, body: string): string {
  const trimmedTag = tag.trim();
  if (trimmedTag !== '' && !LANGUAGE.test(trimmedTag)) {
    // ```CREATE INDEX …``` on one line: the "tag" is code.
    return `${trimmedTag}\n${body}`.trim();
  }
  const lines = body.split('\n');
  if (trimmedTag === '' && LANGUAGE.test(lines[0]?.trim() ?? '')) lines.shift();
  return lines.join('\n').trim();
}

/**
 * Reads a pasted migration; undefined when the message does not start with `migrate`. A message that does but
 * lacks the two scripts gets a ValidationError that says how to write one.
 */
export function parsePastedMigration(text: string): PastedMigration | undefined {
  if (!isPastedMigration(text)) return undefined;
  const body = text.replace(LEAD, '');
  const firstFence = body.indexOf('```');
  const head = (firstFence === -1 ? body : body.slice(0, firstFence)).trim();
  const name = head === '' ? undefined : head.split(/\s+/).join(' ');
  const blocks = [...body.matchAll(FENCE)].map((m) => blockCode(m[1] ?? '', m[2] ?? ''));
  if (blocks.length < 2) {
    const found = blocks.length === 0 ? 'no code block' : 'only one code block';
    throw new ValidationError(`A migration needs an up script and a down script; I found ${found}.`, {
      hint: USAGE,
    });
  }
  if (blocks.length > 2) {
    throw new ValidationError(`A migration has exactly two scripts; I found ${blocks.length} code blocks.`, {
      hint: `${USAGE} Put every statement of a script in its one block.`,
    });
  }
  const [up = '', down = ''] = blocks;
  if (up === '' || down === '') {
    throw new ValidationError(`The ${up === '' ? 'up' : 'down'} script is empty.`, { hint: USAGE });
  }
  return { name, up, down };
}
