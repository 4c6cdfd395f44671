/**
 * A loopback fake of the Slack Web API, the external file-upload URL and the Socket Mode WebSocket, so the real
 * Bolt app and WebClient run unchanged against it. Every Web API call is recorded with its decoded arguments
 * (form-encoded, with `blocks` / `files` parsed back from the JSON strings the client sends).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export const FAKE_TEAM_ID = 'T0FAKE';
export const FAKE_BOT_USER_ID = 'U0BOT';
export const FAKE_BOT_ID = 'B0BOT';

/** One recorded Web API call. */
export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  token: string | undefined;
  /** What the fake answered (e.g. the `ts` of a posted message). */
  result?: Record<string, unknown>;
}

/** One recorded upload to an external upload URL. */
export interface RecordedUpload {
  fileId: string;
  filename: string;
  data: Buffer;
}

/** A workspace member as users.info returns it (the fields threadql reads). */
export interface FakeSlackUser {
  name?: string;
  real_name?: string;
  display_name?: string;
  deleted?: boolean;
}

/**
 * A conversation as conversations.info returns it (the fields threadql reads). Channels the fake was not told about
 * answer `channel_not_found` there, as a private channel the bot is not in does on Slack; chat.postMessage into a
 * known channel with `is_member: false` answers `not_in_channel`.
 */
export interface FakeSlackChannel {
  name: string;
  is_member?: boolean;
  is_private?: boolean;
  is_ext_shared?: boolean;
  is_archived?: boolean;
}

/** A scripted failure for the next call of one method. */
export interface InjectedError {
  error: string;
  /** When set, answer HTTP 429 with this Retry-After (seconds), as Slack does for `ratelimited`. */
  retryAfter?: number;
}

/** Fields of a JSON-ish form value that the real WebClient serialises as JSON strings. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'files', 'view', 'prompts', 'metadata']);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function decodeArgs(contentType: string, raw: Buffer): Record<string, unknown> {
  if (contentType.startsWith('application/json')) return JSON.parse(raw.toString('utf8') || '{}');
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) {
    args[key] = JSON_FIELDS.has(key) ? JSON.parse(value) : value;
  }
  return args;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

/** The loopback Slack: Web API under `/api/`, uploads under `/upload/`, Socket Mode under `/socket`. */
export class FakeSlackApi {
  readonly calls: RecordedCall[] = [];
  readonly uploads: RecordedUpload[] = [];
  /** Envelope ids the Socket Mode client acknowledged, in order, with any response payload. */
  readonly socketAcks: { envelopeId: string; payload?: unknown }[] = [];
  /** Bodies posted to a slash command's response_url (`respond()`). */
  readonly responses: { id: string; body: Record<string, unknown> }[] = [];
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();
  private readonly errors = new Map<string, InjectedError[]>();
  private readonly delays = new Map<string, number[]>();
  private readonly ackWaiters = new Map<string, (payload: unknown) => void>();
  private readonly pendingUploads = new Map<string, string>();
  /** The workspace's members known to users.info; any other id answers `user_not_found`, as Slack does. */
  private readonly users = new Map<string, FakeSlackUser>();
  /** User groups (S…) and their member ids, for usergroups.users.list. */
  private readonly userGroups = new Map<string, string[]>();
  /** Channels known to conversations.info. */
  private readonly channels = new Map<string, FakeSlackChannel>();
  private tsCounter = 0;
  private fileCounter = 0;
  private port = 0;

