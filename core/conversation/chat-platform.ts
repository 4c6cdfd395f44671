/**
 * The chat-platform port. The core owns it; bot/slack, bot/discord and bot/shell implement it.
 * Everything here is platform-neutral: adapters turn a Reply into Block Kit, embeds or terminal text.
 */
import type { QueryResult } from '../db/database-dialect.ts';

export type PlatformName = 'slack' | 'discord' | 'shell';

/** Where a conversation lives. Normalised key: `platform:workspace:channel:thread`. */
export interface ThreadRef {
  platform: PlatformName;
  /** Slack team id, Discord guild id (`@me` for DMs), `local` for the shell. */
  workspace: string;
  /** Channel id (Slack channel, Discord parent channel, shell `tty`). */
  channel: string;
  /** Thread id: Slack root message ts, Discord thread channel id, shell session id. */
  thread: string;
}

/** Who did something. Normalised key: `platform:workspace:user`. */
export interface UserRef {
  platform: PlatformName;
  workspace: string;
  user: string;
  displayName?: string;
  /** Platform role or group ids the user holds (Discord roles, Slack user groups), for approver checks. */
  roles?: string[];
}

export function threadKey(ref: ThreadRef): string {
  return `${ref.platform}:${ref.workspace}:${ref.channel}:${ref.thread}`;
}

export function userKey(ref: UserRef): string {
  return `${ref.platform}:${ref.workspace}:${ref.user}`;
}

/** Parses a normalised thread key back into a ThreadRef; throws on a malformed key. */
export function parseThreadKey(key: string): ThreadRef {
  const [platform, workspace, channel, ...rest] = key.split(':');
  const thread = rest.join(':');
  if (!platform || !workspace || !channel || !thread || !['slack', 'discord', 'shell'].includes(platform)) {
    throw new Error(`malformed thread key: ${key}`);
  }
  return { platform: platform as PlatformName, workspace, channel, thread };
}

/** Parses a normalised user key back into a UserRef (no display name or roles); throws on a malformed key. */
export function parseUserKey(key: string): UserRef {
  const [platform, workspace, ...rest] = key.split(':');
  const user = rest.join(':');
  if (!platform || !workspace || !user || !['slack', 'discord', 'shell'].includes(platform)) {
    throw new Error(`malformed user key: ${key}`);
  }
  return { platform: platform as PlatformName, workspace, user };
}

/** A channel, for messages that start a thread of their own (scheduled reports). Key: `platform:workspace:channel`. */
export interface ChannelRef {
  platform: PlatformName;
  workspace: string;
  channel: string;
}

export function channelKey(ref: ChannelRef): string {
  return `${ref.platform}:${ref.workspace}:${ref.channel}`;
}

/** What the bot knows about a channel: may it post there, and who can read it. */
export interface ChannelInfo {
  /** The bot can post there (it is a member, or the channel lets it in, with the permissions it needs). */
  canPost: boolean;
  /**
   * Who can read it: `direct` (a DM), `private` (invited members only), `public` (anyone in the workspace or
   * server), `shared` (people of another organisation too: Slack Connect).
   */
  audience: 'direct' | 'private' | 'public' | 'shared';
  /** Display name, e.g. `growth` (no `#`). */
  name?: string;
  /** When canPost is false: why, and how to fix it, in the user's words. */
  problem?: string;
}

/** A message addressed to the bot (mention, DM, thread reply, or slash command text). */
export interface IncomingMessage {
  /** Platform message id (Slack ts, Discord snowflake); used to answer a retried event once. */
  id: string;
  thread: ThreadRef;
  user: UserRef;
  /** Text with the bot's own mention removed. */
  text: string;
  receivedAt: Date;
}

export type ButtonStyle = 'primary' | 'danger' | 'secondary';

export interface Button {
  /** Stable action id, e.g. `run`, `edit`, `cancel`, `feedback_up`. */
  action: string;
  label: string;
  style?: ButtonStyle;
  /** Opaque payload the click carries back (a confirmation token id). ≤ 100 chars (Discord custom_id limit). */
  value: string;
}

export interface FileAttachment {
  filename: string;
  mimeType: string;
  data: Buffer;
  title?: string;
}

/** Parts of a reply, in order. Adapters choose the native form for each. */
export type ReplyPart =
  | { type: 'text'; text: string }
  | { type: 'code'; code: string; language?: string }
  | { type: 'table'; result: QueryResult; previewRows: number; title?: string }
  | { type: 'context'; text: string }
  | { type: 'buttons'; buttons: Button[] }
  | { type: 'image'; image: FileAttachment; alt: string }
  | { type: 'file'; file: FileAttachment };

