/**
 * The `/threadql` slash command: `ask <question>`, `schema [table]`, `help` (and whatever else the engine's chat
 * commands accept). Anything but help starts a thread: the adapter posts a root message, then hands the text to
 * the engine verbatim, so the command grammar lives in one place (core/conversation/chat-grammar.ts).
 * `help` is answered privately at once, without a thread.
 */
import { escapeMrkdwn, truncate } from './slack-text.ts';

export type SlashCommand = { kind: 'help' } | { kind: 'thread'; text: string };

/** Parses the text after `/threadql`: empty, `help` or `?` is help; everything else starts a thread. */
export function parseSlashCommand(text: string): SlashCommand {
  const trimmed = text.trim();
  const word = trimmed.split(/\s+/, 1)[0]!.toLowerCase();
  if (trimmed === '' || word === 'help' || word === '?') return { kind: 'help' };
  if (word === 'ask' && trimmed.split(/\s+/).length === 1) return { kind: 'help' };
  return { kind: 'thread', text: trimmed };
}

/** The root message the adapter posts in the channel to start the command's thread. */
export function commandRootText(text: string, userId: string, commandName: string): string {
  const ask = /^ask\s+/i.exec(text);
  const shown = escapeMrkdwn(truncate(ask ? text.slice(ask[0].length) : text, 2500));
  return ask ? `<@${userId}> asked: ${shown}` : `<@${userId}> used \`${commandName} ${shown}\``;
}

/** Usage text for `/threadql help` (the slash forms, then the chat commands' help), shown only to the asker. */
export function slashHelpText(commandName: string, help: string): string {
  return [
    `\`${commandName} ask <question>\` starts a thread with a question (the same as mentioning the bot);`,
    `\`${commandName} schema [table]\` draws the schema; \`${commandName} help\` shows this.`,
    '',
    help,
  ].join('\n');
}
