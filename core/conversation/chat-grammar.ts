/**
 * The chat command grammar: every command a user can type, on every platform, in one table. The parser and
 * `help` both read this table, so they cannot drift apart. Command names and their syntax are a public
 * interface (the issues name them); what a command does lives in a flow (core/conversation/flows/).
 *
 * A message that is no command is a question (or pasted SQL): the `question` command takes the rest.
 */
import type { PlatformName } from './chat-platform.ts';
import { fencedBlocks, isSlug, keyValues, stripFences, words } from './grammar-tokens.ts';

export type { KeyValues } from './grammar-tokens.ts';

/** The arguments each command parses to. */
export interface CommandArgs {
  help: Record<string, never>;
  question: { text: string };
  connections: Record<string, never>;
  use: { connection: string };
  schema: { tables: string[] };
  access: { connection?: string };
  approvals: Record<string, never>;
  as: { name: string };
  migrate: { name?: string; up: string; down: string };
  migrations: { export?: 'flyway' };
  rollback: { version?: string };
  save: { name: string };
  template: { name: string; sql?: string };
  templates: { search: string };
  run: { name: string; values: Record<string, string> };
  'delete-template': { name: string };
  schedule: { name: string; when: string; channel: string; values: Record<string, string> };
  schedules: Record<string, never>;
  pause: { id: string };
  resume: { id: string };
  unschedule: { id: string };
}

export type CommandName = keyof CommandArgs;

/** A parsed message: a command with its arguments, or a command that was clearly meant but is malformed. */
export type ParsedMessage =
  | { [K in CommandName]: { kind: 'command'; name: K; args: CommandArgs[K] } }[CommandName]
  | { kind: 'invalid'; name: CommandName; problem: string; usage: string };

/** What one entry's parser sees: the text (bot mention and `/threadql` removed) and its words. */
export interface GrammarInput {
  text: string;
  /** Whitespace-separated words of the text outside fenced code. */
  words: string[];
  /** The first word, lower-cased. */
  head: string;
}

type Parsed<K extends CommandName> = CommandArgs[K] | { problem: string } | undefined;

export interface GrammarEntry<K extends CommandName = CommandName> {
  name: K;
  /** How it is typed, for help: `run <name> [key=value …]`. */
  usage: string;
  summary: string;
  section: 'Ask' | 'Templates' | 'Schedules' | 'Changes' | 'Admin';
  /** Platforms where the command exists (default: all). */
  platforms?: readonly PlatformName[];
  /** Arguments when the text is this command; `{problem}` when it clearly is but is malformed; else undefined. */
  parse(input: GrammarInput): Parsed<K>;
}

const none = {} as Record<string, never>;
const exactly = (word: string) => (i: GrammarInput) =>
  i.head === word && i.words.length === 1 ? none : undefined;
const oneId = (word: string) => (i: GrammarInput) => {
  if (i.head !== word) return undefined;
  if (i.words.length === 2 && /^[\w-]{1,64}$/.test(i.words[1]!)) return { id: i.words[1]! };
  return i.words.length === 1
    ? { problem: `Which schedule? Give its id, e.g. \`${word} 3f2a9c\`.` }
    : undefined;
};

/** A slug-named template after `prefix` words, e.g. `delete template <name>`. */
function namedAfter(i: GrammarInput, prefix: number): string | undefined {
  const name = i.words[prefix];
  return name && isSlug(name) ? name.toLowerCase() : undefined;
}

