/**
 * Turns a neutral Reply into a Slack message: Block Kit blocks plus the files to upload into the thread.
 * Pure: no I/O, so the same reply always gives the same blocks and the limits can be tested directly.
 */
import type { types } from '@slack/bolt';
import type { Button, FileAttachment, Reply } from '../../core/conversation/chat-platform.ts';
import type { QueryResult } from '../../core/db/database-dialect.ts';
import { SLACK_LIMITS, escapeMrkdwn, splitText, toMrkdwn, truncate } from './slack-text.ts';

type AnyBlock = types.AnyBlock;
type SlackButton = types.Button;

/** Prefix of every action_id threadql puts on a button, so clicks route back to the adapter. */
export const ACTION_PREFIX = 'threadql:';

/** The neutral actions of the feedback pair, positive first. */
export const FEEDBACK_ACTIONS = ['feedback_up', 'feedback_down'] as const;

/** action_id of the native feedback_buttons element; which side was clicked travels in the value. */
export const NATIVE_FEEDBACK_ACTION_ID = `${ACTION_PREFIX}feedback`;

/**
 * One feedback_buttons element has one action_id, so each side's value carries its neutral action:
 * `feedback_up:<value>`. Action names hold no colon, so the first colon splits them back.
 */
export function encodeFeedbackValue(action: string, value: string): string {
  return truncate(`${action}:${value}`, SLACK_LIMITS.buttonValue);
}

/** The neutral action and value of a native feedback click, or undefined when the value is not one of ours. */
export function decodeFeedbackValue(encoded: string): { action: string; value: string } | undefined {
  const colon = encoded.indexOf(':');
  const action = colon > 0 ? encoded.slice(0, colon) : '';
  if (!(FEEDBACK_ACTIONS as readonly string[]).includes(action)) return undefined;
  return { action, value: encoded.slice(colon + 1) };
}

/** A table as text for a code block, already escaped for Slack mrkdwn, and its row-count caption. */
export interface SlackTextTable {
  table: string;
  caption: string;
}

/** How tables become Slack content (see slack-tables.ts, which adapts the renderers module). */
export interface SlackTableRenderers {
  /** A monospace text table (shown in a code block). */
  textTable(result: QueryResult, previewRows: number): SlackTextTable;
  /** A native Slack table block, or undefined when the result does not suit one. */
  tableBlock?(result: QueryResult, previewRows: number): { block: AnyBlock; caption: string } | undefined;
}

export interface ReplyToBlocksOptions {
  tables: SlackTableRenderers;
  /** Use the Slack table block where a table fits (≤ 100 rows with header, ≤ 20 columns). Default true. */
  tableBlocks?: boolean;
  /**
   * Render a 👍/👎 pair (`feedback_up` + `feedback_down` in one buttons part) as Slack's native feedback buttons
   * (a `feedback_buttons` element in a `context_actions` block) instead of two plain buttons. Default false.
   */
  nativeFeedback?: boolean;
  /** How a Reply's `mentions` ids are written (`<@U…>`, `<!subteam^S…>`); without it they are left out. */
  mention?: (id: string) => string;
}

/** A file to upload into the thread after the message is posted. */
export interface PendingFile extends FileAttachment {
  altText?: string;
}

export interface SlackMessage {
  /** Notification / screen-reader text. */
  text: string;
  blocks: AnyBlock[];
  files: PendingFile[];
  /** True when content was dropped to fit Slack's limits (a note says so in the message). */
  truncated: boolean;
}

/** Longest notification text; Slack advises ≤ 4,000 characters for the `text` beside blocks. */
const FALLBACK_CHARS = 4000;
const FENCE = '```';

interface Entry {
  block: AnyBlock;
  chars: number;
  /** Actions stay even when content is cut: a confirm card without its Run button is useless. */
  essential: boolean;
}

/** Sums every `text` string inside a block: what Slack counts against the message size. */
function blockChars(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + blockChars(v), 0);
  if (value && typeof value === 'object') {
    let n = 0;
    for (const [key, v] of Object.entries(value))
      n += key === 'text' && typeof v === 'string' ? v.length : blockChars(v);
    return n;
  }
  return 0;
}

