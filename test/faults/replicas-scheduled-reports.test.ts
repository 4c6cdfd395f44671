/**
 * Templates and scheduled reports across two real `threadql run` processes (Slack HTTP mode, events sent
 * alternately to each, the fake Web API recording what they post) on one store and one Redis, on the embedded
 * sample database, used only through the chat: a question is run and saved as a template, scheduled every minute
 * into a channel, and each of two real minute ticks posts its table and CSV there exactly once; a template with a
 * `:param` placeholder run with `key=value` returns the rows for that value.
 *
 * Redis is this test's own: every `threadql run` uses the default queue keys, so the other fault tests' processes on
 * the shared Redis would reconcile this test's job schedulers away (their store has no such schedule) and take
 * its ticks.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import Database from 'better-sqlite3';
import { Queue } from 'bullmq';
import mongoose from 'mongoose';
import {
  FakeAnthropicServer,
  toolCallReply,
  toolUseReply,
  type MessagesRequestBody,
} from '../fakes/fake-anthropic-server.ts';
import { FakeSlackApi, type RecordedCall } from '../fakes/fake-slack-api.ts';
import { isolatedMongoUri } from '../support/services.ts';
import { formatRunTime } from '../../core/templates/run-times.ts';
import { OwnRedis } from './support/own-services.ts';
import type { SlackEndpoint } from './support/slack-endpoint.ts';
import { buttonsOf, eventually, textOf } from './support/slack-endpoint.ts';
import { startSlackReplicas, type RunningThreadql } from './support/slack-threadql.ts';

// Setup, then up to a minute to the first tick and one more to the second.
jest.setTimeout(240_000);

const REPORTS = 'C0REPORTS';
const BY_CATEGORY = 'SELECT category, count(*) AS products FROM products GROUP BY category ORDER BY category';
const IN_CATEGORY = 'SELECT name, price_cents FROM products WHERE category = :category ORDER BY name';

const storeUri = isolatedMongoUri('replica-reports');
const dataDir = mkdtempSync(join(tmpdir(), 'threadql-replica-reports-'));
let redis: OwnRedis;
let slack: FakeSlackApi;
let anthropic: FakeAnthropicServer;
let a: RunningThreadql;
let b: RunningThreadql;
let endpoint: SlackEndpoint;

beforeAll(async () => {
  redis = await OwnRedis.start();
  slack = new FakeSlackApi();
  await slack.start();
  slack.setChannel(REPORTS, { name: 'reports' });
  anthropic = new FakeAnthropicServer();
  await anthropic.start();
  // The question gets its query; asked for parameters when saving, Claude proposes none.
  anthropic.setFallback((body: MessagesRequestBody) =>
    body.tools?.some((t) => t.name === 'propose_parameters')
      ? toolCallReply('propose_parameters', { sql: BY_CATEGORY, parameters: [] })
      : toolUseReply(BY_CATEGORY, { explanation: 'Counts the products of each category.' }),
  );
  const options = { storeUri, redisUrl: redis.url, slack, anthropic, dataDir };
  ({ a, b, endpoint } = await startSlackReplicas(options));
});

afterAll(async () => {
  await a?.process.kill();
  await b?.process.kill();
  await slack?.stop();
  await anthropic?.close();
  await redis?.stop();
  const store = await mongoose.createConnection(storeUri).asPromise();
  await store.dropDatabase();
  await store.close();
});

async function withStore<T>(work: (store: mongoose.Connection) => Promise<T>): Promise<T> {
  const store = await mongoose.createConnection(storeUri).asPromise();
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** The rows of a query on the sample database, read directly (every value as text). */
function sampleRows(sql: string, ...params: unknown[]): string[][] {
  const db = new Database(join(dataDir, 'sample', 'shop.db'), { readonly: true });
  try {
    const rows = db
      .prepare(sql)
      .raw()
      .all(...params) as unknown[][];
    return rows.map((r) => r.map(String));
  } finally {
    db.close();
  }
}

/** Rows of the Slack table block in a message (header first). */
function tableRows(call: RecordedCall): string[][] {
  const blocks = (call.args.blocks as { type: string; rows?: { text: string }[][] }[] | undefined) ?? [];
  return (blocks.find((b) => b.type === 'table')?.rows ?? []).map((r) => r.map((c) => c.text));
}

/** Waits for a message in the thread offering the button `actionId`; returns its ts and the button's value. */
function button(threadTs: string, actionId: string): Promise<{ ts: string; value: string }> {
  return eventually(`${actionId} in ${threadTs}`, () => {
    for (const post of endpoint.postsIn(threadTs)) {
      const value = buttonsOf(endpoint.latest(post))[actionId];
      if (value) return { ts: String(post.result?.ts), value };
    }
    return undefined;
  });
}

/** Waits for a message of the bot in the thread (its latest text) to match `pattern`. */
function answer(threadTs: string, pattern: RegExp): Promise<string> {
  return eventually(`${pattern} in ${threadTs}`, () =>
    endpoint
      .postsIn(threadTs)
      .map((p) => textOf(endpoint.latest(p)))
      .find((t) => pattern.test(t)),
  );
}