  constructor() {
    this.server = createServer((req, res) => {
      this.route(req, res).catch((error: unknown) => send(res, 500, { ok: false, error: String(error) }));
    });
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/socket')) return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
    });
  }

  /** Listens on 127.0.0.1 on a free port. Start it before constructing the Bolt App (auth.test fires at once). */
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The value for `clientOptions.slackApiUrl` (the trailing slash matters: the client appends the method). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  /** Scripts the next call(s) of `method` to fail; each queued error is used once. */
  failNext(method: string, error: InjectedError): void {
    const queue = this.errors.get(method) ?? [];
    queue.push(error);
    this.errors.set(method, queue);
  }

  /** Adds (or replaces) a member users.info knows. */
  setUser(id: string, user: FakeSlackUser): void {
    this.users.set(id, user);
  }

  /** Adds (or replaces) a channel conversations.info knows. */
  setChannel(id: string, channel: FakeSlackChannel): void {
    this.channels.set(id, channel);
  }

  /** The DM channel id conversations.open gives for a user (stable, as Slack returns the same IM each time). */
  dmChannelOf(user: string): string {
    return `D${user.replace(/^U/, '')}`;
  }

  /** Defines a user group and its members for usergroups.users.list. */
  setUserGroup(id: string, members: string[]): void {
    this.userGroups.set(id, [...members]);
  }

  /** Holds the next answer to `method` back for `ms` milliseconds (a slow Slack). */
  delayNext(method: string, ms: number): void {
    const queue = this.delays.get(method) ?? [];
    queue.push(ms);
    this.delays.set(method, queue);
  }

  /** Recorded calls of one method. */
  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** A response_url for a slash command payload, answered and recorded by this fake. */
  responseUrl(id: string = randomUUID()): string {
    return `http://127.0.0.1:${this.port}/response/${id}`;
  }

  /** Forgets recorded calls and uploads (between tests sharing one fake). */
  reset(): void {
    this.calls.length = 0;
    this.responses.length = 0;
    this.uploads.length = 0;
    this.socketAcks.length = 0;
    this.errors.clear();
    this.delays.clear();
  }

  /** Waits until `method` has been called `count` times in total (polling the record; for async adapter work). */
  async waitForCalls(method: string, count = 1, timeoutMs = 5000): Promise<RecordedCall[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.callsOf(method).length < count) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${count} ${method} call(s); saw ${this.callsOf(method).length}`,
        );
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.callsOf(method);
  }

  private nextTs(): string {
    this.tsCounter += 1;
    return `1700000000.${String(this.tsCounter).padStart(6, '0')}`;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const raw = await readBody(req);
    if (url.pathname.startsWith('/upload/'))
      return this.receiveUpload(url.pathname.slice('/upload/'.length), req, raw, res);
    if (url.pathname.startsWith('/response/')) {
      this.responses.push({
        id: url.pathname.slice('/response/'.length),
        body: JSON.parse(raw.toString('utf8') || '{}'),
      });
      return send(res, 200, { ok: true });
    }
    if (!url.pathname.startsWith('/api/')) return send(res, 404, { ok: false, error: 'unknown_path' });
    const method = url.pathname.slice('/api/'.length);
    const args = decodeArgs(req.headers['content-type'] ?? '', raw);
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ')
      ? auth.slice('Bearer '.length)
      : (args.token as string | undefined);
    const call: RecordedCall = { method, args, token };
    this.calls.push(call);
    const delay = this.delays.get(method)?.shift();
    if (delay) await new Promise((r) => setTimeout(r, delay));

    const injected = this.errors.get(method)?.shift();
    if (injected) {
      if (injected.retryAfter !== undefined) {
        return send(
          res,
          429,
          { ok: false, error: injected.error },
          { 'retry-after': String(injected.retryAfter) },
        );
      }
      return send(res, 200, { ok: false, error: injected.error });
    }
    call.result = this.answer(method, args);
    send(res, 200, call.result);
  }

  private answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://fake.slack.test/',
          team: 'Fake',
          user: 'threadql',
          team_id: FAKE_TEAM_ID,
          user_id: FAKE_BOT_USER_ID,
          bot_id: FAKE_BOT_ID,
        };
      case 'chat.postMessage': {
        const known = this.channels.get(String(args.channel));
        if (known?.is_archived) return { ok: false, error: 'is_archived' };
        if (known && known.is_member === false) return { ok: false, error: 'not_in_channel' };
        const ts = this.nextTs();
        return {
          ok: true,
          channel: args.channel,
          ts,
          message: { type: 'message', text: args.text, ts, bot_id: FAKE_BOT_ID },
        };
      }
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts, text: args.text };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: this.nextTs() };
      case 'chat.getPermalink': {
        // Slack's permalink shape: the channel and the ts without its dot, on the workspace's domain.
        const ts = String(args.message_ts ?? '');
        if (!args.channel || !ts) return { ok: false, error: 'invalid_arguments' };
        return {
          ok: true,
          channel: args.channel,
          permalink: `https://fake.slack.test/archives/${String(args.channel)}/p${ts.replace('.', '')}`,
        };
      }
      case 'views.open':
        return { ok: true, view: { id: `V${randomUUID().slice(0, 8).toUpperCase()}` } };
      case 'files.getUploadURLExternal': {
        this.fileCounter += 1;
        const fileId = `F${String(this.fileCounter).padStart(6, '0')}`;
        this.pendingUploads.set(fileId, String(args.filename));
        return { ok: true, file_id: fileId, upload_url: `http://127.0.0.1:${this.port}/upload/${fileId}` };
      }
      case 'files.completeUploadExternal': {
        const files = (args.files as { id: string; title?: string }[]) ?? [];
        const missing = files.find((f) => !this.uploads.some((u) => u.fileId === f.id));
        if (missing) return { ok: false, error: 'file_not_found' };
        return { ok: true, files: files.map((f) => ({ id: f.id, title: f.title })) };
      }
      case 'apps.connections.open':
        return { ok: true, url: `ws://127.0.0.1:${this.port}/socket` };
      case 'users.info': {
        const user = this.users.get(String(args.user));
        if (!user) return { ok: false, error: 'user_not_found' };
        const name = user.name ?? String(args.user).toLowerCase();
        return {
          ok: true,
          user: {
            id: args.user,
            team_id: FAKE_TEAM_ID,
            name,
            deleted: user.deleted ?? false,
            real_name: user.real_name ?? '',
            profile: { display_name: user.display_name ?? '', real_name: user.real_name ?? '' },
          },
        };
      }
      case 'usergroups.users.list': {
        const members = this.userGroups.get(String(args.usergroup));
        if (!members) return { ok: false, error: 'no_such_subteam' };
        return { ok: true, users: members };
      }
      case 'conversations.open': {
        // The bot's DM with one user: a stable D… id per user, as Slack returns the same IM each time.
        const users = String(args.users ?? '');
        if (!users || users.includes(',')) return { ok: false, error: 'not_enough_users' };
        return { ok: true, channel: { id: `D${users.replace(/^U/, '')}`, is_im: true, user: users } };
      }
      case 'conversations.info': {
        const id = String(args.channel);
        if (id.startsWith('D')) {
          return {
            ok: true,
            channel: { id, is_im: true, is_member: true, is_private: true, user: `U${id.slice(1)}` },
          };
        }
        const channel = this.channels.get(id);
        if (!channel) return { ok: false, error: 'channel_not_found' };
        return {
          ok: true,
          channel: {
            id,
            name: channel.name,
            is_channel: !channel.is_private,
            is_group: Boolean(channel.is_private),
            is_im: false,
            is_mpim: false,
            is_private: Boolean(channel.is_private),
            is_archived: Boolean(channel.is_archived),
            is_member: channel.is_member ?? true,
            is_shared: Boolean(channel.is_ext_shared),
            is_ext_shared: Boolean(channel.is_ext_shared),
            is_org_shared: false,
            is_pending_ext_shared: false,
          },
        };
      }
      case 'conversations.replies':
        return { ok: true, messages: [], has_more: false };
      case 'assistant.threads.setStatus':
      case 'assistant.threads.setSuggestedPrompts':
      case 'assistant.threads.setTitle':
        return { ok: true };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  /** The external upload URL: a multipart POST whose field `body` carries the bytes, as the real client sends it. */
  private async receiveUpload(
    fileId: string,
    req: IncomingMessage,
    raw: Buffer,
    res: ServerResponse,
  ): Promise<void> {
    const filename = this.pendingUploads.get(fileId);
    if (!filename) return send(res, 404, { ok: false, error: 'unknown_upload' });
    const form = await new Request('http://127.0.0.1/', {
      method: 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? '' },
      body: new Uint8Array(raw),
    }).formData();
    const part = form.get('body');
    if (!(part instanceof Blob)) return send(res, 400, { ok: false, error: 'no_body_field' });
    this.uploads.push({ fileId, filename, data: Buffer.from(await part.arrayBuffer()) });
    this.pendingUploads.delete(fileId);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`OK - ${raw.length}`);
  }

  // ---- Socket Mode ----

  private onSocket(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { envelope_id: string; payload?: unknown };
      this.socketAcks.push({ envelopeId: msg.envelope_id, payload: msg.payload });
      this.ackWaiters.get(msg.envelope_id)?.(msg.payload);
      this.ackWaiters.delete(msg.envelope_id);
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: 1,
        debug_info: { host: 'fake', approximate_connection_time: 3600 },
        connection_info: { app_id: 'A0FAKE' },
      }),
    );
  }

  /** True once a Socket Mode client is connected (and has been sent hello). */
  get socketConnected(): boolean {
    return this.sockets.size > 0;
  }

  /**
   * Sends one Socket Mode envelope (`events_api`, `interactive`, `slash_commands`) to every connected client and
   * resolves with the ack's response payload once the client acknowledges it.
   */
  sendEnvelope(
    type: 'events_api' | 'interactive' | 'slash_commands',
    payload: unknown,
    retryAttempt = 0,
  ): Promise<unknown> {
    const envelopeId = randomUUID();
    const acked = new Promise<unknown>((resolve) => this.ackWaiters.set(envelopeId, resolve));
    const envelope = {
      envelope_id: envelopeId,
      type,
      accepts_response_payload: type !== 'events_api',
      payload,
      retry_attempt: retryAttempt,
      retry_reason: retryAttempt > 0 ? 'timeout' : '',
    };
    for (const ws of this.sockets) ws.send(JSON.stringify(envelope));
    return acked;
  }
}