function entry(block: AnyBlock, essential = false): Entry {
  return { block, chars: blockChars(block), essential };
}

function section(mrkdwn: string): AnyBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: mrkdwn } };
}

function codeSections(code: string, preEscaped = false): Entry[] {
  const body = preEscaped ? code : escapeMrkdwn(code.replace(/```/g, '`\u200b``'));
  const room = SLACK_LIMITS.textObject - FENCE.length * 2 - 2;
  return splitText(body, room).map((chunk) => entry(section(`${FENCE}\n${chunk}\n${FENCE}`)));
}

function contextEntry(mrkdwn: string): Entry {
  return entry({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: truncate(mrkdwn, SLACK_LIMITS.textObject) }],
  });
}

function textSections(text: string): Entry[] {
  return splitText(toMrkdwn(text), SLACK_LIMITS.textObject).map((chunk) => entry(section(chunk)));
}

function actionBlocks(buttons: Button[]): Entry[] {
  const seen = new Map<string, number>();
  const elements: SlackButton[] = buttons.map((b) => {
    const n = seen.get(b.action) ?? 0;
    seen.set(b.action, n + 1);
    // action_id must be unique within a block; a repeated action gets a `#n` suffix the click parser drops.
    const actionId = `${ACTION_PREFIX}${b.action}${n > 0 ? `#${n}` : ''}`;
    const button: SlackButton = {
      type: 'button',
      action_id: actionId,
      text: { type: 'plain_text', text: truncate(b.label, SLACK_LIMITS.buttonText), emoji: true },
      value: truncate(b.value, SLACK_LIMITS.buttonValue),
    };
    if (b.style === 'primary' || b.style === 'danger') button.style = b.style;
    return button;
  });
  const blocks: Entry[] = [];
  for (let i = 0; i < elements.length; i += SLACK_LIMITS.actionsElements) {
    blocks.push(
      entry({ type: 'actions', elements: elements.slice(i, i + SLACK_LIMITS.actionsElements) }, true),
    );
  }
  return blocks;
}

/** Slack's native 👍/👎 for the AI-app surface: a feedback_buttons element inside a context_actions block. */
function nativeFeedbackBlock(up: Button, down: Button): Entry {
  const side = (b: Button, accessibility: string) => ({
    text: { type: 'plain_text' as const, text: truncate(b.label, SLACK_LIMITS.buttonText), emoji: true },
    value: encodeFeedbackValue(b.action, b.value),
    accessibility_label: accessibility,
  });
  const block: types.ContextActionsBlock = {
    type: 'context_actions',
    elements: [
      {
        type: 'feedback_buttons',
        action_id: NATIVE_FEEDBACK_ACTION_ID,
        positive_button: side(up, 'This answer was helpful'),
        negative_button: side(down, 'This answer was not helpful'),
      },
    ],
  };
  return entry(block, true);
}

/** Buttons as blocks: the feedback pair natively when asked for, everything else as an actions block. */
function buttonBlocks(buttons: Button[], nativeFeedback: boolean): Entry[] {
  const [upAction, downAction] = FEEDBACK_ACTIONS;
  const up = buttons.find((b) => b.action === upAction);
  const down = buttons.find((b) => b.action === downAction);
  if (!nativeFeedback || !up || !down) return actionBlocks(buttons);
  const rest = buttons.filter((b) => b !== up && b !== down);
  return [...(rest.length ? actionBlocks(rest) : []), nativeFeedbackBlock(up, down)];
}

function fitsTableBlock(result: QueryResult, previewRows: number): boolean {
  const rows = Math.min(previewRows, result.rows.length) + 1;
  return rows <= SLACK_LIMITS.tableRows && result.columns.length <= SLACK_LIMITS.tableColumns;
}

