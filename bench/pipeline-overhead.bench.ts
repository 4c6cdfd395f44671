/**
 * Bot overhead per turn (DESIGN §7, on this 2-core machine with FerretDB: p50 ≤ 40 ms, p99 ≤ 300 ms with 20 threads
 * in flight, ≤ 4 store round trips before a turn's first reply), excluding LLM and database time: question →
 * confirm card → Run → result table (the chart follows; its delay is printed apart), through the real engine,
 * store, Redis and the sample SQLite database, with the real Anthropic SDK against the loopback fake answering at
 * once. Store round trips are counted with the MongoDB driver's command monitoring, Redis ones by wrapping the
 * client's sendCommand (threadql sends no pipelines, so a command is a round trip); they are attributed to the
 * turn's phases with one thread in flight, where every command belongs to the one turn.
 * Run with the test services' env: `eval "$(bash scripts/services.sh env)" && npm run bench:pipeline [turns]`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PassThrough } from 'node:stream';
import { createThreadql } from '../bot/create-threadql.ts';
import { loadConfig } from '../config/load-config.ts';
import { pathList } from '../config/process-info.ts';
import { testServices } from '../config/test-services.ts';
import type {
  ChatPlatform,
  PlatformHandlers,
  PostedMessage,
  Reply,
  ThreadRef,
} from '../core/conversation/chat-platform.ts';
import { createLogger } from '../core/logger.ts';
import { FakeAnthropicServer, toolUseReply } from '../test/fakes/fake-anthropic-server.ts';
import { writingBehind } from '../core/conversation/write-behind-session-store.ts';
import { machineLoad, reportMeasure } from './support/bench-report.ts';

const THREADS = 20;
// Redis remembers event ids for a day: a fresh run id keeps this run's events new.
const RUN = Math.random().toString(36).slice(2, 8);
const TURNS = Number(process.argv[2] ?? 200);
// `--trace`: print every store and Redis command as it is sent (with one turn: `npm run bench:pipeline -- 1 --trace`).
const TRACE = process.argv.includes('--trace');

/** A platform that keeps replies in memory and wakes whoever waits for a matching one. */
class BenchPlatform implements ChatPlatform {
  readonly name = 'shell' as const;
  readonly capabilities = {
    modals: false,
    ephemeral: true,
    tableBlocks: false,
    maxMessageChars: 40_000,
    codeBlockWidth: 100,
  };
  private counter = 0;
  private waiters: {
    thread: string;
    test: (r: Reply) => boolean;
    resolve: (r: { reply: Reply; message: PostedMessage }) => void;
  }[] = [];

  async start(_handlers: PlatformHandlers): Promise<void> {}
  async stop(): Promise<void> {}
  async post(thread: ThreadRef, reply: Reply): Promise<PostedMessage> {
    const message = { thread, messageId: `b${++this.counter}` };
    this.emit(reply, message);
    return message;
  }
  async update(message: PostedMessage, reply: Reply): Promise<void> {
    this.emit(reply, message);
  }
  async upload(): Promise<void> {}
  async postEphemeral(): Promise<void> {}

  /** Drops what still waits on a thread (a chart that never came). */
  forget(thread: ThreadRef): void {
    this.waiters = this.waiters.filter((w) => w.thread !== thread.thread);
  }

  waitFor(thread: ThreadRef, test: (r: Reply) => boolean): Promise<{ reply: Reply; message: PostedMessage }> {
    return new Promise((resolve) => this.waiters.push({ thread: thread.thread, test, resolve }));
  }

  private emit(reply: Reply, message: PostedMessage): void {
    const hit = this.waiters.findIndex((w) => w.thread === message.thread.thread && w.test(reply));
    if (hit >= 0) this.waiters.splice(hit, 1)[0]!.resolve({ reply, message });
  }
}

function contextText(reply: Reply): string {
  return reply.parts.map((p) => (p.type === 'context' ? p.text : '')).join(' ');
}

