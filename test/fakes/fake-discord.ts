/**
 * A loopback fake of Discord for the real discord.js client: the REST API (what `rest.api` points at; the
 * client appends `/v10`) and the gateway (its URL comes from GET /gateway/bot), on one 127.0.0.1 port.
 * It keeps guilds, channels, threads, messages and interactions in memory, answers with Discord's JSON
 * shapes and error codes, and records every REST call (JSON and multipart bodies, files, whether an
 * Authorization header came) and every gateway payload for assertions.
 *
 * Wire facts it relies on (discord.js 14.28): READY must carry `application`; every guild in READY needs its
 * GUILD_CREATE (with channels) or messages in it are dropped; gateway MESSAGE_CREATE carries `channel_type`
 * (discord.js needs it to build an uncached DM channel); INTERACTION_CREATE carries `entitlements` and
 * `authorizing_integration_owners`; a 204 has no content type; paths arrive URL-encoded (`%40original`).
 * One bot session at a time: a second client with the same fake would take the socket over, as each
 * reconnect does.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { FakeDiscordGateway, type Dispatch } from './fake-discord-gateway.ts';
import { invalidMessageBody } from './fake-discord-limits.ts';
import {
  BOT_PERMISSIONS,
  EVERYONE_PERMISSIONS,
  dmChannelObject,
  guildRoles,
  memberObject,
  messageObject,
  snowflake,
  textChannelObject,
  threadObject,
  userObject,
  type FakeChannel,
  type FakeUser,
  type PermissionOverwrite,
} from './fake-discord-payloads.ts';

export { snowflake, userObject, type FakeUser } from './fake-discord-payloads.ts';

export interface RecordedFile {
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

/** One REST request as the client sent it. */
export interface RestCall {
  method: string;
  /** Path after `/v10`, e.g. `/channels/123/messages`. */
  path: string;
  query: Record<string, string>;
  /** True when an Authorization header came (interaction callbacks must not send one). */
  authorized: boolean;
  multipart: boolean;
  body: Json;
  files: RecordedFile[];
  status: number;
}

/** A scripted failure for the next matching request. */
export interface InjectedFailure {
  status: number;
  code?: number;
  message?: string;
  /** For 429: seconds until retry (header and body), and whether the limit is global. */
  retryAfter?: number;
  global?: boolean;
}

interface InteractionState {
  id: string;
  token: string;
  type: number;
  channelId: string;
  guildId?: string;
  user: FakeUser;
  /** The message a component or modal came from. */
  sourceMessageId?: string;
  answered: boolean;
  originalId?: string;
  callbacks: { type: number; data?: Json }[];
}

export interface FakeDiscordOptions {
  token?: string;
  /** The id of the guild's plain `analysts` role (default: a fresh snowflake). */
  memberRoleId?: string;
  heartbeatIntervalMs?: number;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** Decoded JSON as the client sent it or the fake stores it (tests index into it freely). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;
/** A stored Discord object (message, channel) as JSON. */
export type JsonRecord = Record<string, Json>;

export class FakeDiscord extends EventEmitter {
  readonly token: string;
  readonly applicationId = snowflake();
  readonly botUser: FakeUser;
  readonly botRoleId = snowflake();
  /** A plain role of the guild (`analysts`) a test member may hold. */
  readonly memberRoleId: string;
  /** A plain role of the guild (e.g. the approvers' role in approval tests). */
  readonly dbaRoleId = snowflake();
  readonly guildId = snowflake();
  /** The server owner (a person; not the bot). */
  readonly ownerId = snowflake();
  readonly channelId = snowflake();
  readonly calls: RestCall[] = [];
  readonly channels = new Map<string, FakeChannel>();
  readonly messages = new Map<string, JsonRecord>();
  readonly interactions = new Map<string, InteractionState>();
  readonly gateway: FakeDiscordGateway;
  readonly #server: Server;
  readonly #failures: { method: string; path: RegExp; failure: InjectedFailure }[] = [];
  #port = 0;

