/**
 * Slack ack latency: time from a signed Events API POST to the receiver's HTTP 200, with 20 threads in flight,
 * against the real Bolt app. The loopback Slack (fake Web API + the load generator) runs in a worker thread, so the
 * adapter's event loop is measured without the sender's and "Slack's" CPU on it. Each handler does slow work (a
 * 50 ms pause, then a reply posted to the fake) to show the ack never waits for it. Also reports delivery latency
 * (POST → onMessage called). Target (DESIGN §7): ack ≤ 100 ms always.   Run: npm run bench:slack
 *
 * Then per-turn bot overhead through the whole engine (`--turns`; needs the services' env, as the tests do): a real
 * threadql (store, Redis, sample SQLite) behind the real Bolt app, 20 users each asking one question per new thread
 * (mention → confirm card → Run → result), the fake Slack and a zero-delay fake Claude in the worker. Overhead is
 * total time − LLM time (the SDK call as the engine measured it) − database time (EXPLAIN, introspection and the read,
 * timed around the driver). Target (DESIGN §7): overhead p50 ≤ 30 ms, p99 ≤ 150 ms with 20 threads in flight.
 * `npm run bench:slack -- --acks` or `-- --turns` runs one part only.
 */
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { IncomingMessage, PlatformHandlers } from '../core/conversation/chat-platform.ts';
import { SlackPlatform } from '../bot/slack/slack-platform.ts';
// Static, not lazy: discord.js (under start-platforms) must load before vega-lite patches Set.prototype.toJSON,
// or @vladfrangu/async_event_emitter's primordials throw at load.
import { startPlatforms } from '../bot/start-platforms.ts';
import { createThreadql } from '../bot/create-threadql.ts';
import { loadConfig } from '../config/load-config.ts';
import { pathList } from '../config/process-info.ts';
import { createLogger } from '../core/logger.ts';
import {
  FAKE_TEAM_ID,
  FakeSlackApi,
  eventCallback,
  postEvent,
  postInteraction,
  type RecordedCall,
} from '../test/fakes/fake-slack-api.ts';
import { FakeAnthropicServer, toolUseReply } from '../test/fakes/fake-anthropic-server.ts';
import { CapturingLogger, appMention } from '../test/slack/slack-payloads.ts';
import { machineLoad, reportMeasure } from './support/bench-report.ts';

const SECRET = 'bench-signing-secret';
const numberArg = process.argv.slice(2).find((a) => /^\d+$/.test(a));
/** Events per thread; `npm run bench:slack -- 500` for a longer run. */
const EVENTS_PER_THREAD = Number(numberArg ?? 100);
const ONLY = process.argv.includes('--acks')
  ? 'acks'
  : process.argv.includes('--turns')
    ? 'turns'
    : undefined;
const HANDLER_WORK_MS = 50;

/** Wall-clock milliseconds comparable across threads (performance.now() has a per-thread origin). */
const clock = () => performance.timeOrigin + performance.now();

interface RunRequest {
  url: string;
  inFlight: number;
  perThread: number;
  /** Pause between one thread's events (open loop); 0 = send the next as soon as the ack arrives (saturation). */
  paceMs: number;
}
interface RunResult {
  acks: number[];
  sentAt: Record<string, number>;
  wallMs: number;
}

// ---- worker: the loopback Slack ----

async function loadWorker(): Promise<void> {
  const port = parentPort!;
  const fake = new FakeSlackApi();
  await fake.start();
  port.postMessage({ apiUrl: fake.apiUrl });
  port.on('message', async (msg: RunRequest | 'stop') => {
    if (msg === 'stop') {
      await fake.stop();
      port.close();
      return;
    }
    const acks: number[] = [];
    const sentAt: Record<string, number> = {};
    const started = clock();
    await Promise.all(
      Array.from({ length: msg.inFlight }, async () => {
        for (let i = 0; i < msg.perThread; i++) {
          const event = appMention('how many customers signed up each week this quarter, by country?');
          const t0 = clock();
          sentAt[event.ts] = t0;
          const res = await postEvent(msg.url, eventCallback(event), { signingSecret: SECRET });
          acks.push(clock() - t0);
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`receiver answered ${res.status}`);
          if (msg.paceMs > 0) await new Promise((r) => setTimeout(r, msg.paceMs * (0.5 + Math.random())));
        }
      }),
    );
    port.postMessage({ acks, sentAt, wallMs: clock() - started } satisfies RunResult);
  });
}

