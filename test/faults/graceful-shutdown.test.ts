/**
 * Shutdown of a real `threadql run` process (Slack HTTP mode against the fake Web API, Claude at the fake Messages
 * API, the real store, Redis and PostgreSQL): SIGTERM cancels the Claude call and the query in flight instead of
 * waiting for their timeouts, the thread is told, the turn is recorded, and the process exits 0. A second signal
 * exits at once.
 */
import mongoose from 'mongoose';
import pg from 'pg';
import { freePort } from '../../bot/local-services/free-port.ts';
import { FakeAnthropicServer, toolUseReply } from '../fakes/fake-anthropic-server.ts';
import { FakeSlackApi } from '../fakes/fake-slack-api.ts';
import { isolatedMongoUri, services } from '../support/services.ts';
import { eventually, SIGNING_SECRET, SlackEndpoint, textOf } from './support/slack-endpoint.ts';
import { ThreadqlProcess } from './support/threadql-process.ts';

let slack: FakeSlackApi;
let anthropic: FakeAnthropicServer;
let running: ThreadqlProcess | undefined;

beforeAll(async () => {
  slack = new FakeSlackApi();
  await slack.start();
  anthropic = new FakeAnthropicServer();
  await anthropic.start();
});
afterEach(async () => {
  await running?.kill();
  running = undefined;
  const store = await mongoose.createConnection(storeUri).asPromise();
  await store.dropDatabase();
  await store.close();
});
afterAll(async () => {
  await slack.stop();
  await anthropic.close();
});

let storeUri = '';

/** Starts threadql in Slack HTTP mode on a free port; resolves once it serves. */
async function startThreadql(label: string, yaml?: string): Promise<SlackEndpoint> {
  const port = await freePort();
  storeUri = isolatedMongoUri(label);
  running = ThreadqlProcess.start(
    {
      MONGODB_URI: storeUri,
      REDIS_URL: services.redisUrl,
      SLACK_BOT_TOKEN: 'xoxb-fault-test',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      PORT: String(port),
      ANTHROPIC_API_KEY: 'sk-fault-test',
      ANTHROPIC_BASE_URL: anthropic.url,
      PG_URL: services.postgresUrl,
    },
    yaml ? { yaml } : {},
  );
  await running.waitForLog(/Slack started over HTTP/);
  return new SlackEndpoint(slack, [`http://127.0.0.1:${port}/slack/events`]);
}

test('SIGTERM while Claude is writing SQL: the call is cancelled, the thread told, the turn recorded, exit 0', async () => {
  const endpoint = await startThreadql('fault-shutdown-llm');
  // Claude would take ten minutes: only a cancelled call ends sooner.
  anthropic.enqueue(toolUseReply('SELECT 1', { delayMs: 600_000 }));
  const before = anthropic.requests.length;
  const { threadTs, status } = await endpoint.mention('how many customers are there?');
  expect(status).toBe(200);
  await eventually('the question to reach Claude', () => anthropic.requests.length > before);

  running!.signal('SIGTERM');
  expect(await running!.exited).toEqual({ code: 0, signal: null });
  expect(anthropic.requests.at(-1)!.status).toBe(499);
  const [progress] = endpoint.postsIn(threadTs);
  expect(textOf(endpoint.latest(progress!))).toContain(
    'threadql is restarting, so I stopped writing this query.',
  );
  const log = running!.logLines();
  expect(log.map((l) => l.msg)).toEqual(
    expect.arrayContaining([
      'shutting down: cancelling work in flight and waiting for turns to settle',
      'shut down',
    ]),
  );
  expect(log.find((l) => l.msg === 'shut down')).toMatchObject({ drained: true, closed: true });

  // Recorded before the connections closed.
  const store = await mongoose.createConnection(storeUri).asPromise();
  try {
    const audit = await store.collection('auditevents').find({ action: 'turn.failed' }).toArray();
    expect(audit).toEqual([
      expect.objectContaining({
        outcome: 'failure',
        detail: expect.objectContaining({ code: 'interrupted' }),
      }),
    ]);
  } finally {
    await store.close();
  }
});

test('SIGTERM while a query runs: PostgreSQL cancels it at once, the card says so, exit 0', async () => {
  const yaml = [
    'connections:',
    '  - name: pg',
    '    type: postgres',
    '    url: ${PG_URL}',
    'limits:',
    '  statementTimeoutMs: 600000',
    '',
  ].join('\n');
  const endpoint = await startThreadql('fault-shutdown-query', yaml);
  // A read that takes minutes (pg_sleep would need an approval: it is not a plain read).
  const sql = `SELECT count(*) FROM generate_series(1, 3000000000) AS g /* ${endpoint.channel} */`;
  const { threadTs } = await endpoint.mention(`\`\`\`sql\n${sql}\n\`\`\``);
  const { cardTs, token } = await endpoint.card(threadTs);
  expect(await endpoint.click({ messageTs: cardTs, threadTs, actionId: 'threadql:run', value: token })).toBe(
    200,
  );

  const client = new pg.Client({ connectionString: services.postgresUrl });
  await client.connect();
  try {
    const runningQueries = async () =>
      (
        await client.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1",
          [`%${endpoint.channel}%`],
        )
      ).rows[0]!.n;
    for (;;) {
      if ((await runningQueries()) === '1') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    running!.signal('SIGTERM');
    expect(await running!.exited).toEqual({ code: 0, signal: null });
    expect(await runningQueries()).toBe('0');
  } finally {
    await client.end();
  }
  const card = textOf(endpoint.updatesOf(cardTs).at(-1)!);
  expect(card).toContain('❌ Failed');
  expect(endpoint.threadText(threadTs)).toContain('the query was cancelled');
});

test('a second signal exits at once', async () => {
  const endpoint = await startThreadql('fault-shutdown-twice');
  anthropic.enqueue(toolUseReply('SELECT 1', { delayMs: 600_000 }));
  const before = anthropic.requests.length;
  await endpoint.mention('how many orders?');
  await eventually('the question to reach Claude', () => anthropic.requests.length > before);
  running!.signal('SIGTERM');
  running!.signal('SIGINT');
  const exit = await running!.exited;
  // Either the forced exit (130) won, or the graceful one had already finished: never a hang.
  expect([0, 130]).toContain(exit.code);
  if (exit.code === 130) expect(running!.stderr).toContain('second signal: exiting now without waiting');
});