const WHEN_START = /^(["“”'‘’]|every\b|hourly\b|daily\b|weekdays\b|monthly\b)/i;
const CHANNEL_REF = /^(<#[A-Z0-9]+(\|[^>]*)?>|<#\d+>|#[\w-]+|[CGD][A-Z0-9]{6,}|\d{15,25})$/;

/** `schedule <name> <when> in <channel> [key=value …]`; the `<when>` text is parsed by the schedule flow. */
function parseSchedule(i: GrammarInput): Parsed<'schedule'> {
  if (i.head !== 'schedule') return undefined;
  const name = namedAfter(i, 1);
  if (!name) return undefined;
  const rest = i.words.slice(2);
  // The last ` in <channel>` separates the time from the channel: `in` may appear inside a quoted cron.
  let at = -1;
  for (let k = rest.length - 2; k >= 0; k--) {
    if (rest[k]!.toLowerCase() === 'in' && CHANNEL_REF.test(rest[k + 1]!)) {
      at = k;
      break;
    }
  }
  if (at < 1) {
    return WHEN_START.test(rest.join(' '))
      ? { problem: 'Say which channel the report goes to: `… in #channel`.' }
      : undefined;
  }
  const values = keyValues(rest.slice(at + 2));
  if (!values) return { problem: 'After the channel, only `key=value` parameter values may follow.' };
  return { name, when: rest.slice(0, at).join(' '), channel: rest[at + 1]!, values };
}

/** Every command, in the order help lists them. */
export const GRAMMAR: readonly GrammarEntry[] = [
  {
    name: 'question',
    usage: 'ask <question>',
    summary: 'ask in plain words (`ask` is optional): `how many customers signed up each week, by country?`',
    section: 'Ask',
    parse: (i) => (i.head === 'ask' ? { text: i.text.replace(/^\s*ask\s*/i, '') } : undefined),
  },
  {
    name: 'schema',
    usage: 'schema [table …]',
    summary: 'an ER diagram of the whole schema, or of the tables around the named ones',
    section: 'Ask',
    parse: (i) => {
      if (i.head !== 'schema' && i.head !== 'erd') return undefined;
      const rest = i.words.slice(1);
      if (!rest.every((t) => /^[\w.$"`-]+,?$/.test(t))) return undefined;
      const tables = rest
        .filter((t) => !['around', 'of', 'for', 'the', 'tables', 'table'].includes(t.toLowerCase()))
        .map((t) => t.replace(/[,"`]/g, ''))
        .filter(Boolean);
      return { tables };
    },
  },
  {
    name: 'connections',
    usage: 'connections',
    summary: 'the connections this channel may use',
    section: 'Ask',
    parse: exactly('connections'),
  },
  {
    name: 'use',
    usage: 'use <connection>',
    summary: 'switch this thread to another connection',
    section: 'Ask',
    parse: (i) =>
      i.head === 'use' && i.words.length === 2 && /^[\w-]+$/.test(i.words[1]!)
        ? { connection: i.words[1]! }
        : undefined,
  },
  {
    name: 'save',
    usage: 'save as <name>',
    summary: 'save the query last run in this thread as a template',
    section: 'Templates',
    parse: (i) => {
      if (i.head !== 'save' || i.words[1]?.toLowerCase() !== 'as') return undefined;
      const name = namedAfter(i, 2);
      if (name && i.words.length === 3) return { name };
      return { problem: 'Template names are letters, digits, `-` and `_`, e.g. `save as weekly-signups`.' };
    },
  },
  {
    name: 'template',
    usage: 'template <name> [```sql …```]',
    summary: 'show a template, or save the SQL in the code block under that name (`:name` marks a parameter)',
    section: 'Templates',
    parse: (i) => {
      if (i.head !== 'template') return undefined;
      const name = namedAfter(i, 1);
      const blocks = fencedBlocks(i.text);
      if (!name || i.words.length !== 2) return undefined;
      if (blocks.length > 1) return { problem: 'Give one code block with the template’s SQL.' };
      return blocks[0] ? { name, sql: blocks[0] } : { name };
    },
  },
  {
    name: 'templates',
    usage: 'templates [words]',
    summary: 'list templates, or search their names, descriptions and questions',
    section: 'Templates',
    parse: (i) => (i.head === 'templates' ? { search: i.words.slice(1).join(' ') } : undefined),
  },
  {
    name: 'run',
    usage: 'run <name> [key=value …]',
    summary: 'run a template with parameter values (quote values with spaces: `country="United States"`)',
    section: 'Templates',
    parse: (i) => {
      if (i.head !== 'run') return undefined;
      const name = namedAfter(i, 1);
      const values = keyValues(i.words.slice(2));
      return name && values ? { name, values } : undefined;
    },
  },
  {
    name: 'delete-template',
    usage: 'delete template <name>',
    summary: 'delete a template (its owner or an admin)',
    section: 'Templates',
    parse: (i) => {
      if (i.head !== 'delete' || i.words[1]?.toLowerCase() !== 'template') return undefined;
      const name = namedAfter(i, 2);
      return name && i.words.length === 3 ? { name } : { problem: 'Usage: `delete template <name>`.' };
    },
  },
  {
    name: 'schedule',
    usage: 'schedule <name> <when> in <channel> [key=value …]',
    summary:
      '`<when>`: a cron in quotes ("0 9 * * 1"), `every N minutes`, `hourly`, `daily at HH:MM`, ' +
      '`weekdays at HH:MM`, `every <weekday> at HH:MM`, `monthly on <day> at HH:MM`; add `tz <zone>`',
    section: 'Schedules',
    parse: parseSchedule,
  },
  {
    name: 'schedules',
    usage: 'schedules',
    summary: 'scheduled reports: when, where, next run, last status',
    section: 'Schedules',
    parse: exactly('schedules'),
  },
  {
    name: 'pause',
    usage: 'pause <id>',
    summary: 'pause a schedule',
    section: 'Schedules',
    parse: oneId('pause'),
  },
  {
    name: 'resume',
    usage: 'resume <id>',
    summary: 'resume a paused schedule',
    section: 'Schedules',
    parse: oneId('resume'),
  },
  {
    name: 'unschedule',
    usage: 'unschedule <id>',
    summary: 'remove a schedule',
    section: 'Schedules',
    parse: oneId('unschedule'),
  },
  {
    name: 'approvals',
    usage: 'approvals',
    summary: 'the pending changes you may approve, with links to their threads',
    section: 'Changes',
    parse: exactly('approvals'),
  },
  {
    name: 'migrate',
    usage: 'migrate [name] ```up``` ```down```',
    summary: 'propose a migration: two code blocks, the up script then the down script',
    section: 'Changes',
    parse: (i) => {
      if (i.head !== 'migrate') return undefined;
      const blocks = fencedBlocks(i.text);
      if (blocks.length === 0) return undefined;
      if (blocks.length !== 2)
        return { problem: 'A migration needs two code blocks: the up script, then the down script.' };
      const rest = words(stripFences(i.text)).slice(1);
      if (rest.length > 1 || (rest[0] !== undefined && !isSlug(rest[0])))
        return { problem: 'A migration name is one word of letters, digits, `-` and `_`.' };
      return { ...(rest[0] ? { name: rest[0].toLowerCase() } : {}), up: blocks[0]!, down: blocks[1]! };
    },
  },
  {
    name: 'migrations',
    usage: 'migrations [export flyway]',
    summary: 'this connection’s migrations and any drift; `export flyway` attaches them as Flyway files',
    section: 'Changes',
    parse: (i) => {
      if (i.head !== 'migrations') return undefined;
      if (i.words.length === 1) return none;
      const rest = i.words.slice(1).map((w) => w.toLowerCase());
      if (rest.length === 2 && rest[0] === 'export' && rest[1] === 'flyway') return { export: 'flyway' };
      return rest[0] === 'export' ? { problem: 'The export format is `flyway`.' } : undefined;
    },
  },
  {
    name: 'rollback',
    usage: 'rollback [version]',
    summary: 'roll back the newest applied migration (in its thread, or by version); needs an approval',
    section: 'Changes',
    parse: (i) => {
      if (i.head !== 'rollback' || i.words.length > 2) return undefined;
      const version = i.words[1];
      if (version === undefined) return none;
      return /^[\w.-]{1,64}$/.test(version) ? { version } : undefined;
    },
  },
  {
    name: 'as',
    usage: 'as <name>',
    summary: 'act as another user in this terminal (to try the approval flow)',
    section: 'Admin',
    platforms: ['shell'],
    parse: (i) =>
      i.head === 'as' && i.words.length === 2 && /^[\w.-]{1,64}$/.test(i.words[1]!)
        ? { name: i.words[1]! }
        : undefined,
  },
  {
    name: 'access',
    usage: 'access [connection]',
    summary: 'who may query a connection, where, what is masked and how results are delivered',
    section: 'Admin',
    parse: (i) => {
      if (i.head !== 'access' || i.words.length > 2) return undefined;
      return i.words[1] ? { connection: i.words[1] } : none;
    },
  },
  {
    name: 'help',
    usage: 'help',
    summary: 'this list',
    section: 'Admin',
    // Empty means nothing at all: a message that is only a fenced block is pasted SQL, not a call for help.
    parse: (i) => (i.head === 'help' || i.head === '?' || i.text.trim() === '' ? none : undefined),
  },
];

/** Parses a message into a command (a question when nothing else matches). */
export function parseChatMessage(text: string, platform?: PlatformName): ParsedMessage {
  const trimmed = text.trim().replace(/^\/?threadql\s+/i, '');
  const tokens = words(stripFences(trimmed));
  const input: GrammarInput = { text: trimmed, words: tokens, head: (tokens[0] ?? '').toLowerCase() };
  for (const entry of GRAMMAR) {
    if (platform && entry.platforms && !entry.platforms.includes(platform)) continue;
    const args = entry.parse(input);
    if (args === undefined) continue;
    if ('problem' in args && typeof args.problem === 'string') {
      return { kind: 'invalid', name: entry.name, problem: args.problem, usage: entry.usage };
    }
    return { kind: 'command', name: entry.name, args } as ParsedMessage;
  }
  return { kind: 'command', name: 'question', args: { text: trimmed } };
}

const SECTIONS: GrammarEntry['section'][] = ['Ask', 'Templates', 'Schedules', 'Changes', 'Admin'];

/** The help text, generated from the grammar: the commands available on `platform` (all when not given). */
export function helpText(platform?: PlatformName, available?: (name: CommandName) => boolean): string {
  const lines = ['*threadql* turns questions into SQL, shows it, and runs it only when you click *Run*.'];
  for (const section of SECTIONS) {
    const entries = GRAMMAR.filter(
      (e) =>
        e.section === section &&
        (!platform || !e.platforms || e.platforms.includes(platform)) &&
        (!available || available(e.name)),
    );
    if (entries.length === 0) continue;
    lines.push(`*${section}*`);
    for (const e of entries) lines.push(`• \`${e.usage}\`: ${e.summary}`);
  }
  lines.push(
    'Follow up in the same thread to refine an answer. Paste SQL (or a ```sql block) to check and run it yourself.',
    'Reads run in read-only transactions with a timeout and a row cap; writes and schema changes need an approver.',
  );
  return lines.join('\n');
}