  private constructor(options: FakeDiscordOptions) {
    super();
    this.token = options.token ?? `fake.${randomBytes(12).toString('hex')}`;
    this.memberRoleId = options.memberRoleId ?? snowflake();
    this.botUser = userObject(snowflake(), 'threadql', true);
    this.channels.set(this.channelId, textChannelObject(this.channelId, this.guildId, 'growth'));
    this.gateway = new FakeDiscordGateway({
      token: this.token,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
      url: () => this.gatewayUrl,
      onIdentify: (sessionId, resumeUrl) => this.#readyDispatches(sessionId, resumeUrl),
    });
    this.gateway.on('change', () => this.emit('change'));
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.on('upgrade', (req, socket, head) => {
      if (new URL(req.url ?? '/', 'http://x').pathname === '/gateway')
        this.gateway.handleUpgrade(req, socket, head);
      else socket.destroy();
    });
  }

  /** Starts the fake on an ephemeral 127.0.0.1 port. */
  static async start(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const fake = new FakeDiscord(options);
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    fake.#port = (fake.#server.address() as AddressInfo).port;
    return fake;
  }

  /** The value for DISCORD_API_URL / `rest.api` (discord.js appends `/v10`). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.#port}/api`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.#port}/gateway`;
  }

  async close(): Promise<void> {
    await this.gateway.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  // ---- test actions -------------------------------------------------------------------------------

  /** A member of the fake guild. */
  user(username: string): FakeUser {
    return userObject(snowflake(), username);
  }

  /** A message from `author` arrives in `channelId` (a channel, thread or DM) over the gateway. */
  userMessage(input: {
    author: FakeUser;
    content: string;
    channelId?: string;
    mentionBot?: boolean;
    roles?: string[];
  }): JsonRecord {
    const channelId = input.channelId ?? this.channelId;
    const channel = this.channels.get(channelId);
    const guildId = channel?.guild_id;
    const content = input.mentionBot ? `<@${this.botUser.id}> ${input.content}` : input.content;
    const message = messageObject({
      id: snowflake(),
      channel_id: channelId,
      ...(guildId ? { guild_id: guildId, member: memberObject(input.roles ?? []) } : {}),
      author: input.author,
      content,
      mentions: input.mentionBot
        ? [{ ...this.botUser, member: memberObject([this.botRoleId]) } as unknown as FakeUser]
        : [],
    });
    this.messages.set(message.id as string, message);
    // Gateway MESSAGE_CREATE carries `channel_type`; discord.js needs it to build an uncached DM channel.
    this.gateway.dispatch('MESSAGE_CREATE', { ...message, channel_type: channel?.type ?? 0 });
    return message;
  }

  /**
   * Another text channel in the fake guild, with permission overwrites (e.g. deny @everyone View Channel for a
   * private channel, deny the bot role Send Messages), announced over the gateway as CHANNEL_CREATE.
   */
  addChannel(name: string, overwrites: PermissionOverwrite[] = []): string {
    const id = snowflake();
    const channel = textChannelObject(id, this.guildId, name, this.channels.size, overwrites);
    this.channels.set(id, channel);
    this.gateway.dispatch('CHANNEL_CREATE', channel);
    return id;
  }

  /** A thread someone else started in the default channel (not threadql's), announced over the gateway. */
  userThread(owner: FakeUser, name: string): string {
    const id = snowflake();
    const thread = threadObject(id, this.guildId, this.channelId, owner.id, name);
    this.channels.set(id, thread);
    this.gateway.dispatch('THREAD_CREATE', { ...thread, newly_created: true });
    return id;
  }

  /** A DM channel between the bot and `user`, known to the fake (not yet to the client). */
  dmChannel(user: FakeUser): string {
    const id = snowflake();
    this.channels.set(id, dmChannelObject(id, user));
    return id;
  }

