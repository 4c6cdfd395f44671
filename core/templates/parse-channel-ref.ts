/**
 * The `<channel>` of `schedule … in <channel>` as the platform sends it: Slack `<#C0123ABC|growth>` (or `<#C0123ABC>`,
 * or a bare id), Discord `<#123456789012345678>` (or a bare id), the shell `#reports`. A reference from another
 * platform, or a Slack `#name` typed without picking the channel, is refused with how to write it.
 */
import type { ChannelRef, PlatformName } from '../conversation/chat-platform.ts';
import { ValidationError } from '../errors.ts';

export interface ParsedChannel {
  channel: ChannelRef;
  /** The name the reference carried (Slack's `|growth`, the shell's `#reports`), if any. */
  name?: string;
}

/** A channel reference in the thread's workspace; throws a ValidationError that says how to write one. */
export function parseChannelRef(platform: PlatformName, workspace: string, text: string): ParsedChannel {
  const ref = text.trim();
  const at = (channel: string, name?: string): ParsedChannel => ({
    channel: { platform, workspace, channel },
    ...(name ? { name } : {}),
  });
  switch (platform) {
    case 'slack': {
      const link = /^<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>$/.exec(ref);
      if (link) return at(link[1]!, link[2] || undefined);
      if (/^[CGD][A-Z0-9]{6,}$/.test(ref)) return at(ref);
      break;
    }
    case 'discord': {
      const link = /^<#(\d{15,25})>$/.exec(ref);
      if (link) return at(link[1]!);
      if (/^\d{15,25}$/.test(ref)) return at(ref);
      break;
    }
    case 'shell': {
      const name = /^#?([\w-]{1,80})$/.exec(ref);
      if (name) return at(name[1]!, name[1]);
      break;
    }
  }
  const how =
    platform === 'slack'
      ? 'Type # and pick the channel from the list, so Slack sends a channel link.'
      : platform === 'discord'
        ? 'Type # and pick the channel from the list, so Discord sends a channel mention.'
        : 'Name the channel, e.g. #reports.';
  throw new ValidationError(`"${ref}" is not a channel I can post in from here.`, { hint: how });
}
