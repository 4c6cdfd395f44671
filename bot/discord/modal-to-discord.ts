import { ComponentType, TextInputStyle } from './discord-js.ts';
import type { APIModalInteractionResponseCallbackData } from 'discord.js';
import type { ModalSpec } from '../../core/conversation/chat-platform.ts';
import { PlatformError } from '../../core/errors.ts';
import { encodeCustomId } from './custom-id.ts';
import { DISCORD_LIMITS } from './discord-limits.ts';
import { truncateText } from './discord-text.ts';

/**
 * ModalSpec → Discord modal (Label + TextInput components). Discord modals have no custom submit label, so
 * `submitLabel` is not shown. A value longer than a TextInput holds is refused rather than cut: a silently
 * shortened SQL statement would run something the user never saw.
 */
export function modalToDiscord(spec: ModalSpec): APIModalInteractionResponseCallbackData {
  const customId = encodeCustomId(spec.id, spec.value);
  if (customId === undefined) {
    throw new PlatformError(
      'platform_failed',
      `Modal id "${spec.id}" with its value is longer than Discord's 100-character limit.`,
    );
  }
  if (spec.fields.length > DISCORD_LIMITS.modalComponents) {
    throw new PlatformError(
      'platform_failed',
      `A Discord modal holds at most ${DISCORD_LIMITS.modalComponents} fields.`,
    );
  }
  for (const field of spec.fields) {
    if (field.value.length > DISCORD_LIMITS.textInputValue) {
      throw new PlatformError(
        'platform_failed',
        `"${field.label}" is ${field.value.length.toLocaleString('en-US')} characters; a Discord text box holds ${DISCORD_LIMITS.textInputValue.toLocaleString('en-US')}.`,
        { hint: 'Send the edited statement as a message in the thread instead.' },
      );
    }
  }
  return {
    custom_id: customId,
    title: truncateText(spec.title, DISCORD_LIMITS.modalTitle),
    components: spec.fields.map((field) => ({
      type: ComponentType.Label,
      label: truncateText(field.label, DISCORD_LIMITS.textInputLabel),
      component: {
        type: ComponentType.TextInput,
        custom_id: field.id,
        style: field.multiline ? TextInputStyle.Paragraph : TextInputStyle.Short,
        value: field.value,
        required: false,
        max_length: DISCORD_LIMITS.textInputValue,
      },
    })),
  };
}
