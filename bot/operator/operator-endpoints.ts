/**
 * The operator's HTTP endpoints: `/healthz` (the process is up and serving its event loop), `/readyz` (the store,
 * Redis and each started chat platform answer; 503 naming what does not) and `/metrics` (Prometheus text). They are
 * served next to Bolt's receiver on PORT in Slack HTTP mode, and on a server of their own on HEALTH_PORT otherwise.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ThreadqlMetrics } from '../../core/metrics/threadql-metrics.ts';

/** One dependency the readiness check asks; `check` rejects (with a short reason) when it is not usable. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface Readiness {
  ready: boolean;
  /** Names of the checks that failed. */
  down: string[];
  checks: { name: string; ok: boolean; detail?: string }[];
}

export interface OperatorEndpointsOptions {
  metrics: ThreadqlMetrics;
  /** Read when /readyz is asked, so platforms started after the endpoints are included. */
  checks: () => readonly ReadinessCheck[];
  /** Longest wait for one check (default 2 s): a hung dependency is "down", not a hung probe. */
  checkTimeoutMs?: number;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Runs every check in parallel, each bounded. */
export async function readiness(checks: readonly ReadinessCheck[], timeoutMs = 2_000): Promise<Readiness> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return { name, ok: true };
      } catch (error) {
        const detail = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200);
        return { name, ok: false, detail };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const down = results.filter((r) => !r.ok).map((r) => r.name);
  return { ready: down.length === 0, down, checks: results };
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

/** The three routes as path → handler, for Bolt's customRoutes or the stand-alone server. */
export function operatorRoutes(options: OperatorEndpointsOptions): { path: string; handler: RouteHandler }[] {
  const failed = (res: ServerResponse, error: unknown) =>
    send(res, 500, 'text/plain; charset=utf-8', `error: ${String(error)}\n`);
  return [
    {
      path: '/healthz',
      handler: (_req, res) => send(res, 200, 'application/json', '{"status":"ok"}\n'),
    },
    {
      path: '/readyz',
      handler: (_req, res) => {
        readiness(options.checks(), options.checkTimeoutMs)
          .then((r) => {
            const body = r.ready
              ? { status: 'ready', checks: r.checks }
              : { status: 'unavailable', down: r.down, checks: r.checks };
            send(res, r.ready ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
          })
          .catch((error: unknown) => failed(res, error));
      },
    },
    {
      path: '/metrics',
      handler: (_req, res) => {
        options.metrics
          .text()
          .then((text) => send(res, 200, options.metrics.contentType, text))
          .catch((error: unknown) => failed(res, error));
      },
    },
  ];
}

/** A server of its own for the operator routes (HEALTH_PORT); 404 for anything else. */
export async function startOperatorServer(
  routes: { path: string; handler: RouteHandler }[],
  listen: { port: number; host?: string },
): Promise<{ port: number; close(): Promise<void> }> {
  const byPath = new Map(routes.map((r) => [r.path, r.handler]));
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const handler = req.method === 'GET' ? byPath.get(path) : undefined;
    if (handler) handler(req, res);
    else send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
