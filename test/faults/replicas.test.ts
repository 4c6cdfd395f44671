/**
 * Two threadql processes behind one Slack endpoint pair (each on its own port, events sent alternately, as a load
 * balancer does) on one store (a FerretDB of this test's own) and one Redis, sharing a data directory as two
 * replicas on one host would. Every message is answered once (Slack's retries land on the other replica), every
 * click is executed once (double clicks split across replicas), a follow-up handled by the other replica keeps
 * its context, and killing one replica mid-turn loses no recorded work while the other keeps serving.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import mongoose from 'mongoose';
import {
  FakeAnthropicServer,
  toolUseReply,
  type MessagesRequestBody,
} from '../fakes/fake-anthropic-server.ts';
import { FakeSlackApi } from '../fakes/fake-slack-api.ts';
import { services } from '../support/services.ts';
import { OwnFerretDb } from './support/own-services.ts';
import type { SlackEndpoint } from './support/slack-endpoint.ts';
import { eventually, textOf } from './support/slack-endpoint.ts';
import { startSlackReplicas, type RunningThreadql } from './support/slack-threadql.ts';

jest.setTimeout(180_000);

const SQL = 'SELECT count(*) AS customers FROM customers';
let ferret: OwnFerretDb;
let slack: FakeSlackApi;
let anthropic: FakeAnthropicServer;
let a: RunningThreadql;
let b: RunningThreadql;
let endpoint: SlackEndpoint;
const dataDir = mkdtempSync(join(tmpdir(), 'threadql-replicas-'));

beforeAll(async () => {
  ferret = await OwnFerretDb.start();
  slack = new FakeSlackApi();
  await slack.start();
  anthropic = new FakeAnthropicServer();
  await anthropic.start();
  anthropic.setFallback(() => toolUseReply(SQL, { explanation: 'Counts the customers.' }));
  const options = {
    storeUri: ferret.uri('threadql'),
    redisUrl: services.redisUrl,
    slack,
    anthropic,
    dataDir,
  };
  ({ a, b, endpoint } = await startSlackReplicas(options));
});

afterAll(async () => {
  await a?.process.kill();
  await b?.process.kill();
  await ferret?.stop();
  await slack?.stop();
  await anthropic?.close();
});

async function withStore<T>(work: (store: mongoose.Connection) => Promise<T>): Promise<T> {
  const store = await mongoose.createConnection(ferret.uri('threadql')).asPromise();
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** The bot's messages in a thread, waiting until `n` are there (and a moment for any extra to show up). */
async function settled(threadTs: string, n: number) {
  await eventually(`${n} message(s) in ${threadTs}`, () => endpoint.postsIn(threadTs).length >= n);
  return endpoint.postsIn(threadTs);
}

test('every message is answered once, even when Slack retries it to the other replica', async () => {
  const threads: string[] = [];
  for (let i = 0; i < 4; i++) {
    const ts = endpoint.nextTs();
    const text = `how many customers, take ${i}?`;
    // The first delivery goes to one replica, Slack's retry of the same event to the other.
    await endpoint.mention(text, { ts, replica: i % 2 });
    await endpoint.mention(text, { ts, replica: (i + 1) % 2, retryNum: 1 });
    threads.push(ts);
  }
  for (const ts of threads) await endpoint.card(ts);
  // Both replicas have seen every event; each thread still has exactly one answer.
  for (const ts of threads) expect(await settled(ts, 1)).toHaveLength(1);
});

test('every click is executed once, double clicks split across the replicas', async () => {
  const cards: { threadTs: string; cardTs: string; token: string }[] = [];
  for (let i = 0; i < 3; i++) {
    const { threadTs } = await endpoint.mention(`count the customers, card ${i}`);
    cards.push({ threadTs, ...(await endpoint.card(threadTs)) });
  }
  await Promise.all(
    cards.flatMap(({ threadTs, cardTs, token }) =>
      [0, 1].map((replica) =>
        endpoint.click({ messageTs: cardTs, threadTs, actionId: 'threadql:run', value: token, replica }),
      ),
    ),
  );
  for (const { cardTs } of cards)
    await eventually('the card to run', () =>
      textOf(endpoint.updatesOf(cardTs).at(-1)!).includes('✅ Run by'),
    );
  for (const { threadTs } of cards) {
    const results = endpoint.postsIn(threadTs).filter((p) => /1 row/.test(textOf(p)));
    expect(results).toHaveLength(1);
  }
  const runs = await withStore((store) =>
    store.collection('auditevents').countDocuments({
      action: 'query.run',
      thread: { $in: cards.map((c) => `slack:T0FAKE:${endpoint.channel}:${c.threadTs}`) },
    }),
  );
  expect(runs).toBe(3);
});

