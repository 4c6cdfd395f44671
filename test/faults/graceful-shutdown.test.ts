/**
 * Shutdown of a real `threadql run` process (Slack HTTP mode against the fake Web API, Claude at the fake Messages
 * API, the real store, Redis and PostgreSQL): SIGTERM cancels the Claude call and the query in flight instead of
 * waiting for their timeouts, the thread is told, the turn is recorded, and the process exits 0. A second signal
 * exits at once.
 */
import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import pg from 'pg';
import { freePort } from '../../bot/local-services/free-port.ts';
import { FakeAnthropicServer, toolUseReply } from '../fakes/fake-anthropic-server.ts';
import { FakeSlackApi } from '../fakes/fake-slack-api.ts';
import { isolatedMongoUri, services } from '../support/services.ts';
import { buttonsOf, eventually, SIGNING_SECRET, SlackEndpoint, textOf } from './support/slack-endpoint.ts';
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
async function startThreadql(
  label: string,
  yaml?: string,
  options: { reuseStore?: boolean; channel?: string } = {},
): Promise<SlackEndpoint> {
  const port = await freePort();
  if (!options.reuseStore) storeUri = isolatedMongoUri(label);
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
  return new SlackEndpoint(slack, [`http://127.0.0.1:${port}/slack/events`], options.channel);
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

test('SIGTERM while a query runs: PostgreSQL cancels it, the card offers Run again, and Run works after the restart', async () => {
  const table = `fault_lock_${randomBytes(4).toString('hex')}`;
  const yaml = ['connections:', '  - name: pg', '    type: postgres', '    url: ${PG_URL}', ''].join('\n');
  const client = new pg.Client({ connectionString: services.postgresUrl });
  const watcher = new pg.Client({ connectionString: services.postgresUrl });
  await client.connect();
  await watcher.connect();
  try {
    await client.query(`CREATE TABLE ${table} (id int); INSERT INTO ${table} VALUES (1), (2)`);
    let endpoint = await startThreadql('fault-shutdown-query', yaml);
    const { threadTs } = await endpoint.mention(`\`\`\`sql\nSELECT count(*) AS n FROM ${table}\n\`\`\``);
    const { cardTs, token } = await endpoint.card(threadTs);
    // The read waits on this lock for as long as the test holds it: a query in flight at the signal.
    await client.query(`SET lock_timeout = '20s'; BEGIN; LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    expect(
      await endpoint.click({ messageTs: cardTs, threadTs, actionId: 'threadql:run', value: token }),
    ).toBe(200);
    // Watched from a connection of its own: inside the locking transaction, pg_stat_activity is a snapshot.
    const waiting = async () =>
      (
        await watcher.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()",
          [`%FROM ${table}%`],
        )
      ).rows[0]!.n;
    while ((await waiting()) !== '1') await new Promise((r) => setTimeout(r, 50));

    running!.signal('SIGTERM');
    expect(await running!.exited).toEqual({ code: 0, signal: null });
    expect(await waiting()).toBe('0');
    const interrupted = endpoint.updatesOf(cardTs).at(-1)!;
    expect(textOf(interrupted)).toContain('⏹ Interrupted by a restart (started by');
    expect(textOf(interrupted)).toContain('press Run again');
    const fresh = buttonsOf(interrupted)['threadql:run'];
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(token);
    await client.query('COMMIT');

    // The restarted threadql (same store and Redis) runs the re-offered card.
    endpoint = await startThreadql('fault-shutdown-query', yaml, {
      reuseStore: true,
      channel: endpoint.channel,
    });
    expect(
      await endpoint.click({ messageTs: cardTs, threadTs, actionId: 'threadql:run', value: fresh! }),
    ).toBe(200);
    await eventually('the card to settle', () =>
      textOf(endpoint.updatesOf(cardTs).at(-1)!).includes('✅ Run by'),
    );
    const store = await mongoose.createConnection(storeUri).asPromise();
    try {
      const audit = await store
        .collection('auditevents')
        .find({}, { sort: { at: 1 } })
        .toArray();
      expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['query.interrupted', 'query.run']));
      const history = await store
        .collection('queryhistories')
        .find({}, { sort: { sequence: 1 } })
        .toArray();
      expect(history.map((h) => [h.executionStatus, h.error ?? null])).toEqual([
        ['pending', null],
        ['error', 'interrupted: interrupted by a restart'],
        ['success', null],
      ]);
    } finally {
      await store.close();
    }
  } finally {
    await client.query('ROLLBACK').catch(() => {});
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await client.end();
    await watcher.end();
  }
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
