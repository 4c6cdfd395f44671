/** What a message asks threadql to do: a built-in command, or a question for the pipeline. */
export type ChatCommand =
  | { kind: 'help' }
  | { kind: 'connections' }
  | { kind: 'schema'; tables: string[] }
  | { kind: 'use'; connection: string }
  | { kind: 'question'; text: string };

/** Parses `help`, `connections`, `schema [table …]`, `use <connection>`; anything else is a question. */
export function parseChatCommand(text: string): ChatCommand {
  const trimmed = text.trim().replace(/^\/?threadql\s+/i, '');
  const [word = '', ...rest] = trimmed.split(/\s+/);
  const lower = word.toLowerCase();
  if (lower === 'help' || lower === '?' || trimmed === '') return { kind: 'help' };
  if (lower === 'connections' && rest.length === 0) return { kind: 'connections' };
  if ((lower === 'schema' || lower === 'erd') && rest.every((t) => /^[\w.$"`-]+,?$/.test(t))) {
    const tables = rest
      .filter((t) => !['around', 'of', 'for', 'the', 'tables', 'table'].includes(t.toLowerCase()))
      .map((t) => t.replace(/[,"`]/g, ''))
      .filter(Boolean);
    return { kind: 'schema', tables };
  }
  if (lower === 'use' && rest.length === 1 && /^[\w-]+$/.test(rest[0]!))
    return { kind: 'use', connection: rest[0]! };
  if (lower === 'ask') return { kind: 'question', text: rest.join(' ') };
  return { kind: 'question', text: trimmed };
}