test('a follow-up handled by the other replica keeps the thread’s context', async () => {
  const { threadTs } = await endpoint.mention('how many customers signed up in Portugal?', { replica: 0 });
  await endpoint.card(threadTs);
  // Records follow the replies (journaled first, written behind them): a person's follow-up comes seconds after
  // the card, by when the question is in the thread's session; the test waits for that instead of typing within
  // milliseconds.
  const threadKey = `slack:T0FAKE:${endpoint.channel}:${threadTs}`;
  await eventually('the question in the thread’s session', () =>
    withStore(async (store) => {
      const session = await store.collection('querysessions').findOne({ _id: threadKey as never });
      return Array.isArray(session?.context?.turns) && session.context.turns.length > 0;
    }),
  );
  const before = anthropic.requests.length;
  // A plain reply in the thread (no mention), to the other replica.
  await endpoint.threadReply('and in Spain?', threadTs, { replica: 1 });
  await eventually('the follow-up to reach Claude', () => anthropic.requests.length > before);
  const body: MessagesRequestBody = anthropic.requests.at(-1)!.body;
  const sent = JSON.stringify(body.messages);
  expect(sent).toContain('how many customers signed up in Portugal?');
  expect(sent).toContain('and in Spain?');
});

test('killing a replica mid-turn loses no recorded work, and the other keeps serving', async () => {
  // Two cards on replica A: a quick read, and a slow one (pasted SQL that counts to 300 million).
  const quick = await endpoint.mention('how many customers are there today?', { replica: 0 });
  const quickCard = await endpoint.card(quick.threadTs);
  const slowSql =
    'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000000) SELECT count(*) FROM c';
  const slow = await endpoint.mention(`\`\`\`sql\n${slowSql}\n\`\`\``, { replica: 0 });
  const slowCard = await endpoint.card(slow.threadTs);

  // The store goes down; the quick card runs on A, its records waiting in A's outbox (on disk).
  await ferret.stop();
  await endpoint.click({ ...run(quick.threadTs, quickCard), replica: 0 });
  await eventually('the quick card to run', () =>
    textOf(endpoint.updatesOf(quickCard.cardTs).at(-1)!).includes('✅ Run by'),
  );
  await eventually('the run waiting in A’s outbox', async () =>
    /threadql_outbox_depth [1-9]/.test(await (await fetch(`${a.base}/metrics`)).text()),
  );

  // A is killed in the middle of running the slow card.
  await endpoint.click({ ...run(slow.threadTs, slowCard), replica: 0 });
  await eventually('the slow card to be running', () =>
    textOf(endpoint.updatesOf(slowCard.cardTs).at(-1)!).includes('Running…'),
  );
  a.process.signal('SIGKILL');
  expect(await a.process.exited).toEqual({ code: null, signal: 'SIGKILL' });
  endpoint.setReceivers([b.url]);

  // B keeps serving through the store's return, and takes over what A left in the shared outbox directory.
  await ferret.start();
  const next = await endpoint.mention('how many customers now?');
  const nextCard = await endpoint.card(next.threadTs);
  await endpoint.click(run(next.threadTs, nextCard));
  await eventually('B’s card to run', () =>
    textOf(endpoint.updatesOf(nextCard.cardTs).at(-1)!).includes('✅ Run by'),
  );
  const threadKey = `slack:T0FAKE:${endpoint.channel}:${quick.threadTs}`;
  await eventually(
    'A’s run in the audit log',
    () =>
      withStore(
        async (store) =>
          (await store
            .collection('auditevents')
            .countDocuments({ action: 'query.run', thread: threadKey })) === 1,
      ),
    90_000,
  );
  const history = await withStore((store) =>
    store
      .collection('queryhistories')
      .find({ session: threadKey }, { sort: { sequence: 1 } })
      .toArray(),
  );
  expect(history.map((h) => h.executionStatus)).toEqual(['pending', 'success']);
});

function run(threadTs: string, card: { cardTs: string; token: string }) {
  return { messageTs: card.cardTs, threadTs, actionId: 'threadql:run', value: card.token };
}