export interface Reply {
  parts: ReplyPart[];
  /** Plain-text fallback for notifications and screen readers. */
  fallback: string;
  /**
   * Who to notify, as threadql.yml lists them (user, user-group or role ids): each adapter renders them as its
   * own mentions (`mention()`) at the top of the message and lets exactly those ping. Text parts are escaped, so
   * this is the only way a mention reaches a platform.
   */
  mentions?: string[];
}

/** A message the bot has posted, so it can be updated in place. */
export interface PostedMessage {
  thread: ThreadRef;
  messageId: string;
}

export interface ButtonClick {
  /** Platform interaction id; the same click retried carries the same id. */
  id: string;
  thread: ThreadRef;
  message: PostedMessage;
  user: UserRef;
  action: string;
  value: string;
  /** Opaque handle to open a modal in response (Slack trigger_id, Discord interaction). */
  trigger?: unknown;
}

export interface ModalField {
  id: string;
  label: string;
  value: string;
  multiline: boolean;
  /** May be left empty (e.g. a reject's reason); default required. */
  optional?: boolean;
}

export interface ModalSpec {
  /** Callback id the submit carries back, e.g. `edit_sql`. */
  id: string;
  title: string;
  submitLabel: string;
  fields: ModalField[];
  /** Opaque payload (a confirmation token id) returned with the submit. */
  value: string;
}

export interface ModalSubmit {
  id: string;
  thread: ThreadRef;
  user: UserRef;
  modalId: string;
  value: string;
  fields: Record<string, string>;
}

export interface PlatformCapabilities {
  modals: boolean;
  ephemeral: boolean;
  /**
   * Where postEphemeral is truly ephemeral. `anywhere` (Slack, the default when absent): any thread, any user.
   * `interaction` (Discord): only in answer to that user's own recent interaction in that thread (a click, a
   * modal submit or a slash command, within 15 minutes); elsewhere the adapter falls back to a direct message.
   */
  ephemeralScope?: 'anywhere' | 'interaction';
  /** Native table rendering (Slack table block). */
  tableBlocks: boolean;
  /** Longest single text message the platform accepts. */
  maxMessageChars: number;
  /** Width of a code block before lines wrap, in characters. */
  codeBlockWidth: number;
}

export interface PlatformHandlers {
  onMessage(message: IncomingMessage): Promise<void>;
  onButton(click: ButtonClick): Promise<void>;
  onModalSubmit(submit: ModalSubmit): Promise<void>;
}

/** One chat platform. Optional capabilities are declared in `capabilities`, never assumed. */
export interface ChatPlatform {
  readonly name: PlatformName;
  readonly capabilities: PlatformCapabilities;
  start(handlers: PlatformHandlers): Promise<void>;
  stop(): Promise<void>;
  post(thread: ThreadRef, reply: Reply): Promise<PostedMessage>;
  update(message: PostedMessage, reply: Reply): Promise<void>;
  upload(thread: ThreadRef, files: FileAttachment[], comment?: string): Promise<void>;
  postEphemeral(thread: ThreadRef, user: UserRef, text: string): Promise<void>;
  /** Present only when capabilities.modals is true. */
  openModal?(trigger: unknown, modal: ModalSpec): Promise<void>;
  /** Posts a new top-level message into a channel (not a thread reply); the result's thread is the new message's. */
  postToChannel?(channel: ChannelRef, reply: Reply): Promise<PostedMessage>;
  /** Sends `reply` (files included) to `user` in a direct message. */
  postDirect?(user: UserRef, reply: Reply): Promise<void>;
  /**
   * A full reply (tables, files) that only `user` sees, tied to `thread`: Slack an ephemeral message (files by DM),
   * Discord an ephemeral follow-up to the user's own interaction, else a DM.
   */
  postPrivate?(thread: ThreadRef, user: UserRef, reply: Reply): Promise<void>;
  /** Whether the bot may post into a channel and who can read it. */
  describeChannel?(channel: ChannelRef): Promise<ChannelInfo>;
  /**
   * The platform's mention of a user or group id as threadql.yml lists it (Slack `<@U…>` / `<!subteam^S…>`,
   * Discord `<@id>` / `<@&role>`); the thread tells the adapter which workspace the id belongs to.
   */
  mention?(id: string, thread: ThreadRef): string;
  /** A link that opens the thread (Slack permalink, Discord channel URL); undefined where there is none. */
  threadLink?(thread: ThreadRef): Promise<string | undefined>;
  /**
   * Switches who the local user is acting as (the shell's `as <name>`, to try a four-eyes flow in one terminal);
   * returns the new identity. Only single-user adapters have it.
   */
  actAs?(name: string): UserRef;
}
