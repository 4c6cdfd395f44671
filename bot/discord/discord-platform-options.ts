import type { ConfigFile } from '../../config/config-file.ts';
import type { Env } from '../../config/env.ts';
import { ConfigError } from '../../core/errors.ts';
import type { DiscordPlatformOptions } from './discord-platform.ts';

/**
 * DiscordPlatform options from the validated env and threadql.yml (config/ is the only reader of
 * process.env; this only maps). Throws ConfigError when DISCORD_TOKEN is missing or guild registration
 * names no guild.
 */
export function discordPlatformOptions(
  env: Pick<Env, 'DISCORD_TOKEN' | 'DISCORD_APPLICATION_ID' | 'DISCORD_API_URL'>,
  config: Pick<ConfigFile, 'discord'>,
  extra: Partial<DiscordPlatformOptions> = {},
): DiscordPlatformOptions {
  if (!env.DISCORD_TOKEN)
    throw new ConfigError(['DISCORD_TOKEN: required to run the Discord adapter (the bot token)']);
  const { commands, guildIds } = config.discord;
  if (commands === 'guild' && guildIds.length === 0) {
    throw new ConfigError(['discord.guildIds: list at least one server id when discord.commands is "guild"']);
  }
  return {
    token: env.DISCORD_TOKEN,
    ...(env.DISCORD_APPLICATION_ID ? { applicationId: env.DISCORD_APPLICATION_ID } : {}),
    ...(env.DISCORD_API_URL ? { apiUrl: env.DISCORD_API_URL } : {}),
    commands: { mode: commands, guildIds },
    ...extra,
  };
}
