/**
 * Slack ack latency: time from a signed Events API POST to the receiver's HTTP 200, with 20 threads in flight,
 * against the real Bolt app. The loopback Slack (fake Web API + the load generator) runs in a worker thread, so the
 * adapter's event loop is measured without the sender's and "Slack's" CPU on it. Each handler does slow work (a
 * 50 ms pause, then a reply posted to the fake) to show the ack never waits for it. Also reports delivery latency
 * (POST → onMessage called). Target (DESIGN §7): ack ≤ 100 ms always.   Run: npm run bench:slack
 */
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import type { IncomingMessage, PlatformHandlers } from '../core/conversation/chat-platform.ts';
import { SlackPlatform } from '../bot/slack/slack-platform.ts';
import { FakeSlackApi, eventCallback, postEvent } from '../test/fakes/fake-slack-api.ts';
import { CapturingLogger, appMention } from '../test/slack/slack-payloads.ts';

const SECRET = 'bench-signing-secret';
/** Events per thread; `npm run bench:slack -- 500` for a longer run. */
const EVENTS_PER_THREAD = Number(process.argv[2] ?? 100);
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
  return `  ${label.padEnd(36)} n=${String(s.length).padStart(5)}  p50 ${f(percentile(s, 50))} ms  p99 ${f(percentile(s, 99))} ms  max ${f(s.at(-1)!)} ms`;
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
}

if (isMainThread) {
  const worker = new Worker(new URL(import.meta.url));
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
} else {
  await loadWorker();
}