// ---- Events API / interactivity over HTTP, signed as Slack signs them ----

/** Options for one signed request to the Bolt HTTP receiver. */
export interface SignedRequestOptions {
  signingSecret: string;
  /** Unix seconds; defaults to now. A value more than five minutes old must be refused. */
  timestamp?: number;
  retryNum?: number;
  /** Sign with this secret instead (to send a bad signature). */
  signWith?: string;
}

/** The v0 signature Slack puts in X-Slack-Signature: HMAC-SHA256 over `v0:${ts}:${body}`. */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

async function signedPost(
  url: string,
  body: string,
  contentType: string,
  options: SignedRequestOptions,
): Promise<Response> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': contentType,
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(options.signWith ?? options.signingSecret, timestamp, body),
  };
  if (options.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(options.retryNum);
    headers['x-slack-retry-reason'] = 'http_timeout';
  }
  return fetch(url, { method: 'POST', headers, body });
}

/** Wraps an event in the Events API envelope (event_callback) Slack posts. */
export function eventCallback(
  event: Record<string, unknown>,
  eventId = `Ev${randomUUID().slice(0, 10).toUpperCase()}`,
): Record<string, unknown> {
  return {
    token: 'verification-token-unused',
    team_id: FAKE_TEAM_ID,
    api_app_id: 'A0FAKE',
    event,
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      { team_id: FAKE_TEAM_ID, user_id: FAKE_BOT_USER_ID, is_bot: true, is_enterprise_install: false },
    ],
  };
}

/** POSTs an Events API body (JSON) to the receiver, signed. */
export function postEvent(
  url: string,
  body: Record<string, unknown>,
  options: SignedRequestOptions,
): Promise<Response> {
  return signedPost(url, JSON.stringify(body), 'application/json', options);
}

/** POSTs an interactivity payload (block_actions, view_submission) as the form field `payload`, signed. */
export function postInteraction(
  url: string,
  payload: Record<string, unknown>,
  options: SignedRequestOptions,
): Promise<Response> {
  return signedPost(
    url,
    new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
    'application/x-www-form-urlencoded',
    options,
  );
}

/** POSTs a slash command (form-encoded fields), signed. */
export function postSlashCommand(
  url: string,
  fields: Record<string, string>,
  options: SignedRequestOptions,
): Promise<Response> {
  return signedPost(
    url,
    new URLSearchParams(fields).toString(),
    'application/x-www-form-urlencoded',
    options,
  );
}
