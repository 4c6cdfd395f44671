/**
 * The `/threadql` slash command: `ask <question>`, `schema [table]`, `help`. A question starts a thread (the adapter
 * posts a root message) and then flows like any mention; `help` is answered privately at once.
 */
import { escapeMrkdwn } from './slack-text.ts';

export type SlashCommand =
  { kind: 'ask'; question: string } | { kind: 'schema'; table?: string } | { kind: 'help'; unknown?: string };

/** Parses the text after `/threadql`; a text that starts with no known word is a question. */
export function parseSlashCommand(text: string): SlashCommand {
  const trimmed = text.trim();
  const [word = '', ...rest] = trimmed.split(/\s+/);
  const tail = rest.join(' ').trim();
  switch (word.toLowerCase()) {
    case '':
    case 'help':
      return { kind: 'help' };
    case 'ask':
      return tail ? { kind: 'ask', question: tail } : { kind: 'help', unknown: 'ask needs a question' };
    case 'schema':
      return tail ? { kind: 'schema', table: tail } : { kind: 'schema' };
    default:
      return { kind: 'ask', question: trimmed };
  }
}

/** The text the conversation engine receives for a command: the same words a mention would use. */
export function commandQuestion(command: Exclude<SlashCommand, { kind: 'help' }>): string {
  if (command.kind === 'ask') return command.question;
  return command.table ? `show the schema around ${command.table}` : 'show the schema';
}

/** The root message the adapter posts in the channel to start the command's thread. */
export function commandRootText(command: Exclude<SlashCommand, { kind: 'help' }>, userId: string): string {
  if (command.kind === 'ask') return `<@${userId}> asked: ${escapeMrkdwn(command.question)}`;
  return command.table
    ? `<@${userId}> asked for the schema around \`${escapeMrkdwn(command.table)}\``
    : `<@${userId}> asked for the schema`;
}

/** Usage text for `/threadql help`, shown only to the user who asked. */
export function slashHelpText(commandName: string, problem?: string): string {
  const lines = [
    problem
      ? `:information_source: ${problem}.`
      : '*threadql* turns questions into SQL you confirm before it runs.',
    `• \`${commandName} ask <question>\`: start a thread with a question (same as mentioning the bot)`,
    `• \`${commandName} schema [table]\`: show the schema (around one table) as an ER diagram`,
    `• \`${commandName} help\`: this help`,
    'In a thread the bot is already in, just reply; no mention needed.',
  ];
  return lines.join('\n');
}
