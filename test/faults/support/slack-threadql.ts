/**
 * A real threadql process in Slack HTTP mode as the fault tests run it: the fake Web API and the fake Messages
 * API of the test, the store and Redis it is given (often the test's own, to stop and start), a free port.
 */
import { freePort } from '../../../bot/local-services/free-port.ts';
import type { FakeAnthropicServer } from '../../fakes/fake-anthropic-server.ts';
import type { FakeSlackApi } from '../../fakes/fake-slack-api.ts';
import { SIGNING_SECRET, SlackEndpoint } from './slack-endpoint.ts';
import { ThreadqlProcess } from './threadql-process.ts';

export interface SlackThreadqlOptions {
  storeUri: string;
  redisUrl: string;
  slack: FakeSlackApi;
  anthropic?: FakeAnthropicServer;
  yaml?: string;
  /** Keep the data directory of an earlier process (its outbox, its master key). */
  dataDir?: string;
  env?: Record<string, string>;
}

export interface RunningThreadql {
  process: ThreadqlProcess;
  port: number;
  /** The events endpoint. */
  url: string;
  /** Base of the operator endpoints (same port). */
  base: string;
}

/** Starts `threadql run`; resolves once Slack is served. */
export async function startSlackThreadql(options: SlackThreadqlOptions): Promise<RunningThreadql> {
  const port = await freePort();
  const process = ThreadqlProcess.start(
    {
      MONGODB_URI: options.storeUri,
      REDIS_URL: options.redisUrl,
      SLACK_BOT_TOKEN: 'xoxb-fault-test',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: options.slack.apiUrl,
      PORT: String(port),
      ...(options.anthropic
        ? { ANTHROPIC_API_KEY: 'sk-fault-test', ANTHROPIC_BASE_URL: options.anthropic.url }
        : {}),
      ...options.env,
    },
    {
      ...(options.yaml ? { yaml: options.yaml } : {}),
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    },
  );
  await process.waitForLog(/Slack started over HTTP/);
  const base = `http://127.0.0.1:${port}`;
  return { process, port, url: `${base}/slack/events`, base };
}

/** Two replicas of threadql behind one endpoint that sends events to either. */
export interface SlackReplicas {
  a: RunningThreadql;
  b: RunningThreadql;
  endpoint: SlackEndpoint;
}

/**
 * Starts two processes on the same store, Redis and data directory, one after the other: the first prepares the
 * shared data directory (the sample database).
 */
export async function startSlackReplicas(options: SlackThreadqlOptions): Promise<SlackReplicas> {
  const a = await startSlackThreadql(options);
  const b = await startSlackThreadql(options);
  return { a, b, endpoint: new SlackEndpoint(options.slack, [a.url, b.url]) };
}
