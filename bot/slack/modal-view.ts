/**
 * ModalSpec ⇄ Slack modal view. The view's private_metadata carries the opaque value and the thread key, because a
 * view_submission payload has no channel or thread of its own.
 */
import type { types } from '@slack/bolt';
import {
  parseThreadKey,
  threadKey,
  type ModalSpec,
  type ModalSubmit,
  type ThreadRef,
} from '../../core/conversation/chat-platform.ts';
import { PlatformError } from '../../core/errors.ts';
import { ACTION_PREFIX } from './reply-to-blocks.ts';
import { slackUser } from './slack-incoming.ts';
import { SLACK_LIMITS, truncate } from './slack-text.ts';

interface ModalMetadata {
  /** The spec's opaque value (a confirmation token id). */
  v: string;
  /** The normalised thread key. */
  t: string;
}

/** Builds the `views.open` view for a ModalSpec; throws PlatformError when a field cannot fit Slack's input limit. */
export function modalView(spec: ModalSpec, thread: ThreadRef): types.ModalView {
  const metadata = JSON.stringify({ v: spec.value, t: threadKey(thread) } satisfies ModalMetadata);
  if (metadata.length > SLACK_LIMITS.privateMetadata) {
    throw new PlatformError('platform_failed', 'The dialog payload is too large for Slack', {
      detail: { modal: spec.id },
    });
  }
  const blocks: types.InputBlock[] = spec.fields.map((field) => {
    if (field.value.length > SLACK_LIMITS.inputValue) {
      // Cutting SQL to fit would silently change the statement, so refuse instead.
      throw new PlatformError(
        'platform_failed',
        `"${field.label}" is ${field.value.length} characters; a Slack dialog holds at most ${SLACK_LIMITS.inputValue}`,
        {
          hint: 'Reply in the thread with the corrected text instead.',
          detail: { modal: spec.id, field: field.id },
        },
      );
    }
    const element: types.PlainTextInput = {
      type: 'plain_text_input',
      action_id: field.id,
      multiline: field.multiline,
    };
    if (field.value) element.initial_value = field.value;
    return {
      type: 'input',
      block_id: field.id,
      ...(field.optional ? { optional: true } : {}),
      label: { type: 'plain_text', text: truncate(field.label, 2000) },
      element,
    };
  });
  return {
    type: 'modal',
    callback_id: `${ACTION_PREFIX}${spec.id}`,
    title: { type: 'plain_text', text: truncate(spec.title, SLACK_LIMITS.modalTitle) },
    submit: { type: 'plain_text', text: truncate(spec.submitLabel, SLACK_LIMITS.modalTitle) },
    close: { type: 'plain_text', text: 'Cancel' },
    private_metadata: metadata,
    blocks,
  };
}

/** The fields of a view_submission payload the adapter reads. */
export interface ViewSubmissionBody {
  type: 'view_submission';
  team?: { id: string } | null;
  user: { id: string; team_id?: string; name?: string; username?: string };
  view: {
    id: string;
    callback_id: string;
    private_metadata?: string;
    state?: { values: Record<string, Record<string, { value?: string | null }>> };
  };
}

/** Maps a view_submission of a threadql modal to a ModalSubmit; undefined when the view is not ours or lacks metadata. */
export function modalSubmitFromView(body: ViewSubmissionBody): ModalSubmit | undefined {
  const { view } = body;
  if (!view.callback_id.startsWith(ACTION_PREFIX) || !view.private_metadata) return undefined;
  let metadata: ModalMetadata;
  let thread: ThreadRef;
  try {
    metadata = JSON.parse(view.private_metadata) as ModalMetadata;
    thread = parseThreadKey(metadata.t);
  } catch {
    return undefined;
  }
  const fields: Record<string, string> = {};
  for (const [blockId, actions] of Object.entries(view.state?.values ?? {})) {
    for (const state of Object.values(actions)) fields[blockId] = state.value ?? '';
  }
  const team = body.user.team_id ?? body.team?.id ?? thread.workspace;
  return {
    id: view.id,
    thread,
    user: slackUser(team, body.user.id, body.user.name ?? body.user.username),
    modalId: view.callback_id.slice(ACTION_PREFIX.length),
    value: metadata.v,
    fields,
  };
}