/** Keeps every essential block and as much content as fits in 50 blocks and 40,000 characters, noting the cut. */
function applyLimits(entries: Entry[]): { blocks: AnyBlock[]; truncated: boolean } {
  const total = entries.reduce((n, e) => n + e.chars, 0);
  if (entries.length <= SLACK_LIMITS.blocks && total <= SLACK_LIMITS.messageChars) {
    return { blocks: entries.map((e) => e.block), truncated: false };
  }
  const essentials = entries.filter((e) => e.essential);
  let blockRoom = SLACK_LIMITS.blocks - essentials.length - 1;
  let charRoom = SLACK_LIMITS.messageChars - essentials.reduce((n, e) => n + e.chars, 0) - 200;
  const kept = new Set<Entry>(essentials);
  for (const e of entries) {
    if (e.essential) continue;
    if (blockRoom <= 0 || e.chars > charRoom) break;
    kept.add(e);
    blockRoom -= 1;
    charRoom -= e.chars;
  }
  const dropped = entries.length - kept.size;
  const note: AnyBlock = {
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `:warning: This reply was shortened to fit Slack's message limits (${dropped} more block${dropped === 1 ? '' : 's'} not shown).`,
      },
    ],
  };
  const blocks: AnyBlock[] = [];
  let noted = false;
  for (const e of entries) {
    if (kept.has(e)) blocks.push(e.block);
    else if (!noted) {
      blocks.push(note);
      noted = true;
    }
  }
  return { blocks, truncated: true };
}

/** Converts a neutral Reply into Block Kit blocks (within Slack's limits) and the files to upload. */
export function replyToBlocks(reply: Reply, options: ReplyToBlocksOptions): SlackMessage {
  const entries: Entry[] = [];
  const files: PendingFile[] = [];
  let tableBlockUsed = false;
  // Mentions go in unescaped (text parts are escaped, so no message text can forge one) and in the
  // notification text, which is what Slack reads to notify.
  const mentionLine =
    options.mention && reply.mentions?.length ? reply.mentions.map(options.mention).join(' ') : '';
  if (mentionLine) entries.push(entry(section(mentionLine)));
  for (const part of reply.parts) {
    switch (part.type) {
      case 'text':
        entries.push(...textSections(part.text));
        break;
      case 'code':
        entries.push(...codeSections(part.code));
        break;
      case 'table': {
        if (part.title) entries.push(entry(section(`*${escapeMrkdwn(part.title)}*`)));
        const useBlock =
          options.tableBlocks !== false &&
          !tableBlockUsed &&
          options.tables.tableBlock &&
          fitsTableBlock(part.result, part.previewRows);
        const native = useBlock ? options.tables.tableBlock?.(part.result, part.previewRows) : undefined;
        // Slack accepts one table block per message; later tables fall back to text.
        if (native) tableBlockUsed = true;
        const rendered = native ?? options.tables.textTable(part.result, part.previewRows);
        if (native) entries.push(entry(native.block));
        else entries.push(...codeSections((rendered as SlackTextTable).table, true));
        if (rendered.caption) entries.push(contextEntry(escapeMrkdwn(rendered.caption)));
        break;
      }
      case 'context':
        entries.push(contextEntry(toMrkdwn(part.text)));
        break;
      case 'buttons':
        entries.push(...buttonBlocks(part.buttons, options.nativeFeedback === true));
        break;
      case 'image':
        files.push({ ...part.image, altText: part.alt });
        break;
      case 'file':
        files.push(part.file);
        break;
    }
  }
  const { blocks, truncated } = applyLimits(entries);
  const text = truncate(
    mentionLine ? `${mentionLine} ${reply.fallback}` : reply.fallback || 'threadql',
    FALLBACK_CHARS,
  );
  return { text, blocks, files, truncated };
}

/** The neutral action name from a Slack action_id (`threadql:run#1` → `run`), or undefined if not threadql's. */
export function actionFromId(actionId: string): string | undefined {
  if (!actionId.startsWith(ACTION_PREFIX)) return undefined;
  const rest = actionId.slice(ACTION_PREFIX.length);
  const hash = rest.indexOf('#');
  return hash >= 0 ? rest.slice(0, hash) : rest;
}
