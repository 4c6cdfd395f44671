import { Client, GatewayIntentBits, Partials } from './discord-js.ts';
import type { ClientOptions, RESTOptions } from 'discord.js';

/**
 * The fewest gateway intents threadql works with, and why each one:
 * - Guilds: guild, channel and thread create/update events fill discord.js's caches; without them a
 *   MESSAGE_CREATE for an uncached channel is dropped and threads cannot be resolved to their parent.
 * - GuildMessages: MESSAGE_CREATE in server channels and threads (mentions and thread follow-ups).
 * - MessageContent (privileged; enable it in the Developer Portal): the text of thread follow-ups that do
 *   not mention the bot. Without it Discord sends those with empty content (mentions and DMs keep theirs).
 * - DirectMessages: MESSAGE_CREATE in DMs with the bot.
 * GuildMembers and GuildPresences are not needed: interactions and messages carry the member (roles) inline.
 */
export const DISCORD_INTENTS = [
  GatewayIntentBits.Guilds,
  GatewayIntentBits.GuildMessages,
  GatewayIntentBits.MessageContent,
  GatewayIntentBits.DirectMessages,
] as const;

/** DM channels are never in the cache at startup; with the Channel partial discord.js still emits their messages. */
export const DISCORD_PARTIALS = [Partials.Channel] as const;

export interface DiscordClientSettings {
  /** REST base URL without the version (discord.js appends `/v10`); DISCORD_API_URL, for tests and proxies. */
  apiUrl?: string;
  /** Extra REST options (timeouts, retries, rate-limit rejection). */
  rest?: Partial<RESTOptions>;
}

/**
 * REST requests go through Node's built-in fetch rather than @discordjs/rest's default, the npm `undici`
 * 6 `request()`. That one dispatches through the process-wide legacy dispatcher
 * (`Symbol.for('undici.globalDispatcher.1')`), and loading undici 8 (a dependency of @slack/socket-mode, so
 * always loaded next to the Slack adapter) replaces it with an undici 8 agent that refuses the built-in
 * FormData @discordjs/rest builds for uploads ("body must be a FormData created by this undici package
 * instance"): every message with an attachment failed. fetch serialises FormData itself before dispatching.
 */
const fetchRequest: NonNullable<RESTOptions['makeRequest']> = (url, init) =>
  fetch(url, init as RequestInit) as ReturnType<NonNullable<RESTOptions['makeRequest']>>;

/** A discord.js client with threadql's intents, partials and REST base. */
export function createDiscordClient(settings: DiscordClientSettings = {}): Client {
  const rest: Partial<RESTOptions> = {
    makeRequest: fetchRequest,
    ...settings.rest,
    ...(settings.apiUrl ? { api: settings.apiUrl } : {}),
  };
  const options: ClientOptions = {
    intents: [...DISCORD_INTENTS],
    partials: [...DISCORD_PARTIALS],
    rest,
    // Bot replies never ping anyone, even when a result cell contains "@everyone".
    allowedMentions: { parse: [] },
  };
  return new Client(options);
}