function msIn(text: string, label: string): number {
  const m = new RegExp(`${label} ([\\d.]+) (ms|s)`).exec(text);
  return m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : 0;
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const services = testServices();
const fake = new FakeAnthropicServer({ apiKey: 'sk-bench' });
const { url } = await fake.start();
fake.setFallback(() =>
  toolUseReply('SELECT country, count(*) AS customers FROM customers GROUP BY country ORDER BY 2 DESC'),
);
const dir = mkdtempSync(join(tmpdir(), 'threadql-bench-'));
writeFileSync(join(dir, 'threadql.yml'), 'connections: []\n');
const config = await loadConfig({
  MONGODB_URI: `${services.mongodbUri.replace(/\/[^/?]*(\?.*)?$/, `/bench_pipeline_${process.pid}`)}?monitorCommands=true`,
  REDIS_URL: services.redisUrl,
  ANTHROPIC_API_KEY: 'sk-bench',
  ANTHROPIC_BASE_URL: url,
  THREADQL_DATA_DIR: dir,
  THREADQL_CONFIG: join(dir, 'threadql.yml'),
  THREADQL_MASTER_KEY: 'passphrase:bench',
});
// What the bot logs at warn and above (a chart that failed, a write refused) is kept for the summary lines.
const problems: string[] = [];
const logged = new PassThrough();
logged.on('data', (chunk: Buffer) => {
  for (const line of chunk.toString('utf8').trim().split('\n')) {
    const { msg, err } = JSON.parse(line) as { msg: string; err?: { message?: string } };
    problems.push(err?.message ? `${msg}: ${err.message}` : msg);
  }
});
const threadql = await createThreadql({
  config,
  logger: createLogger('warn', logged),
  pathList: pathList(),
  erdBrowser: false,
});
// Round-trip counters: the store's commands (driver command monitoring) and Redis commands. Store commands sent
// by the writes that follow the replies (write-behind-session-store.ts) are counted apart: no turn waits for them.
const counts = { store: 0, redis: 0, behind: 0 };
const storeCommands = new Map<string, number>();
threadql.store.getClient().on('commandStarted', (event: { commandName: string }) => {
  if (writingBehind.getStore()) counts.behind++;
  else counts.store++;
  if (TRACE)
    console.log(
      `    store${writingBehind.getStore() ? ' (behind)' : ''} ${event.commandName} ${JSON.stringify((event as unknown as { command: Record<string, unknown> }).command[event.commandName])}`,
    );
  storeCommands.set(event.commandName, (storeCommands.get(event.commandName) ?? 0) + 1);
});
const sendCommand = threadql.redis.sendCommand.bind(threadql.redis);
threadql.redis.sendCommand = ((...args: Parameters<typeof sendCommand>) => {
  counts.redis++;
  if (TRACE) console.log(`    redis ${(args[0] as { name: string }).name}`);
  return sendCommand(...args);
}) as typeof sendCommand;
const snapshot = () => ({ ...counts });
const since = (from: typeof counts) => ({
  store: counts.store - from.store,
  redis: counts.redis - from.redis,
  behind: counts.behind - from.behind,
});
type Trips = ReturnType<typeof since>;
const phases: { card: Trips; table: Trips; after: Trips }[] = [];

const platform = new BenchPlatform();
const handlers = threadql.engine.handlersFor(platform);

const overheads: number[] = [];
/** The overhead split: question → card (less the LLM), Run click → table (less the query). */
const cardOverheads: number[] = [];
const tableOverheads: number[] = [];
const totals: number[] = [];
const charts: number[] = [];
let chartsMissing = 0;
let turn = 0;

async function oneTurn(threadNo: number): Promise<void> {
  const n = ++turn;
  const thread: ThreadRef = {
    platform: 'shell',
    workspace: 'bench',
    channel: 'c',
    thread: `${RUN}-t${threadNo}-${n}`,
  };
  const user = { platform: 'shell' as const, workspace: 'bench', user: `u${threadNo}` };
  const start = performance.now();
  const atStart = snapshot();
  const card = platform.waitFor(thread, (r) =>
    r.parts.some((p) => p.type === 'buttons' && p.buttons[0]?.action === 'run'),
  );
  const onMessageDone = handlers.onMessage({
    id: `${RUN}-m${n}`,
    thread,
    user,
    text: 'customers per country?',
    receivedAt: new Date(),
  });
  const { reply, message } = await card;
  const cardAt = performance.now();
  const toCard = since(atStart);
  const atClick = snapshot();
  const token = reply.parts.flatMap((p) => (p.type === 'buttons' ? p.buttons : []))[0]!.value;
  const result = platform.waitFor(thread, (r) => r.parts.some((p) => p.type === 'table'));
  // A chart that fails is logged, not shown: the turn ends without one (counted, with the logged reason).
  let chartShown: number | undefined;
  void platform
    .waitFor(thread, (r) => r.parts.some((p) => p.type === 'image'))
    .then(() => (chartShown = performance.now()));
  // The click's handler goes on after the table (settling the card, history, the chart): time the table.
  const clicked = handlers.onButton({
    id: `${RUN}-c${n}`,
    thread,
    message,
    user,
    action: 'run',
    value: token,
  });
  const done = await result;
  const total = performance.now() - start;
  const toTable = since(atClick);
  const atTable = snapshot();
  const llm = msIn(contextText(reply), 'LLM');
  const db = msIn(contextText(done.reply), 'query');
  totals.push(total);
  overheads.push(total - llm - db);
  cardOverheads.push(cardAt - start - llm);
  tableOverheads.push(start + total - cardAt - db);
  await clicked;
  await onMessageDone;
  if (chartShown === undefined) {
    platform.forget(thread);
    chartsMissing++;
  } else charts.push(chartShown - start - total);
  phases.push({ card: toCard, table: toTable, after: since(atTable) });
}

function reset(): void {
  phases.length = 0;
  overheads.length = 0;
  cardOverheads.length = 0;
  tableOverheads.length = 0;
  totals.length = 0;
  charts.length = 0;
  chartsMissing = 0;
  problems.length = 0;
}

/** Runs `turns` turns spread over `threads` concurrent threads and prints the figures. */
async function measure(threads: number, turns: number): Promise<void> {
  reset();
  const atBegin = snapshot();
  storeCommands.clear();
  const elu = performance.eventLoopUtilization();
  const began = performance.now();
  await Promise.all(
    Array.from({ length: threads }, async (_, t) => {
      for (let i = 0; i < turns / threads; i++) await oneTurn(t + 1);
    }),
  );
  const wall = performance.now() - began;
  const busy = performance.eventLoopUtilization(elu);
  console.log(`${threads} thread(s) in flight, ${overheads.length} turns (question → card → Run → table):`);
  console.log(
    `  overhead excl. LLM and DB: p50 ${pct(overheads, 50).toFixed(1)} ms, p99 ${pct(overheads, 99).toFixed(1)} ms`,
  );
  console.log(
    `    of which question → card (less LLM): p50 ${pct(cardOverheads, 50).toFixed(1)} ms, p99 ${pct(cardOverheads, 99).toFixed(1)} ms; ` +
      `Run → table (less query): p50 ${pct(tableOverheads, 50).toFixed(1)} ms, p99 ${pct(tableOverheads, 99).toFixed(1)} ms`,
  );
  console.log(
    `  chart PNG after the table (worker pool): p50 ${pct(charts, 50).toFixed(1)} ms, p99 ${pct(charts, 99).toFixed(1)} ms` +
      (chartsMissing
        ? `; ${chartsMissing} turn(s) ended without a chart (${problems.at(-1) ?? 'nothing logged'})`
        : ''),
  );
  console.log(
    `  whole turn incl. fake LLM: p50 ${pct(totals, 50).toFixed(1)} ms, p99 ${pct(totals, 99).toFixed(1)} ms; ${((overheads.length / wall) * 1000).toFixed(1)} turns/s`,
  );
  console.log(
    `  bot event-loop busy time per turn: ${(busy.active / overheads.length).toFixed(1)} ms (${(busy.utilization * 100).toFixed(0)}% of the loop)`,
  );
  if (problems.length)
    console.log(`  the bot logged ${problems.length} warning(s) or error(s); the last: ${problems.at(-1)}`);
  const all = since(atBegin);
  const perTurn = (n: number) => (n / overheads.length).toFixed(1);
  console.log(
    `  round trips per turn, all phases: store ${perTurn(all.store)} in turns + ${perTurn(all.behind)} written behind the replies, Redis ${perTurn(all.redis)} ` +
      `(store commands: ${[...storeCommands].map(([k, v]) => `${k} ${perTurn(v)}`).join(', ')})`,
  );
  if (threads === 1) {
    const med = (pick: (p: (typeof phases)[number]) => number) => pct(phases.map(pick), 50);
    console.log(
      `  round trips per turn by phase (median): before the card: store ${med((p) => p.card.store)}, Redis ${med((p) => p.card.redis)}; ` +
        `click → table: store ${med((p) => p.table.store)}, Redis ${med((p) => p.table.redis)}; ` +
        `after the table (chart, history, audit): store ${med((p) => p.after.store)}, Redis ${med((p) => p.after.redis)}; ` +
        `written behind the replies: store ${med((p) => p.card.behind + p.table.behind + p.after.behind)}`,
    );
    const critical = Math.max(
      med((p) => p.card.store),
      med((p) => p.table.store),
    );
    reportMeasure({
      measure: "Store round trips before a turn's reply (card; table)",
      figure: `${med((p) => p.card.store)}; ${med((p) => p.table.store)} (Redis ${med((p) => p.card.redis)}; ${med((p) => p.table.redis)}); after the reply: ${med((p) => p.after.store)}`,
      target: '≤ 4',
      met: critical <= 4,
      note: `median of ${phases.length} turns, one thread in flight; per turn in all: ${perTurn(all.store)} in the turn's path, ${perTurn(all.behind)} written behind the replies`,
    });
  }
  if (threads === THREADS) {
    const p50 = pct(overheads, 50);
    const p99 = pct(overheads, 99);
    reportMeasure({
      measure: `Bot overhead per turn, ${threads} threads in flight (FerretDB)`,
      figure: `p50 ${p50.toFixed(1)} ms / p99 ${p99.toFixed(1)} ms`,
      target: 'p50 ≤ 40 ms, p99 ≤ 300 ms',
      met: p50 <= 40 && p99 <= 300,
      note: `${overheads.length} turns; ${machineLoad()}`,
    });
  }
}

// Warm up (JIT, pools, schema cache); then one thread alone, then 20 in flight (closed loop: each thread
// starts its next turn at once, so 20 turns always compete for the two cores with the databases and charts).
for (let i = 0; i < 10; i++) await oneTurn(0);
console.log(
  'target (DESIGN §7, FerretDB on 2 cores): overhead p50 ≤ 40 ms, p99 ≤ 300 ms with 20 threads in flight; ≤ 4 store round trips before the first reply',
);
await measure(1, Math.min(40, TURNS));
await measure(THREADS, TURNS);
await threadql.engine.idle();
await threadql.store.dropDatabase();
await threadql.close();
await fake.close();
