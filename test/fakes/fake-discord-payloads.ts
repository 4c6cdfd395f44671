/**
 * Discord wire objects (API v10 JSON) as the fake gateway and REST API send them. Only the fields the real
 * discord.js client reads are filled, with Discord's own shapes and names.
 */
const DISCORD_EPOCH = 1420070400000n;
let increment = 0n;

/** A snowflake whose timestamp is now, as Discord's are (discord.js derives createdTimestamp from it). */
export function snowflake(): string {
  increment = (increment + 1n) & 0xfffn;
  return (((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | (1n << 17n) | increment).toString();
}

export interface FakeUser {
  id: string;
  username: string;
  global_name: string | null;
  discriminator: string;
  avatar: null;
  bot?: boolean;
}

/** A user object. */
export function userObject(id: string, username: string, bot = false): FakeUser {
  return {
    id,
    username,
    global_name: username,
    discriminator: '0',
    avatar: null,
    ...(bot ? { bot: true } : {}),
  };
}

/** A guild member object (without `user` where Discord nests it elsewhere). */
export function memberObject(roles: string[] = [], user?: FakeUser): Record<string, unknown> {
  return {
    ...(user ? { user } : {}),
    roles,
    nick: null,
    avatar: null,
    joined_at: '2026-01-01T00:00:00.000Z',
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    communication_disabled_until: null,
  };
}

export interface FakeChannel {
  id: string;
  type: number;
  name?: string;
  guild_id?: string;
  parent_id?: string | null;
  owner_id?: string;
  recipients?: FakeUser[];
  [key: string]: unknown;
}

/** A permission overwrite on a channel: `type` 0 for a role (the guild id is @everyone), 1 for a member. */
export interface PermissionOverwrite {
  id: string;
  type: 0 | 1;
  allow: string;
  deny: string;
}

/** A guild text channel (type 0). */
export function textChannelObject(
  id: string,
  guildId: string,
  name: string,
  position = 0,
  overwrites: PermissionOverwrite[] = [],
): FakeChannel {
  return {
    id,
    type: 0,
    guild_id: guildId,
    name,
    position,
    parent_id: null,
    permission_overwrites: overwrites,
    nsfw: false,
    topic: null,
    last_message_id: null,
    rate_limit_per_user: 0,
    default_auto_archive_duration: 1440,
  };
}

/** A public thread (type 11) under `parentId`. */
export function threadObject(
  id: string,
  guildId: string,
  parentId: string,
  ownerId: string,
  name: string,
): FakeChannel {
  return {
    id,
    type: 11,
    guild_id: guildId,
    parent_id: parentId,
    owner_id: ownerId,
    name,
    last_message_id: null,
    rate_limit_per_user: 0,
    message_count: 0,
    member_count: 1,
    total_message_sent: 0,
    flags: 0,
    thread_metadata: {
      archived: false,
      auto_archive_duration: 1440,
      archive_timestamp: new Date().toISOString(),
      locked: false,
      create_timestamp: new Date().toISOString(),
    },
  };
}

/** A DM channel (type 1) with one recipient. */
export function dmChannelObject(id: string, recipient: FakeUser): FakeChannel {
  return { id, type: 1, recipients: [recipient], last_message_id: null, flags: 0 };
}

/**
 * A new server's @everyone permissions (view, send, embed, attach, history, reactions, threads, commands), as
 * Discord grants them by default; no Administrator, so channel overwrites take effect as on Discord.
 */
export const EVERYONE_PERMISSIONS = '311385246784';
/** The bot role: the invite link's permissions in SETUP.md with View Channel (309237763072). */
export const BOT_PERMISSIONS = '309237763072';

/** The @everyone role (id = guild id), the bot's managed role, a plain role members may hold (`analysts`) and `extra` plain roles (no permissions). */
export function guildRoles(
  guildId: string,
  botRoleId: string,
  botUserId: string,
  memberRoleId: string,
  extra: { id: string; name: string }[] = [],
): Record<string, unknown>[] {
  const role = (
    id: string,
    name: string,
    position: number,
    permissions: string,
    tags?: Record<string, unknown>,
  ) => ({
    id,
    name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position,
    permissions,
    managed: Boolean(tags),
    mentionable: false,
    flags: 0,
    ...(tags ? { tags } : {}),
  });
  return [
    role(guildId, '@everyone', 0, EVERYONE_PERMISSIONS),
    role(botRoleId, 'threadql', 1, BOT_PERMISSIONS, { bot_id: botUserId }),
    role(memberRoleId, 'analysts', 2, EVERYONE_PERMISSIONS),
    ...extra.map((r, i) => role(r.id, r.name, 2 + i, '0')),
  ];
}

export interface MessageFields {
  id: string;
  channel_id: string;
  guild_id?: string;
  author: FakeUser;
  content: string;
  embeds?: unknown[];
  components?: unknown[];
  attachments?: unknown[];
  mentions?: FakeUser[];
  mention_roles?: string[];
  flags?: number;
  webhook_id?: string;
  application_id?: string;
  member?: Record<string, unknown>;
  type?: number;
}

/** A message object; `guild_id` and `member` only as gateway dispatches carry them. */
export function messageObject(fields: MessageFields): Record<string, unknown> {
  return {
    type: 0,
    tts: false,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    components: [],
    pinned: false,
    flags: 0,
    ...fields,
  };
}