  /** A user runs a slash command; returns the interaction id and token. */
  slashCommand(input: {
    name: string;
    options?: Record<string, string>;
    user: FakeUser;
    channelId?: string;
    roles?: string[];
  }): InteractionState {
    const data = {
      id: snowflake(),
      name: input.name,
      type: 1,
      options: Object.entries(input.options ?? {}).map(([name, value]) => ({ name, type: 3, value })),
    };
    return this.#interaction(2, data, input.user, input.channelId ?? this.channelId, input.roles);
  }

  /** A user clicks the button with `customId` on `messageId`. */
  clickButton(input: {
    messageId: string;
    customId: string;
    user: FakeUser;
    roles?: string[];
  }): InteractionState {
    const message = this.messages.get(input.messageId);
    if (!message) throw new Error(`fake: no message ${input.messageId}`);
    const data = { custom_id: input.customId, component_type: 2 };
    return this.#interaction(3, data, input.user, message.channel_id, input.roles, message);
  }

  /** A user submits the modal `customId` opened from a click on `messageId`. */
  submitModal(input: {
    customId: string;
    fields: Record<string, string>;
    user: FakeUser;
    messageId?: string;
    channelId?: string;
  }): InteractionState {
    const message = input.messageId ? this.messages.get(input.messageId) : undefined;
    const data = {
      custom_id: input.customId,
      components: Object.entries(input.fields).map(([customId, value], i) => ({
        type: 18,
        id: i + 1,
        component: { type: 4, id: i + 100, custom_id: customId, value },
      })),
    };
    const channelId = message?.channel_id ?? input.channelId ?? this.channelId;
    return this.#interaction(5, data, input.user, channelId, [], message);
  }

  /** The next request matching `method` and `path` fails as scripted. */
  failNext(method: string, path: RegExp, failure: InjectedFailure): void {
    this.#failures.push({ method, path, failure });
  }

  /** REST calls matching `method` and `path`. */
  callsTo(method: string, path: RegExp): RestCall[] {
    return this.calls.filter((c) => c.method === method && path.test(c.path));
  }

