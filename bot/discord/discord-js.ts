/**
 * The discord.js values bot/discord uses, loaded here and only here (other files import types from
 * 'discord.js' directly, and values from this module; a test checks it).
 *
 * Why a chokepoint: vega-lite assigns `Set.prototype.toJSON = function () { return 'Set(…)' }` when it loads
 * (the charts need it). discord.js depends on @vladfrangu/async_event_emitter, whose bundled primordials
 * polyfill walks the prototypes of iterable built-ins at load time, calls every zero-argument method on a
 * fresh instance and asks `Symbol.iterator in result`; on vega-lite's string that throws "Cannot use 'in'
 * operator", so discord.js failed to load whenever vega-lite had loaded first. Which loads first depends on
 * the importer and the loader (Node evaluates CommonJS dependencies in graph order, jest while linking), so
 * an import placed first is not enough: this module repairs the descriptor, then requires discord.js, in
 * one module body.
 */
import { createRequire } from 'node:module';
import type * as DiscordJs from 'discord.js';

/**
 * Re-declares a zero-argument `toJSON` another library put on a built-in prototype: the same function, with
 * the `key` parameter JSON.stringify passes (so the polyfill skips it) and non-enumerable like the built-ins.
 */
export function guardBuiltinToJson(prototype: object): boolean {
  const descriptor = Object.getOwnPropertyDescriptor(prototype, 'toJSON');
  if (!descriptor || typeof descriptor.value !== 'function' || descriptor.value.length !== 0) return false;
  const original = descriptor.value as (this: unknown) => unknown;
  Object.defineProperty(prototype, 'toJSON', {
    value: function toJSON(this: unknown, _key?: string): unknown {
      return original.call(this);
    },
    writable: true,
    configurable: true,
    enumerable: false,
  });
  return true;
}

for (const prototype of [Set.prototype, Map.prototype, Array.prototype]) guardBuiltinToJson(prototype);

const discord = createRequire(import.meta.url)('discord.js') as typeof DiscordJs;

export const {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  ButtonStyle,
  ChannelType,
  Client,
  ComponentType,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  HTTPError,
  InteractionContextType,
  Message,
  MessageFlags,
  Partials,
  PermissionFlagsBits,
  RateLimitError,
  Routes,
  TextInputStyle,
  escapeMarkdown,
} = discord;

// The classes' instance types, under the same names (a value and a type may share one).
export type Client = DiscordJs.Client;
export type Message = DiscordJs.Message;
