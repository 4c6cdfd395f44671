/**
 * Redis stopped under a running threadql process, black box: Slack HTTP mode against the fake Web API, the real
 * store, a Redis of this test's own stopped and started for real. While it is down a question and a Run click
 * each get a reply in the thread naming what is down (never silence), /readyz says redis; once it is back the
 * same card runs, exactly once, and the audit log holds the query.
 */
import mongoose from 'mongoose';
import { FakeAnthropicServer, toolUseReply } from '../fakes/fake-anthropic-server.ts';
import { FakeSlackApi } from '../fakes/fake-slack-api.ts';
import { isolatedMongoUri } from '../support/services.ts';
import { OwnRedis } from './support/own-services.ts';
import { eventually, SlackEndpoint, textOf } from './support/slack-endpoint.ts';
import { startSlackThreadql, type RunningThreadql } from './support/slack-threadql.ts';

const SQL = 'SELECT count(*) AS customers FROM customers';
let redis: OwnRedis;
let slack: FakeSlackApi;
let anthropic: FakeAnthropicServer;
let threadql: RunningThreadql;
const storeUri = isolatedMongoUri('fault-redis-e2e');

beforeAll(async () => {
  redis = await OwnRedis.start();
  slack = new FakeSlackApi();
  await slack.start();
  anthropic = new FakeAnthropicServer();
  await anthropic.start();
  anthropic.setFallback(() => toolUseReply(SQL, { explanation: 'Counts the customers.' }));
  threadql = await startSlackThreadql({ storeUri, redisUrl: redis.url, slack, anthropic });
});

afterAll(async () => {
  await threadql?.process.kill();
  const store = await mongoose.createConnection(storeUri).asPromise();
  await store.dropDatabase();
  await store.close();
  await redis?.stop();
  await slack?.stop();
  await anthropic?.close();
});

test('Redis down mid-session: a question and a Run click each get a reply; back: the card runs once, audited', async () => {
  const endpoint = new SlackEndpoint(slack, [threadql.url]);
  const first = await endpoint.mention('how many customers do we have?');
  const { cardTs, token } = await endpoint.card(first.threadTs);

  await redis.stop();
  const ready = await fetch(`${threadql.base}/readyz`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toMatchObject({ down: ['redis'] });

  // A question: answered with what is down, and kept (its history entry was written before the card failed).
  const second = await endpoint.mention('and how many orders?');
  const reply = await eventually('a reply to the question', () =>
    endpoint
      .postsIn(second.threadTs)
      .map((p) => textOf(endpoint.latest(p)))
      .find((t) => /unreachable/.test(t)),
  );
  expect(reply).toContain('My cache and lock service (Redis) is unreachable right now.');
  expect(reply).toContain('Your question was not lost');

  // A Run click: its token is in Redis, so it cannot run now; the thread says so and the card stays runnable.
  const before = endpoint.postsIn(first.threadTs).length;
  expect(
    await endpoint.click({
      messageTs: cardTs,
      threadTs: first.threadTs,
      actionId: 'threadql:run',
      value: token,
    }),
  ).toBe(200);
  const clickReply = await eventually('a reply to the click', () =>
    endpoint
      .postsIn(first.threadTs)
      .slice(before)
      .map(textOf)
      .find((t) => /unreachable/.test(t)),
  );
  expect(clickReply).toContain('My cache and lock service (Redis) is unreachable right now.');
  expect(clickReply).toContain('Please try again in a minute.');

  // Back (the same data: Redis persists). Once the process's breaker has closed, the same card runs, once,
  // however many times it is clicked.
  await redis.start();
  await eventually('the Redis breaker to close', async () =>
    (await (await fetch(`${threadql.base}/metrics`)).text()).includes(
      'threadql_breaker_state{dependency="redis"} 0',
    ),
  );
  for (let i = 0; i < 2; i++)
    expect(
      await endpoint.click({
        messageTs: cardTs,
        threadTs: first.threadTs,
        actionId: 'threadql:run',
        value: token,
      }),
    ).toBe(200);
  await eventually('the card to say it ran', () =>
    textOf(endpoint.updatesOf(cardTs).at(-1)!).includes('✅ Run by'),
  );
  const store = await mongoose.createConnection(storeUri).asPromise();
  try {
    const audit = store.collection('auditevents');
    await eventually(
      'the run in the audit log',
      async () => (await audit.countDocuments({ action: 'query.run' })) > 0,
    );
    expect(await audit.countDocuments({ action: 'query.run' })).toBe(1);
    const failed = await audit.find({ action: 'turn.failed' }).toArray();
    expect(failed.map((f) => (f.detail as { code: string }).code)).toEqual(
      expect.arrayContaining(['redis_unavailable']),
    );
  } finally {
    await store.close();
  }
  const metrics = await (await fetch(`${threadql.base}/metrics`)).text();
  expect(metrics).toMatch(/threadql_dependency_errors_total\{dependency="redis"\} [1-9]/);
  expect(metrics).toMatch(/threadql_turns_total\{platform="slack",outcome="redis_unavailable"\} 1/);
  expect(metrics).toMatch(/threadql_clicks_total\{action="run",outcome="redis_unavailable"\} 1/);
});
