import { DISCORD_LIMITS } from './discord-limits.ts';

const PREFIX = 'threadql';

/** Encodes an action and its value as a Discord custom_id, `threadql:${action}:${value}`; undefined when over 100 chars. */
export function encodeCustomId(action: string, value: string): string | undefined {
  if (action.includes(':')) return undefined;
  const id = `${PREFIX}:${action}:${value}`;
  return id.length <= DISCORD_LIMITS.customId ? id : undefined;
}

/** Decodes a custom_id made by encodeCustomId; undefined for ids threadql did not create (other bots' components). */
export function decodeCustomId(customId: string): { action: string; value: string } | undefined {
  if (!customId.startsWith(`${PREFIX}:`)) return undefined;
  const rest = customId.slice(PREFIX.length + 1);
  const colon = rest.indexOf(':');
  if (colon <= 0) return undefined;
  // The value may itself contain colons; only the first separates it from the action.
  return { action: rest.slice(0, colon), value: rest.slice(colon + 1) };
}
