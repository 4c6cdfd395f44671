/**
 * Pure mapping from Slack payloads (Events API messages, block_actions) to the neutral contract:
 * which messages count as addressed to the bot, their normalised ThreadRef/UserRef, and the text without the mention.
 */
import type {
  ButtonClick,
  IncomingMessage,
  ThreadRef,
  UserRef,
} from '../../core/conversation/chat-platform.ts';
import { NATIVE_FEEDBACK_ACTION_ID, actionFromId, decodeFeedbackValue } from './reply-to-blocks.ts';

/** The fields of a Slack message / app_mention event the adapter reads. */
export interface SlackMessageEvent {
  type: string;
  subtype?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  channel: string;
  channel_type?: string;
  team?: string;
}

/** Why a message event is or is not for the bot. */
export type MessageRoute =
  { kind: 'mention' } | { kind: 'dm' } | { kind: 'thread_reply' } | { kind: 'ignore'; reason: string };

/** Subtypes a person's message can carry and still be a question (a message with a file attached). */
const USER_SUBTYPES = new Set(['file_share', 'thread_broadcast']);

/** The normalised ThreadRef of a Slack message: replies live in the thread of their root, a root starts one. */
export function slackThread(team: string, channel: string, ts: string, threadTs?: string): ThreadRef {
  return { platform: 'slack', workspace: team, channel, thread: threadTs ?? ts };
}

/** The normalised UserRef of a Slack user. */
export function slackUser(team: string, user: string, displayName?: string): UserRef {
  const ref: UserRef = { platform: 'slack', workspace: team, user };
  if (displayName) ref.displayName = displayName;
  return ref;
}

/** Removes the bot's own mention (`<@U123>` or `<@U123|name>`) and tidies the whitespace it leaves. */
export function stripMention(text: string, botUserId: string | undefined): string {
  const pattern = botUserId
    ? new RegExp(`<@${botUserId}(?:\\|[^>]*)?>`, 'g')
    : /^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>/;
  return text
    .replace(pattern, ' ')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}

/**
 * Decides whether a `message` / `app_mention` event is addressed to the bot. Thread replies in channels still need
 * the active-thread check, which is I/O and so left to the caller.
 */
export function routeMessage(event: SlackMessageEvent, botUserId: string | undefined): MessageRoute {
  if (event.bot_id) return { kind: 'ignore', reason: 'from a bot' };
  if (event.subtype && !USER_SUBTYPES.has(event.subtype))
    return { kind: 'ignore', reason: `subtype ${event.subtype}` };
  if (!event.user) return { kind: 'ignore', reason: 'no user' };
  if (botUserId && event.user === botUserId) return { kind: 'ignore', reason: 'own message' };
  if (event.type === 'app_mention') return { kind: 'mention' };
  if (event.channel_type === 'im') return { kind: 'dm' };
  // A channel message that mentions the bot also arrives as app_mention; answering both would answer twice.
  if (botUserId && event.text?.includes(`<@${botUserId}`))
    return { kind: 'ignore', reason: 'handled as app_mention' };
  if (event.thread_ts && event.thread_ts !== event.ts) return { kind: 'thread_reply' };
  return { kind: 'ignore', reason: 'not in a thread' };
}

/**
 * The text as the user typed it. Slack escapes `&`, `<` and `>` in message text (`a &gt; 1`) and wraps links and
 * e-mail addresses it recognises (`<mailto:a@b.c|a@b.c>`, `<https://x.y|x.y>`), which would break pasted SQL;
 * user, group and channel references (`<@U…>`, `<!subteam^…>`, `<#C…|name>`) stay, since commands read them.
 */
export function slackPlainText(text: string): string {
  return text
    .replace(
      /<((?:mailto:|https?:\/\/)[^>|]*)(?:\|([^>]*))?>/g,
      (_, target: string, label?: string) => label ?? target.replace(/^mailto:/, ''),
    )
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Builds the IncomingMessage for a message event that is for the bot. */
export function incomingFromEvent(
  event: SlackMessageEvent,
  team: string,
  botUserId: string | undefined,
  receivedAt: Date,
): IncomingMessage {
  return {
    id: event.ts,
    thread: slackThread(team, event.channel, event.ts, event.thread_ts),
    user: slackUser(team, event.user ?? 'unknown'),
    text: slackPlainText(stripMention(event.text ?? '', botUserId)),
    receivedAt,
  };
}

/** The fields of a block_actions payload the adapter reads. */
export interface BlockActionsBody {
  type: 'block_actions';
  trigger_id?: string;
  team?: { id: string } | null;
  user: { id: string; team_id?: string; name?: string; username?: string };
  channel?: { id: string };
  container?: { type?: string; message_ts?: string; channel_id?: string; thread_ts?: string };
  message?: { ts: string; thread_ts?: string };
}

/** The fields of one clicked button (`button`, or a side of `feedback_buttons`) the adapter reads. */
export interface ButtonAction {
  type?: string;
  action_id: string;
  value?: string;
  action_ts?: string;
}

/** What a ButtonClick hands back to `openModal`: Slack's trigger plus the thread, for the modal's private_metadata. */
export interface SlackModalTrigger {
  triggerId: string;
  thread: ThreadRef;
}

/** Maps a block_actions click on a threadql button to a ButtonClick; undefined when it is not one of ours. */
export function buttonClickFromAction(body: BlockActionsBody, action: ButtonAction): ButtonClick | undefined {
  let name = actionFromId(action.action_id);
  let value = action.value ?? '';
  if (action.type === 'feedback_buttons' || action.action_id === NATIVE_FEEDBACK_ACTION_ID) {
    // Native feedback: the clicked side's value says which of feedback_up / feedback_down it was.
    const decoded = decodeFeedbackValue(value);
    if (!decoded) return undefined;
    name = decoded.action;
    value = decoded.value;
  }
  const channel = body.channel?.id ?? body.container?.channel_id;
  const messageTs = body.container?.message_ts ?? body.message?.ts;
  if (!name || !channel || !messageTs) return undefined;
  const team = body.user.team_id ?? body.team?.id ?? 'unknown';
  const rootTs = body.message?.thread_ts ?? body.container?.thread_ts ?? messageTs;
  const thread = slackThread(team, channel, rootTs);
  const click: ButtonClick = {
    id: `${messageTs}:${action.action_ts ?? action.action_id}`,
    thread,
    message: { thread, messageId: messageTs },
    user: slackUser(team, body.user.id, body.user.name ?? body.user.username),
    action: name,
    value,
  };
  if (body.trigger_id) click.trigger = { triggerId: body.trigger_id, thread } satisfies SlackModalTrigger;
  return click;
}