// ---- main: the adapter under test ----

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function summary(label: string, samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(2).padStart(7);
  return `  ${label.padEnd(40)} n=${String(s.length).padStart(5)}  p50 ${f(percentile(s, 50))} ms  p99 ${f(percentile(s, 99))} ms  max ${f(s.at(-1)!)} ms`;
}

async function run(worker: Worker, request: RunRequest): Promise<RunResult> {
  worker.postMessage(request);
  const [result] = (await once(worker, 'message')) as [RunResult];
  return result;
}

interface Scenario {
  processBeforeResponse: boolean;
  inFlight: number;
  paceMs: number;
}

async function scenario(worker: Worker, apiUrl: string, sc: Scenario, report: boolean): Promise<void> {
  const { processBeforeResponse, inFlight, paceMs } = sc;
  const calledAt = new Map<string, number>();
  const handlers: PlatformHandlers = {
    async onMessage(message: IncomingMessage) {
      calledAt.set(message.id, clock());
      await new Promise((r) => setTimeout(r, HANDLER_WORK_MS));
      await platform.post(message.thread, {
        fallback: 'working…',
        parts: [{ type: 'text', text: 'Reading schema…' }],
      });
    },
    async onButton() {},
    async onModalSubmit() {},
  };
  const platform: SlackPlatform = new SlackPlatform({
    botToken: 'xoxb-bench',
    signingSecret: SECRET,
    port: 0,
    host: '127.0.0.1',
    processBeforeResponse,
    apiUrl,
    retryConfig: { retries: 0 },
    isActiveThread: async () => true,
    logger: new CapturingLogger(),
  });
  await platform.start(handlers);
  const url = platform.httpAddress!.url;
  await run(worker, { url, inFlight, perThread: 10, paceMs: 0 }); // warm-up: JIT, keep-alive sockets, auth.test cache
  await platform.idle();
  calledAt.clear();
  const result = await run(worker, { url, inFlight, perThread: EVENTS_PER_THREAD, paceMs });
  await platform.idle();
  await platform.stop();
  if (!report) return;
  const delivery = Object.entries(result.sentAt).map(([ts, t0]) => (calledAt.get(ts) ?? Number.NaN) - t0);
  const mode = `processBeforeResponse: ${processBeforeResponse}`;
  const load = paceMs > 0 ? `paced ~${paceMs} ms apart per thread` : 'back to back (saturation)';
  console.log(`\n[${mode}] ${inFlight} threads in flight × ${EVENTS_PER_THREAD} events, ${load}`);
  console.log(summary('ack (signed POST → HTTP 200)', result.acks));
  console.log(summary('delivery (POST → onMessage called)', delivery));
  const over = result.acks.filter((a) => a > 100).length;
  console.log(
    `  throughput ${((result.acks.length / result.wallMs) * 1000).toFixed(0)} events/s; acks over 100 ms: ${over}`,
  );
  // The production setting (ack first); the paced and the saturating load each get a row.
  if (!processBeforeResponse && inFlight === 20) {
    const acks = [...result.acks].sort((a, b) => a - b);
    reportMeasure({
      measure: `Slack ack, 20 threads in flight, ${paceMs > 0 ? 'paced' : 'back to back'}`,
      figure: `p50 ${percentile(acks, 50).toFixed(1)} ms / p99 ${percentile(acks, 99).toFixed(1)} ms / max ${acks.at(-1)!.toFixed(1)} ms`,
      target: '≤ 100 ms always',
      met: acks.at(-1)! <= 100,
      note: `${acks.length} events; ${machineLoad()}`,
    });
  }
}

