/**
 * The fake Discord gateway: one bot session over a real WebSocket (the `ws` package), speaking gateway v10
 * JSON. HELLO → IDENTIFY → READY + GUILD_CREATE…; heartbeats are ACKed; every dispatch gets the next
 * sequence number and is kept in the session log, so a client that RESUMEs after a dropped connection gets
 * what it missed, then RESUMED. Dispatches sent while no socket is live wait in the log.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';

export const GatewayOp = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  Resume: 6,
  Reconnect: 7,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
} as const;

/** One payload on the wire, as the test sees it. */
export interface GatewayRecord {
  direction: 'from-client' | 'to-client';
  op: number;
  t?: string | null;
  s?: number | null;
  d: unknown;
}

export interface Dispatch {
  t: string;
  d: unknown;
}

export interface FakeGatewayOptions {
  token: string;
  heartbeatIntervalMs: number;
  /** URL clients reconnect to for RESUME (Discord's `resume_gateway_url`). */
  url: () => string;
  /** READY and the GUILD_CREATEs that follow it, for a new session id. */
  onIdentify: (sessionId: string, resumeUrl: string) => Dispatch[];
}

export class FakeDiscordGateway extends EventEmitter {
  readonly payloads: GatewayRecord[] = [];
  identifies = 0;
  resumes = 0;
  readonly #options: FakeGatewayOptions;
  readonly #wss = new WebSocketServer({ noServer: true });
  #socket: WebSocket | undefined;
  /** The current socket has identified or resumed, so dispatches go out live. */
  #live = false;
  #sessionId = '';
  #seq = 0;
  #log: { s: number; t: string; d: unknown }[] = [];

  constructor(options: FakeGatewayOptions) {
    super();
    this.#options = options;
  }

  get sessionId(): string {
    return this.#sessionId;
  }

  get connected(): boolean {
    return this.#live;
  }

  /** Takes over an HTTP upgrade request for the gateway path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws));
  }

  #record(record: GatewayRecord): void {
    this.payloads.push(record);
    this.emit('change');
  }

  #send(ws: WebSocket, payload: { op: number; d: unknown; s?: number | null; t?: string | null }): void {
    const wire = { op: payload.op, d: payload.d, s: payload.s ?? null, t: payload.t ?? null };
    this.#record({ direction: 'to-client', ...wire });
    ws.send(JSON.stringify(wire));
  }

  #accept(ws: WebSocket): void {
    this.#socket?.terminate();
    this.#socket = ws;
    this.#live = false;
    ws.on('message', (raw) => this.#onPayload(ws, raw.toString()));
    ws.on('close', () => {
      if (this.#socket === ws) {
        this.#socket = undefined;
        this.#live = false;
      }
      this.emit('change');
    });
    this.#send(ws, { op: GatewayOp.Hello, d: { heartbeat_interval: this.#options.heartbeatIntervalMs } });
  }

  #onPayload(ws: WebSocket, raw: string): void {
    const payload = JSON.parse(raw) as { op: number; d: Record<string, unknown> | number | null };
    this.#record({ direction: 'from-client', op: payload.op, d: payload.d });
    const d = (payload.d ?? {}) as Record<string, unknown>;
    switch (payload.op) {
      case GatewayOp.Heartbeat:
        this.#send(ws, { op: GatewayOp.HeartbeatAck, d: null });
        return;
      case GatewayOp.Identify: {
        if (d.token !== this.#options.token) {
          ws.close(4004, 'Authentication failed.');
          return;
        }
        this.identifies++;
        this.#sessionId = randomUUID().replaceAll('-', '');
        this.#seq = 0;
        this.#log = [];
        this.#live = true;
        for (const dispatch of this.#options.onIdentify(this.#sessionId, this.#options.url()))
          this.dispatch(dispatch.t, dispatch.d);
        return;
      }
      case GatewayOp.Resume: {
        if (d.token !== this.#options.token) {
          ws.close(4004, 'Authentication failed.');
          return;
        }
        if (d.session_id !== this.#sessionId) {
          this.#send(ws, { op: GatewayOp.InvalidSession, d: false });
          return;
        }
        this.resumes++;
        const from = Number(d.seq ?? 0);
        for (const entry of this.#log.filter((e) => e.s > from)) {
          this.#send(ws, { op: GatewayOp.Dispatch, s: entry.s, t: entry.t, d: entry.d });
        }
        this.#live = true;
        this.dispatch('RESUMED', {});
        return;
      }
      default:
        return;
    }
  }

  /** Sends a dispatch (or keeps it for replay when no socket is live); returns its sequence number. */
  dispatch(t: string, d: unknown): number {
    const s = ++this.#seq;
    this.#log.push({ s, t, d });
    if (this.#live && this.#socket) this.#send(this.#socket, { op: GatewayOp.Dispatch, s, t, d });
    else this.emit('change');
    return s;
  }

  /**
   * Closes the live socket from the server side with `code` (4000 = unknown error: resumable). Dispatches stop going
   * out at once (they wait in the log for a RESUME), before the close completes.
   */
  async disconnect(code = 4000): Promise<void> {
    const ws = this.#socket;
    if (!ws) return;
    this.#live = false;
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.close(code, 'fake: connection dropped');
    await closed;
  }

  async close(): Promise<void> {
    this.#socket?.terminate();
    this.#socket = undefined;
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}