  /** Resolves when `check` returns a value (re-checked on every call and gateway payload). */
  waitFor<T>(check: () => T | undefined | false | null, label: string, timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const tryNow = (): boolean => {
        const value = check();
        if (value === undefined || value === false || value === null) return false;
        cleanup();
        resolve(value);
        return true;
      };
      const onChange = () => void tryNow();
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fake discord: timed out waiting for ${label}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('change', onChange);
      };
      this.on('change', onChange);
      tryNow();
    });
  }

  // ---- gateway ------------------------------------------------------------------------------------

  #readyDispatches(sessionId: string, resumeUrl: string): Dispatch[] {
    const ready = {
      v: 10,
      user: { ...this.botUser, verified: true, mfa_enabled: false, flags: 0 },
      guilds: [{ id: this.guildId, unavailable: true }],
      session_id: sessionId,
      resume_gateway_url: resumeUrl,
      shard: [0, 1],
      application: { id: this.applicationId, flags: 0 },
      private_channels: [],
      relationships: [],
      presences: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: [],
      user_settings: {},
    };
    const channels = [...this.channels.values()].filter((c) => c.guild_id === this.guildId && c.type !== 11);
    const threads = [...this.channels.values()].filter((c) => c.guild_id === this.guildId && c.type === 11);
    const guild = {
      id: this.guildId,
      name: 'threadql test server',
      icon: null,
      // A person owns the server, not the bot: an owner holds every permission, whatever the overwrites say.
      owner_id: this.ownerId,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      nsfw_level: 0,
      premium_tier: 0,
      preferred_locale: 'en-US',
      features: [],
      roles: guildRoles(this.guildId, this.botRoleId, this.botUser.id, this.memberRoleId, [
        { id: this.dbaRoleId, name: 'dba' },
      ]),
      emojis: [],
      stickers: [],
      channels,
      threads,
      members: [memberObject([this.botRoleId], this.botUser)],
      member_count: 2,
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
      large: false,
      unavailable: false,
      joined_at: '2026-01-01T00:00:00.000Z',
      system_channel_flags: 0,
    };
    return [
      { t: 'READY', d: ready },
      { t: 'GUILD_CREATE', d: guild },
    ];
  }

  #interaction(
    type: number,
    data: unknown,
    user: FakeUser,
    channelId: string,
    roles: string[] = [],
    message?: Record<string, unknown>,
  ): InteractionState {
    const channel = this.channels.get(channelId);
    if (!channel) throw new Error(`fake: no channel ${channelId}`);
    const guildId = channel.guild_id;
    const state: InteractionState = {
      id: snowflake(),
      token: `itoken.${randomBytes(16).toString('hex')}`,
      type,
      channelId,
      ...(guildId ? { guildId } : {}),
      user,
      ...(message ? { sourceMessageId: message.id as string } : {}),
      answered: false,
      callbacks: [],
    };
    this.interactions.set(state.id, state);
    const { recipients: _recipients, ...channelFields } = channel;
    void _recipients;
    this.gateway.dispatch('INTERACTION_CREATE', {
      id: state.id,
      application_id: this.applicationId,
      type,
      data,
      token: state.token,
      version: 1,
      channel_id: channelId,
      channel: { ...channelFields, permissions: '2248473465835073' },
      ...(guildId
        ? {
            guild_id: guildId,
            guild: { id: guildId, locale: 'en-US', features: [] },
            member: { ...memberObject(roles, user), permissions: '2248473465835073' },
          }
        : { user }),
      ...(message ? { message } : {}),
      app_permissions: '2248473465835073',
      locale: 'en-US',
      ...(guildId ? { guild_locale: 'en-US' } : {}),
      entitlements: [],
      authorizing_integration_owners: guildId ? { '0': guildId } : { '1': user.id },
      context: guildId ? 0 : 1,
      attachment_size_limit: 10 * 1024 * 1024,
    });
    return state;
  }

  // ---- REST ---------------------------------------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = decodeURIComponent(url.pathname).replace(/^.*?\/v10(?=\/)/, '');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const contentType = String(req.headers['content-type'] ?? '');
    const call: RestCall = {
      method: req.method ?? 'GET',
      path,
      query: Object.fromEntries(url.searchParams),
      authorized: typeof req.headers.authorization === 'string',
      multipart: contentType.startsWith('multipart/form-data'),
      body: undefined,
      files: [],
      status: 0,
    };
    try {
      await this.#decode(call, contentType, raw);
      const [status, body, headers] = this.#route(call, req.headers.authorization);
      call.status = status;
      this.calls.push(call);
      // A 204 has no body and no content type, as on Discord (the client would try to parse JSON otherwise).
      res.writeHead(status, status === 204 ? headers : { ...JSON_HEADERS, ...headers });
      res.end(status === 204 ? undefined : JSON.stringify(body));
    } catch (error) {
      call.status = 500;
      this.calls.push(call);
      res.writeHead(500, JSON_HEADERS);
      res.end(JSON.stringify({ message: `fake: ${(error as Error).message}`, code: 0 }));
    }
    this.emit('change');
  }

  async #decode(call: RestCall, contentType: string, raw: Buffer): Promise<void> {
    if (!raw.length) return;
    if (call.multipart) {
      const form = await new Request('http://x', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: raw,
      }).formData();
      for (const [field, value] of form) {
        if (field === 'payload_json') call.body = JSON.parse(String(value));
        else if (typeof value !== 'string') {
          call.files.push({
            field,
            filename: value.name,
            contentType: value.type,
            data: Buffer.from(await value.arrayBuffer()),
          });
        }
      }
      return;
    }
    call.body = JSON.parse(raw.toString('utf8'));
  }

  #route(call: RestCall, authorization: string | undefined): [number, unknown, Record<string, string>?] {
    const failure = this.#takeFailure(call);
    if (failure) return failure;
    const p = call.path;
    const m = call.method;
    const tokenless = /^\/(interactions|webhooks)\//.test(p);
    if (!tokenless && authorization !== `Bot ${this.token}`)
      return [401, { message: '401: Unauthorized', code: 0 }];
    let match: RegExpMatchArray | null;
    if (m === 'GET' && p === '/gateway/bot') {
      return [
        200,
        {
          url: this.gatewayUrl,
          shards: 1,
          session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
        },
      ];
    }
    if (m === 'PUT' && (match = p.match(/^\/applications\/(\d+)\/(?:guilds\/(\d+)\/)?commands$/))) {
      if (match[1] !== this.applicationId) return [404, { message: 'Unknown Application', code: 10002 }];
      const commands = (call.body as Record<string, unknown>[]).map((c) => ({
        id: snowflake(),
        application_id: this.applicationId,
        version: snowflake(),
        default_member_permissions: null,
        ...(match![2] ? { guild_id: match![2] } : {}),
        ...c,
      }));
      return [200, commands];
    }
    if (m === 'GET' && (match = p.match(/^\/channels\/(\d+)$/))) {
      const channel = this.channels.get(match[1]!);
      if (!channel) return [404, { message: 'Unknown Channel', code: 10003 }];
      const hidden = this.#refusedForBot(match[1]!);
      return hidden && (hidden[1] as { code: number }).code === 50001 ? hidden : [200, channel];
    }
    if (m === 'POST' && p === '/users/@me/channels') {
      const recipient = call.body.recipient_id as string;
      const existing = [...this.channels.values()].find(
        (c) => c.type === 1 && c.recipients?.[0]?.id === recipient,
      );
      if (existing) return [200, existing];
      const id = snowflake();
      const channel = dmChannelObject(id, userObject(recipient, `user-${recipient.slice(-4)}`));
      this.channels.set(id, channel);
      return [200, channel];
    }
    if ((match = p.match(/^\/channels\/(\d+)\/messages$/)) && m === 'POST') {
      const refused = this.#refusedForBot(match[1]!);
      if (refused) return refused;
      return this.#createMessage(match[1]!, call, this.botUser);
    }
    if ((match = p.match(/^\/channels\/(\d+)\/messages\/(\d+)$/)) && m === 'PATCH')
      return this.#editMessage(match[1]!, match[2]!, call);
    if ((match = p.match(/^\/channels\/(\d+)\/messages\/(\d+)\/threads$/)) && m === 'POST') {
      return this.#startThread(match[1]!, call.body as Record<string, unknown>, match[2]!);
    }
    if ((match = p.match(/^\/channels\/(\d+)\/threads$/)) && m === 'POST')
      return this.#startThread(match[1]!, call.body as Record<string, unknown>);
    if ((match = p.match(/^\/interactions\/(\d+)\/([^/]+)\/callback$/)) && m === 'POST')
      return this.#callback(match[1]!, match[2]!, call);
    if ((match = p.match(/^\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/([^/]+))?$/)))
      return this.#webhook(match[2]!, match[3], call);
    return [404, { message: '404: Not Found', code: 0 }];
  }

  /**
   * Discord's answer when the bot may not post in a guild channel: its roles' permissions with the channel's
   * overwrites applied (@everyone's first, then its role's), 50001 without View Channel, 50013 without Send Messages.
   */
  #refusedForBot(channelId: string): [number, unknown] | undefined {
    const channel = this.channels.get(channelId);
    const overwrites = (channel?.permission_overwrites ?? []) as PermissionOverwrite[];
    if (!channel?.guild_id || channel.type !== 0 || overwrites.length === 0) return undefined;
    let bits = BigInt(EVERYONE_PERMISSIONS) | BigInt(BOT_PERMISSIONS);
    for (const id of [this.guildId, this.botRoleId]) {
      const o = overwrites.find((w) => w.id === id);
      if (o) bits = (bits & ~BigInt(o.deny)) | BigInt(o.allow);
    }
    if (!(bits & (1n << 10n))) return [403, { message: 'Missing Access', code: 50001 }];
    if (!(bits & (1n << 11n))) return [403, { message: 'Missing Permissions', code: 50013 }];
    return undefined;
  }

  #takeFailure(call: RestCall): [number, unknown, Record<string, string>] | undefined {
    const index = this.#failures.findIndex((f) => f.method === call.method && f.path.test(call.path));
    if (index < 0) return undefined;
    const { failure } = this.#failures.splice(index, 1)[0]!;
    if (failure.status === 429) {
      const retryAfter = failure.retryAfter ?? 0.05;
      return [
        429,
        { message: 'You are being rate limited.', retry_after: retryAfter, global: Boolean(failure.global) },
        {
          'retry-after': String(retryAfter),
          'x-ratelimit-scope': failure.global ? 'global' : 'user',
          ...(failure.global ? { 'x-ratelimit-global': 'true' } : {}),
        },
      ];
    }
    return [failure.status, { message: failure.message ?? 'Error', code: failure.code ?? 0 }, {}];
  }

  #attachments(channelId: string, call: RestCall): unknown[] {
    const wanted = (call.body?.attachments ?? []) as {
      id: string | number;
      filename?: string;
      description?: string;
    }[];
    return wanted.map((a) => {
      const file = call.files.find((f) => f.field === `files[${a.id}]`);
      const id = snowflake();
      const filename = a.filename ?? file?.filename ?? 'file';
      return {
        id,
        filename,
        size: file?.data.length ?? 0,
        url: `${this.apiUrl}/attachments/${channelId}/${id}/${filename}`,
        proxy_url: `${this.apiUrl}/attachments/${channelId}/${id}/${filename}`,
        content_type: file?.contentType,
        ...(a.description ? { description: a.description } : {}),
      };
    });
  }

  #createMessage(
    channelId: string,
    call: RestCall,
    author: FakeUser,
    extra: Record<string, unknown> = {},
  ): [number, unknown] {
    const channel = this.channels.get(channelId);
    if (!channel) return [404, { message: 'Unknown Channel', code: 10003 }];
    const body = (call.body ?? {}) as Record<string, unknown>;
    const content = String(body.content ?? '');
    const embeds = (body.embeds ?? []) as unknown[];
    const components = (body.components ?? []) as unknown[];
    const attachments = this.#attachments(channelId, call);
    const invalid = invalidMessageBody(body, attachments.length);
    if (invalid) return invalid;
    // A deferred interaction reply (flag 128, "thinking…") is the one message allowed to be empty.
    if (
      !content &&
      !embeds.length &&
      !attachments.length &&
      !components.length &&
      !(Number(body.flags) & 128)
    ) {
      return [400, { message: 'Cannot send an empty message', code: 50006 }];
    }
    const message = messageObject({
      id: snowflake(),
      channel_id: channelId,
      author,
      content,
      embeds,
      components,
      attachments,
      flags: Number(body.flags ?? 0),
      ...extra,
    });
    this.messages.set(message.id as string, message);
    if (!(Number(message.flags) & 64)) {
      this.gateway.dispatch('MESSAGE_CREATE', {
        ...message,
        channel_type: channel.type,
        ...(channel.guild_id ? { guild_id: channel.guild_id, member: memberObject([this.botRoleId]) } : {}),
      });
    }
    return [200, message];
  }

  #editMessage(channelId: string, messageId: string, call: RestCall): [number, unknown] {
    const message = this.messages.get(messageId);
    if (!message || message.channel_id !== channelId)
      return [404, { message: 'Unknown Message', code: 10008 }];
    const body = (call.body ?? {}) as Record<string, unknown>;
    const invalid = invalidMessageBody(body, Array.isArray(body.attachments) ? body.attachments.length : 0);
    if (invalid) return invalid;
    for (const key of ['content', 'embeds', 'components'] as const) if (key in body) message[key] = body[key];
    if ('attachments' in body) message.attachments = this.#attachments(channelId, call);
    message.edited_timestamp = new Date().toISOString();
    if (message.flags & 128) message.flags &= ~128; // a deferred reply stops "thinking" once edited
    return [200, message];
  }

  #startThread(parentId: string, body: Record<string, unknown>, messageId?: string): [number, unknown] {
    const parent = this.channels.get(parentId);
    if (!parent || parent.type !== 0)
      return [400, { message: 'Cannot execute action on this channel type', code: 50024 }];
    if (messageId) {
      const message = this.messages.get(messageId);
      if (!message || message.channel_id !== parentId)
        return [404, { message: 'Unknown Message', code: 10008 }];
      if (message.thread)
        return [400, { message: 'A thread has already been created for this message', code: 160004 }];
    }
    // A thread started on a message shares the message's id, as on Discord.
    const id = messageId ?? snowflake();
    const thread = threadObject(
      id,
      parent.guild_id!,
      parentId,
      this.botUser.id,
      String(body.name ?? 'thread'),
    );
    this.channels.set(id, thread);
    if (messageId) {
      const message = this.messages.get(messageId)!;
      message.thread = thread;
      message.flags = Number(message.flags ?? 0) | 32;
    }
    this.gateway.dispatch('THREAD_CREATE', { ...thread, newly_created: true });
    return [201, thread];
  }

  #callback(interactionId: string, token: string, call: RestCall): [number, unknown] {
    const state = this.interactions.get(interactionId);
    if (!state || state.token !== token) return [404, { message: 'Unknown interaction', code: 10062 }];
    if (state.answered) return [400, { message: 'Interaction has already been acknowledged.', code: 40060 }];
    const { type, data } = call.body as { type: number; data?: Record<string, unknown> };
    state.answered = true;
    state.callbacks.push({ type, data });
    let message: unknown;
    if (type === 4 || type === 5) {
      const extra = {
        webhook_id: this.applicationId,
        application_id: this.applicationId,
      };
      const flags = Number(data?.flags ?? 0) | (type === 5 ? 128 : 0);
      const [status, created] = this.#createMessage(
        state.channelId,
        { ...call, body: { ...data, flags } },
        this.botUser,
        extra,
      );
      if (status !== 200) return [status, created];
      const record = created as Record<string, unknown>;
      state.originalId = record.id as string;
      message = record;
    } else if (type === 7 && state.sourceMessageId) {
      const [, edited] = this.#editMessage(state.channelId, state.sourceMessageId, { ...call, body: data });
      message = edited;
    }
    if (call.query.with_response === 'true') {
      return [
        200,
        {
          interaction: { id: state.id, type: state.type },
          resource: { type, ...(message ? { message } : {}) },
        },
      ];
    }
    return [204, undefined];
  }

  #webhook(token: string, messageRef: string | undefined, call: RestCall): [number, unknown] {
    const state = [...this.interactions.values()].find((i) => i.token === token);
    if (!state) return [404, { message: 'Unknown Webhook', code: 10015 }];
    if (!state.answered) return [400, { message: 'Interaction has not been acknowledged', code: 40060 }];
    const messageId = messageRef === '@original' ? state.originalId : messageRef;
    if (call.method === 'POST' && !messageRef) {
      return this.#createMessage(state.channelId, call, this.botUser, {
        webhook_id: this.applicationId,
        application_id: this.applicationId,
      });
    }
    if (!messageId) return [404, { message: 'Unknown Message', code: 10008 }];
    if (call.method === 'PATCH') return this.#editMessage(state.channelId, messageId, call);
    if (call.method === 'GET') {
      const message = this.messages.get(messageId);
      return message ? [200, message] : [404, { message: 'Unknown Message', code: 10008 }];
    }
    return [405, { message: '405: Method Not Allowed', code: 0 }];
  }
}