async function ackBench(): Promise<void> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: 'acks' } });
  const [{ apiUrl }] = (await once(worker, 'message')) as [{ apiUrl: string }];
  console.log(
    `Slack adapter bench (Node ${process.version}, Bolt HTTP receiver; fake Slack + load in a worker thread)`,
  );
  try {
    // Interleaved and repeated, so no configuration alone pays the process's warm-up; the second round is reported.
    const scenarios: Scenario[] = [];
    for (const processBeforeResponse of [false, true]) {
      scenarios.push({ processBeforeResponse, inFlight: 1, paceMs: 0 });
      scenarios.push({ processBeforeResponse, inFlight: 20, paceMs: 100 });
      scenarios.push({ processBeforeResponse, inFlight: 20, paceMs: 0 });
    }
    console.log(`Each handler: ${HANDLER_WORK_MS} ms pause, then chat.postMessage to the fake.`);
    for (const round of [1, 2]) for (const sc of scenarios) await scenario(worker, apiUrl, sc, round === 2);
  } finally {
    worker.postMessage('stop');
    await once(worker, 'exit');
  }
}

// ---- per-turn overhead through the engine ----

interface TurnRequest {
  url: string;
  users: number;
  turnsPerUser: number;
  scenario: TurnScenario;
}
type TurnScenario = 'chart' | 'table only';
interface TurnRecord {
  id: number;
  /** Mention sent → confirm card (chat.update with a Run button) received by Slack. */
  cardMs: number;
  /** Run click sent → result message (chat.postMessage with feedback buttons) received by Slack. */
  runMs: number;
  /** Run click sent → the result's files completed (files.completeUploadExternal). */
  filesMs: number;
  /** The LLM time the engine measured and printed on the card. */
  llmMs: number;
  chart: boolean;
  /** Absolute times (clock()): mention sent, card received, click sent, result received. */
  at: { mention: number; card: number; click: number; result: number };
}

/** The SQL of turn `id`: unique text per turn, so database time can be attributed to it. */
function turnSql(scenario: TurnScenario, id: number): string {
  return scenario === 'chart'
    ? `SELECT country, count(*) AS customers FROM customers WHERE id > -${id} GROUP BY country ORDER BY customers DESC`
    : `SELECT name, email FROM customers WHERE id > -${id} ORDER BY id LIMIT 10`;
}

