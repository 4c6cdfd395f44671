import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  Routes,
} from './discord-js.ts';
import type { REST, RESTPutAPIApplicationCommandsJSONBody } from 'discord.js';
import { toPlatformError } from './to-platform-error.ts';

export type CommandRegistration = 'global' | 'guild' | 'none';

/** The slash commands threadql answers; the first string option of each is the message text. */
export const SLASH_COMMANDS = {
  ask: { option: 'question' },
  schema: { option: 'focus' },
  help: { option: undefined },
} as const;

export type SlashCommandName = keyof typeof SLASH_COMMANDS;

/** True for a command name threadql registered. */
export function isSlashCommand(name: string): name is SlashCommandName {
  return Object.hasOwn(SLASH_COMMANDS, name);
}

const contexts = [InteractionContextType.Guild, InteractionContextType.BotDM];
const integrationTypes = [ApplicationIntegrationType.GuildInstall];

/** The command definitions as Discord's bulk-overwrite endpoint takes them. */
export function slashCommandDefinitions(): RESTPutAPIApplicationCommandsJSONBody {
  return [
    {
      type: ApplicationCommandType.ChatInput,
      name: 'ask',
      description: 'Ask a question about your data; the answer comes in a thread',
      contexts,
      integration_types: integrationTypes,
      options: [
        {
          type: ApplicationCommandOptionType.String,
          name: 'question',
          description: 'What do you want to know?',
          required: true,
          max_length: 1500,
        },
      ],
    },
    {
      type: ApplicationCommandType.ChatInput,
      name: 'schema',
      description: 'Show the database schema as an ER diagram',
      contexts,
      integration_types: integrationTypes,
      options: [
        {
          type: ApplicationCommandOptionType.String,
          name: 'focus',
          description: 'Tables or topic to focus on, e.g. "orders"',
          required: false,
          max_length: 200,
        },
      ],
    },
    {
      type: ApplicationCommandType.ChatInput,
      name: 'help',
      description: 'How to use threadql',
      contexts,
      integration_types: integrationTypes,
    },
  ];
}

/**
 * Registers the commands by bulk overwrite (idempotent: PUT replaces the whole set). Global commands reach
 * every server the bot is in; guild commands update instantly, which suits development servers.
 */
export async function registerSlashCommands(
  rest: REST,
  applicationId: string,
  mode: CommandRegistration,
  guildIds: readonly string[],
): Promise<void> {
  const body = slashCommandDefinitions();
  try {
    if (mode === 'global') await rest.put(Routes.applicationCommands(applicationId), { body });
    if (mode === 'guild') {
      for (const guildId of guildIds)
        await rest.put(Routes.applicationGuildCommands(applicationId, guildId), { body });
    }
  } catch (error) {
    throw toPlatformError(error, 'register the slash commands');
  }
}