/** Clicks a button found by `button()` and waits for its message to settle into `done`. */
async function press(threadTs: string, actionId: string, done: RegExp): Promise<void> {
  const { ts, value } = await button(threadTs, actionId);
  await endpoint.click({ messageTs: ts, threadTs, actionId, value });
  await eventually(`${actionId} to settle`, () =>
    done.test(textOf(endpoint.updatesOf(ts).at(-1) ?? { method: '', args: {}, token: undefined })),
  );
}

/** Saves a template through its save card (Save, then the card says who saved it). */
async function confirmSave(threadTs: string): Promise<void> {
  await press(threadTs, 'threadql:template_save', /Saved by/);
}

test('a template saved from a thread and scheduled every minute posts its table and CSV once per tick; key=value runs return that value’s rows', async () => {
  // Asked, run and saved from a thread.
  const { threadTs } = await endpoint.mention('how many products are there in each category?');
  await press(threadTs, 'threadql:run', /✅ Run by/);
  // The run is recorded behind the reply; a person types `save as` seconds later, by when it is in the store.
  const threadKey = `slack:T0FAKE:${endpoint.channel}:${threadTs}`;
  await eventually('the run in the thread’s session', () =>
    withStore(async (store) => {
      const session = await store.collection('querysessions').findOne({ _id: threadKey as never });
      const turns = (session?.context?.turns ?? []) as { status?: string }[];
      return turns.some((t) => t.status === 'success');
    }),
  );
  await endpoint.mention('save as products-by-category', { threadTs });
  await confirmSave(threadTs);

  await endpoint.mention(`schedule products-by-category "* * * * *" in <#${REPORTS}|reports>`, { threadTs });
  const scheduled = await answer(threadTs, /Scheduled \*products-by-category\* into #reports/);
  const scheduleId = /Schedule id `([a-z0-9]+)`/.exec(scheduled)![1]!;

  // While the minutes pass: a template with a placeholder, run with a value.
  const block = await endpoint.mention(`template products-in\n\`\`\`sql\n${IN_CATEGORY}\n\`\`\``);
  await confirmSave(block.threadTs);
  const ran = await endpoint.mention('run products-in category=Tea');
  await press(ran.threadTs, 'threadql:run', /✅ Run by/);
  const result = await eventually('the result table', () =>
    endpoint.postsIn(ran.threadTs).find((p) => tableRows(p).length > 0),
  );
  const tea = sampleRows(IN_CATEGORY.replace(':category', '?'), 'Tea');
  expect(tea.length).toBeGreaterThan(0);
  expect(tableRows(result)).toEqual([['name', 'price_cents'], ...tea]);
  expect(sampleRows(IN_CATEGORY.replace(':category', '?'), 'Coffee')).not.toEqual(tea);

  // Two real minute ticks, each reported in the channel as a new message.
  const reports = () => slack.callsOf('chat.postMessage').filter((c) => c.args.channel === REPORTS);
  const ticked = () =>
    withStore((store) =>
      store
        .collection('scheduleruns')
        .find({ schedule: scheduleId, status: 'success' })
        .sort({ tick: 1 })
        .toArray(),
    );
  await eventually('two ticks reported', async () => (await ticked()).length >= 2, 150_000);
  // Settled: no report job queued or running on either replica (a duplicate would be one of them).
  const queue = new Queue('threadql-reports-slack', {
    connection: { host: '127.0.0.1', port: redis.port },
    prefix: 'threadql:bull',
  });
  try {
    await eventually('the report queue to go idle', async () => {
      const counts = await queue.getJobCounts('active', 'waiting', 'prioritized');
      return Object.values(counts).every((n) => n === 0);
    });
  } finally {
    await queue.close();
  }

  const byCategory = [['category', 'products'], ...sampleRows(BY_CATEGORY)];
  const posted = reports();
  // Every post in the channel is a report naming its tick, and no tick has two (a third tick may have begun).
  const labels = posted.map((p) => /tick ([^·"]+?) ·/.exec(textOf(p))?.[1]);
  expect(labels).not.toContain(undefined);
  expect(new Set(labels).size).toBe(labels.length);
  for (const run of (await ticked()).slice(0, 2)) {
    const tick = run.tick as Date;
    // The tick's post, top level in the channel, with the table.
    const report = posted[labels.indexOf(formatRunTime(tick, 'UTC'))];
    expect(report).toBeDefined();
    expect(report!.args).not.toHaveProperty('thread_ts');
    expect(textOf(report!)).toContain('products-by-category');
    expect(tableRows(report!)).toEqual(byCategory);
    // One CSV for the tick, shared into the channel (not a thread), holding the rows.
    const stamp = tick.toISOString().slice(0, 16).replace(/[:T]/g, '-');
    const csvs = slack.uploads.filter((u) => u.filename === `products-by-category-${stamp}.csv`);
    expect(csvs).toHaveLength(1);
    expect(csvs[0]!.data.toString('utf8').trim().split(/\r?\n/)).toEqual(byCategory.map((r) => r.join(',')));
    const shared = slack
      .callsOf('files.completeUploadExternal')
      .filter((c) => (c.args.files as { id: string }[]).some((f) => f.id === csvs[0]!.fileId));
    expect(shared).toHaveLength(1);
    expect(shared[0]!.args.channel_id).toBe(REPORTS);
    expect(shared[0]!.args).not.toHaveProperty('thread_ts');
  }
});
