/**
 * The store stopped under a running threadql process, black box: Slack HTTP mode against the fake Web API, a
 * FerretDB of this test's own stopped and started for real, shared Redis, the embedded sample database. While the
 * store is down a Run click runs and shows its result (the card says ✅ and stays so), a question and a follow-up
 * get a reply saying the state store is unreachable and that the question was kept; once the store is back the
 * outbox is replayed and the audit log and history hold everything, with no restart.
 */
import mongoose from 'mongoose';
import { FakeAnthropicServer, toolUseReply } from '../fakes/fake-anthropic-server.ts';
import { FakeSlackApi, FAKE_TEAM_ID } from '../fakes/fake-slack-api.ts';
import { services } from '../support/services.ts';
import { OwnFerretDb } from './support/own-services.ts';
import { eventually, SlackEndpoint, textOf } from './support/slack-endpoint.ts';
import { startSlackThreadql, type RunningThreadql } from './support/slack-threadql.ts';

const SQL = 'SELECT count(*) AS customers FROM customers';
let ferret: OwnFerretDb;
let slack: FakeSlackApi;
let anthropic: FakeAnthropicServer;
let threadql: RunningThreadql;

beforeAll(async () => {
  ferret = await OwnFerretDb.start();
  slack = new FakeSlackApi();
  await slack.start();
  anthropic = new FakeAnthropicServer();
  await anthropic.start();
  anthropic.setFallback(() => toolUseReply(SQL, { explanation: 'Counts the customers.' }));
  threadql = await startSlackThreadql({
    storeUri: ferret.uri('threadql'),
    redisUrl: services.redisUrl,
    slack,
    anthropic,
  });
});

afterAll(async () => {
  await threadql?.process.kill();
  await ferret?.stop();
  await slack?.stop();
  await anthropic?.close();
});

test('store down mid-session: Run still runs and is recorded later; questions are told and kept; back: all replayed', async () => {
  const endpoint = new SlackEndpoint(slack, [threadql.url]);
  const first = await endpoint.mention('how many customers do we have?');
  const { cardTs, token } = await endpoint.card(first.threadTs);

  await ferret.stop();

  // Run: the query runs on the database (up) and its result is shown; the card says ✅ and never flips.
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
  await eventually('the result in the thread', () =>
    endpoint.postsIn(first.threadTs).some((p) => /1 row/.test(textOf(p))),
  );

  // A new question: the thread is told what is down, and that the question was kept.
  const second = await endpoint.mention('how many orders were placed last week?');
  const reply = await eventually('a reply to the question', () =>
    endpoint
      .postsIn(second.threadTs)
      .map((p) => textOf(endpoint.latest(p)))
      .find((t) => /unreachable/.test(t)),
  );
  expect(reply).toContain('My state store is unreachable right now.');
  expect(reply).toContain('Your question was not lost: it is recorded in this thread’s history.');

  // A follow-up without a mention in the first thread: still heard (the process knows the thread), and answered.
  const before = endpoint.postsIn(first.threadTs).length;
  await endpoint.threadReply('only the ones in Germany', first.threadTs);
  const followUp = await eventually('a reply to the follow-up', () =>
    endpoint
      .postsIn(first.threadTs)
      .slice(before)
      .map((p) => textOf(endpoint.latest(p)))
      .find((t) => /unreachable/.test(t)),
  );
  expect(followUp).toContain('My state store is unreachable right now.');
  expect(textOf(endpoint.updatesOf(cardTs).at(-1)!)).toContain('✅ Run by');

  // Back: the process replays its outbox by itself.
  await ferret.start();
  await eventually(
    'the outbox to be empty',
    async () => (await (await fetch(`${threadql.base}/metrics`)).text()).includes('threadql_outbox_depth 0'),
    60_000,
  );
  const store = await mongoose.createConnection(ferret.uri('threadql')).asPromise();
  try {
    const audit = store.collection('auditevents');
    await eventually(
      'the run in the audit log',
      async () => (await audit.countDocuments({ action: 'query.run' })) === 1,
      60_000,
    );
    const firstKey = `slack:${FAKE_TEAM_ID}:${endpoint.channel}:${first.threadTs}`;
    const secondKey = `slack:${FAKE_TEAM_ID}:${endpoint.channel}:${second.threadTs}`;
    await eventually(
      'the kept question in its thread’s history',
      async () => (await store.collection('queryhistories').countDocuments({ session: secondKey })) === 1,
      60_000,
    );
    const history = await store
      .collection('queryhistories')
      .find({ session: firstKey }, { sort: { sequence: 1 } })
      .toArray();
    expect(history.map((h) => [h.executionStatus, h.resultCount ?? null])).toEqual(
      expect.arrayContaining([
        ['pending', null],
        ['success', 1],
      ]),
    );
    const kept = await store.collection('queryhistories').findOne({ session: secondKey });
    expect(kept).toMatchObject({
      userInput: 'how many orders were placed last week?',
      executionStatus: 'error',
      error: expect.stringMatching(/^store_unavailable: /),
    });
    // The session the outage kept the question for now exists.
    expect(await store.collection('querysessions').countDocuments({ _id: secondKey as never })).toBe(1);
    const failed = await audit.find({ action: 'turn.failed' }).toArray();
    expect(failed.map((f) => (f.detail as { code: string }).code)).toEqual([
      'store_unavailable',
      'store_unavailable',
    ]);
  } finally {
    await store.close();
  }
});