/** The worker for turns: fake Slack, zero-delay fake Claude, and 20 users clicking through their turns. */
async function turnsWorker(): Promise<void> {
  const port = parentPort!;
  const slack = new FakeSlackApi();
  const claude = new FakeAnthropicServer({ apiKey: 'sk-bench' });
  await slack.start();
  const { url: anthropicUrl } = await claude.start();
  let scenario: TurnScenario = 'chart';
  claude.setFallback((body) => {
    const id = Number(/bench turn #(\d+)/.exec(JSON.stringify(body.messages))?.[1]);
    return toolUseReply(turnSql(scenario, id), { explanation: 'Counts customers.' });
  });
  // Every recorded call is seen as it arrives: each user has its own channel, so a call's channel names its turn.
  const waiters = new Map<
    string,
    { test: (c: RecordedCall) => boolean; resolve: (c: RecordedCall) => void }[]
  >();
  const push = slack.calls.push.bind(slack.calls);
  slack.calls.push = (...calls: RecordedCall[]) => {
    const at = clock();
    for (const call of calls) {
      const channel = String(call.args.channel ?? call.args.channel_id ?? '');
      const list = waiters.get(channel) ?? [];
      const hit = list.findIndex((w) => w.test(call));
      if (hit >= 0) {
        const [w] = list.splice(hit, 1);
        (call as RecordedCall & { at: number }).at = at;
        w!.resolve(call);
      }
    }
    return push(...calls);
  };
  const next = (channel: string, test: (c: RecordedCall) => boolean) =>
    new Promise<RecordedCall & { at: number }>((resolve) => {
      const list = waiters.get(channel) ?? [];
      list.push({ test, resolve: resolve as (c: RecordedCall) => void });
      waiters.set(channel, list);
    });
  const actionValue = (call: RecordedCall, actionId: string) => {
    for (const block of (call.args.blocks as {
      type: string;
      elements?: { action_id?: string; value?: string }[];
    }[]) ?? []) {
      const hit = block.elements?.find((e) => e.action_id === actionId);
      if (hit) return hit.value;
    }
    return undefined;
  };
  port.postMessage({ apiUrl: slack.apiUrl, anthropicUrl });

  let turnId = 0;
  const run = `${Date.now()}${randomBytes(2).toString('hex')}`;
  port.on('message', async (msg: TurnRequest | 'stop') => {
    if (msg === 'stop') {
      await slack.stop();
      await claude.close();
      port.close();
      return;
    }
    scenario = msg.scenario;
    const records: TurnRecord[] = [];
    await Promise.all(
      Array.from({ length: msg.users }, async (_, user) => {
        const channel = `CB${run}${user}`.toUpperCase();
        for (let t = 0; t < msg.turnsPerUser; t++) {
          turnId += 1;
          const id = turnId;
          const ts = `${Math.floor(Date.now() / 1000)}.${String(id).padStart(6, '0')}`;
          const card = next(
            channel,
            (c) => c.method === 'chat.update' && actionValue(c, 'threadql:run') !== undefined,
          );
          const t0 = clock();
          const mention = {
            type: 'app_mention',
            user: `U${user}`,
            text: `<@U0BOT> bench turn #${id}: customers per country?`,
            ts,
            channel,
            event_ts: ts,
            team: FAKE_TEAM_ID,
          };
          await (await postEvent(msg.url, eventCallback(mention), { signingSecret: SECRET })).arrayBuffer();
          const cardCall = await card;
          const llmMs = Number(/LLM (\d+) ms/.exec(JSON.stringify(cardCall.args.blocks))?.[1] ?? Number.NaN);
          const result = next(
            channel,
            (c) => c.method === 'chat.postMessage' && actionValue(c, 'threadql:feedback_up') !== undefined,
          );
          const files = next(channel, (c) => c.method === 'files.completeUploadExternal');
          const t1 = clock();
          const action_ts = `${Date.now() / 1000}${id}`;
          const click = {
            type: 'block_actions',
            team: { id: FAKE_TEAM_ID, domain: 'bench' },
            user: { id: `U${user}`, username: `u${user}`, name: `u${user}`, team_id: FAKE_TEAM_ID },
            api_app_id: 'A0FAKE',
            container: { type: 'message', message_ts: cardCall.args.ts, channel_id: channel, thread_ts: ts },
            trigger_id: `${action_ts}.trigger`,
            channel: { id: channel, name: 'bench' },
            message: { type: 'message', ts: cardCall.args.ts, thread_ts: ts, text: 'card' },
            actions: [
              {
                action_id: 'threadql:run',
                block_id: 'b',
                type: 'button',
                value: actionValue(cardCall, 'threadql:run'),
                action_ts,
              },
            ],
          };
          await (await postInteraction(msg.url, click, { signingSecret: SECRET })).arrayBuffer();
          const resultCall = await result;
          const filesCall = await files;
          const uploaded = (filesCall.args.files as { title?: string }[]) ?? [];
          records.push({
            id,
            cardMs: cardCall.at - t0,
            runMs: resultCall.at - t1,
            filesMs: filesCall.at - t1,
            llmMs,
            chart: uploaded.length > 1, // the CSV, and a chart beside it
            at: { mention: t0, card: cardCall.at, click: t1, result: resultCall.at },
          });
        }
      }),
    );
    port.postMessage(records);
  });
}

async function turnBench(): Promise<void> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: 'turns' } });
  const [{ apiUrl, anthropicUrl }] = (await once(worker, 'message')) as [
    { apiUrl: string; anthropicUrl: string },
  ];
  // Imported here so the ack part runs without the services' env (services.ts throws when it is missing).
  const { isolatedMongoUri, services } = await import('../test/support/services.ts');
  const dataDir = mkdtempSync(join(tmpdir(), 'threadql-bench-slack-'));
  writeFileSync(join(dataDir, 'threadql.yml'), 'connections: []\n');
  const config = await loadConfig({
    MONGODB_URI: isolatedMongoUri('bench-slack'),
    REDIS_URL: services.redisUrl,
    THREADQL_DATA_DIR: dataDir,
    THREADQL_CONFIG: join(dataDir, 'threadql.yml'),
    THREADQL_MASTER_KEY: 'passphrase:bench',
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: apiUrl,
    ANTHROPIC_API_KEY: 'sk-bench',
    ANTHROPIC_BASE_URL: anthropicUrl,
  });
  const logger = createLogger('silent');
  const threadql = await createThreadql({ config, logger, pathList: pathList(), erdBrowser: false });
  const platforms = await startPlatforms(threadql, config, logger, {
    slack: { port: 0, host: '127.0.0.1', retryConfig: { retries: 0 } },
  });
  const slack = platforms[0] as SlackPlatform;

  // Database time per turn: every driver call timed, attributed by the turn id in its SQL.
  const dbMs = new Map<number, { card: number; run: number }>();
  let untracedDbMs = 0;
  const { driver } = await threadql.connections.resolveByName('sample');
  const timed =
    <A extends unknown[], R>(phase: 'card' | 'run', fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const t0 = clock();
      try {
        return await fn(...args);
      } finally {
        const ms = clock() - t0;
        const id = Number(/id > -(\d+)/.exec(String(args[0]))?.[1]);
        if (Number.isFinite(id)) {
          const entry = dbMs.get(id) ?? { card: 0, run: 0 };
          entry[phase] += ms;
          dbMs.set(id, entry);
        } else untracedDbMs += ms;
      }
    };
  driver.explain = timed('card', driver.explain.bind(driver));
  driver.executeRead = timed('run', driver.executeRead.bind(driver));
  driver.streamRead = timed('run', driver.streamRead.bind(driver));
  driver.introspect = timed('card', driver.introspect.bind(driver));

  // Store time per turn (the MongoDB-wire session store; FerretDB here): reached through the engine's private deps,
  // attributed by the thread ts in the call's thread or session id (its fraction is the turn id).
  const storeCalls = new Map<number, [number, number][]>();
  const sessions = (threadql.engine as unknown as { deps: { sessions: Record<string, unknown> } }).deps
    .sessions;
  const turnOf = (args: unknown[]) => {
    const text = JSON.stringify(args[0] ?? null);
    return Number(/\d+\.(\d{6})/.exec(text)?.[1]);
  };
  for (const name of [
    'openSession',
    'findSession',
    'appendHistory',
    'setConnection',
    'recordFeedback',
    'audit',
  ]) {
    const fn = (sessions[name] as (...args: unknown[]) => Promise<unknown>).bind(sessions);
    sessions[name] = async (...args: unknown[]) => {
      const t0 = clock();
      try {
        return await fn(...args);
      } finally {
        const id = turnOf(args);
        if (Number.isFinite(id)) storeCalls.set(id, [...(storeCalls.get(id) ?? []), [t0, clock()]]);
      }
    };
  }

  const users = Number(
    /^--users=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--users=')) ?? '')?.[1] ?? 20,
  );
  const turnsPerUser = Math.max(3, Math.round(EVENTS_PER_THREAD / 10));
  console.log(
    `\nPer-turn bot overhead through the engine: ${users} users in flight, each ${turnsPerUser} turns (new thread per turn),`,
  );
  console.log(
    'real threadql (MongoDB-wire store, Redis, sample SQLite) behind Bolt over HTTP; fake Slack and a zero-delay fake Claude in a worker.',
  );
  console.log(
    'overhead = total − LLM time (SDK call, as the engine measured it) − database time (EXPLAIN/introspection/read, timed at the driver)',
  );
  try {
    for (const round of [1, 2]) {
      for (const scenario of ['chart', 'table only'] as const) {
        worker.postMessage({
          url: slack.httpAddress!.url,
          users,
          turnsPerUser: round === 1 ? 2 : turnsPerUser,
          scenario,
        } satisfies TurnRequest);
        const [records] = (await once(worker, 'message')) as [TurnRecord[]];
        await slack.idle();
        await threadql.engine.idle();
        if (round === 1) continue; // warm-up: JIT, pools, schema cache, chart fonts
        /** Store time on a phase's critical path: calls of this turn that ran wholly inside the phase. */
        const store = (r: TurnRecord, from: number, to: number) => {
          // Union of the intervals: a store method may call another (nested calls are timed twice).
          const spans = (storeCalls.get(r.id) ?? [])
            .filter(([a, b]) => a >= from && b <= to)
            .sort((x, y) => x[0] - y[0]);
          let total = 0;
          let end = -Infinity;
          for (const [a, b] of spans) {
            if (b <= end) continue;
            total += b - Math.max(a, end);
            end = b;
          }
          return total;
        };
        const storeCard = (r: TurnRecord) => store(r, r.at.mention, r.at.card);
        const storeRun = (r: TurnRecord) => store(r, r.at.click, r.at.result);
        const db = (r: TurnRecord) => dbMs.get(r.id) ?? { card: 0, run: 0 };
        const charts = records.filter((r) => r.chart).length;
        console.log(`\n[${scenario}] ${records.length} turns; charts rendered in ${charts}`);
        console.log(
          summary(
            'card: total (mention → card)',
            records.map((r) => r.cardMs),
          ),
        );
        console.log(
          summary(
            'card: LLM time',
            records.map((r) => r.llmMs),
          ),
        );
        console.log(
          summary(
            'card: database time',
            records.map((r) => db(r).card),
          ),
        );
        console.log(
          summary(
            'card: overhead',
            records.map((r) => r.cardMs - r.llmMs - db(r).card),
          ),
        );
        console.log(
          summary(
            'run: total (click → result)',
            records.map((r) => r.runMs),
          ),
        );
        console.log(
          summary(
            'run: database time',
            records.map((r) => db(r).run),
          ),
        );
        console.log(
          summary(
            'run: overhead',
            records.map((r) => r.runMs - db(r).run),
          ),
        );
        console.log(
          summary(
            'run: click → files uploaded',
            records.map((r) => r.filesMs),
          ),
        );
        console.log(summary('store time on the card path', records.map(storeCard)));
        console.log(summary('store time on the run path', records.map(storeRun)));
        console.log(
          summary(
            'turn overhead − store time',
            records.map(
              (r) => r.cardMs - r.llmMs - db(r).card - storeCard(r) + r.runMs - db(r).run - storeRun(r),
            ),
          ),
        );
        console.log(
          summary(
            'turn overhead (card + run)',
            records.map((r) => r.cardMs - r.llmMs - db(r).card + r.runMs - db(r).run),
          ),
        );
      }
    }
    if (untracedDbMs > 0)
      console.log(`  (database time not attributable to a turn: ${untracedDbMs.toFixed(1)} ms in all)`);
  } finally {
    worker.postMessage('stop');
    await once(worker, 'exit');
    await slack.stop();
    await threadql.engine.idle();
    await threadql.store.dropDatabase().catch(() => {});
    await threadql.close();
  }
}

if (isMainThread) {
  if (ONLY !== 'turns') await ackBench();
  if (ONLY !== 'acks') await turnBench();
} else if ((workerData as { role?: string } | undefined)?.role === 'turns') {
  await turnsWorker();
} else {
  await loadWorker();
}
