/**
 * The store going down under the session store, for real: a FerretDB of this test's own is stopped while history
 * entries and audit events are written. They land in the durable outbox (on disk), survive a restart of the
 * process (a new outbox claims the old file), and once the store is back they are replayed in order, keeping their
 * original times, exactly once, even when a replay is repeated.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection } from 'mongoose';
import type { ThreadRef, UserRef } from '../../core/conversation/chat-platform.ts';
import { MongoSessionStore } from '../../core/conversation/mongo-session-store.ts';
import { DurableOutbox } from '../../core/outbox/durable-outbox.ts';
import { OutboxedSessionStore } from '../../core/outbox/outboxed-session-store.ts';
import { DependencyBreakers } from '../../core/resilience/dependency-breakers.ts';
import { DependencyDownError } from '../../core/resilience/dependency-errors.ts';
import { connectStore } from '../../core/store/connect-store.ts';
import { OwnFerretDb } from './support/own-services.ts';

const thread: ThreadRef = { platform: 'slack', workspace: 'T1', channel: 'C1', thread: '1700000000.000100' };
const user: UserRef = { platform: 'slack', workspace: 'T1', user: 'U1' };
const userKey = 'slack:T1:U1';
const threadKey = 'slack:T1:C1:1700000000.000100';

let ferret: OwnFerretDb;
let store: Connection;
let mongo: MongoSessionStore;
const outboxDir = mkdtempSync(join(tmpdir(), 'threadql-fault-outbox-'));

/** An OutboxedSessionStore as createThreadql builds one, with short breaker timings. */
async function sessionStore(): Promise<{
  sessions: OutboxedSessionStore;
  outbox: DurableOutbox;
  breakers: DependencyBreakers;
}> {
  const breakers = new DependencyBreakers({
    settings: { store: { timeoutMs: 2_000, resetMs: 200, volumeThreshold: 1 } },
    probes: { store: () => mongo.ping() },
  });
  const outbox = await DurableOutbox.open({ dir: outboxDir });
  const sessions = new OutboxedSessionStore(mongo, outbox, breakers, { replayIntervalMs: 200 });
  sessions.start();
  return { sessions, outbox, breakers };
}

beforeAll(async () => {
  ferret = await OwnFerretDb.start();
  store = await connectStore(ferret.uri('outbox_fault'), { serverSelectionTimeoutMS: 2_000 });
  mongo = await MongoSessionStore.create(store, { connections: [], masterKey: 'passphrase:fault' });
});

afterAll(async () => {
  await store?.close();
  await ferret?.stop();
});

test('history and audit written while the store is down are kept on disk and replayed once it is back', async () => {
  const first = await sessionStore();
  const session = await first.sessions.openSession(thread, user, 'sample', 'how many orders?');
  const asked = await first.sessions.recordHistory(session.id, {
    type: 'query',
    userInput: 'how many orders?',
    userKey,
    generatedSql: 'SELECT count(*) FROM orders',
    status: 'awaiting_confirmation',
  });
  expect(asked).toEqual({ queued: false, sequence: 1 });

  await ferret.stop();
  const ran = await first.sessions.recordHistory(session.id, {
    type: 'query',
    userInput: 'how many orders?',
    userKey,
    generatedSql: 'SELECT count(*) FROM orders',
    status: 'success',
    resultCount: 1,
    executionMs: 3,
  });
  expect(ran).toEqual({ queued: true });
  expect(await first.sessions.recordAudit({ action: 'query.run', actorKey: userKey, threadKey })).toEqual({
    queued: true,
  });
  await first.sessions.audit({ action: 'turn.failed', actorKey: userKey, threadKey, detail: { n: 2 } });
  expect(first.sessions.queued).toBe(3);
  // What cannot be deferred fails fast, saying what is down.
  const read = await first.sessions.findSession(thread).catch((e: unknown) => e);
  expect(read).toBeInstanceOf(DependencyDownError);
  expect((read as DependencyDownError).message).toBe('My state store is unreachable right now.');

  // The process stops with the records still waiting (they are on disk) ...
  await first.sessions.close();
  await first.outbox.close();
  first.breakers.shutdown();
  const kept = first.outbox.pending();
  expect(kept.map((r) => r.kind)).toEqual(['history', 'audit', 'audit']);

  // ... and a new one starts before the store is back: it claims them and replays when the store returns.
  const second = await sessionStore();
  expect(second.sessions.queued).toBe(3);
  const drained = new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (second.sessions.queued === 0) {
        clearInterval(check);
        resolve();
      }
    }, 50);
  });
  await ferret.start();
  await drained;

  const history = await mongo.models.QueryHistory.find({ session: session.id }).sort({ sequence: 1 }).lean();
  expect(history.map((h) => [h.sequence, h.executionStatus, h.resultCount])).toEqual([
    [1, 'pending', null],
    [2, 'success', 1],
  ]);
  expect(history[1]!.writeId).toBe(kept[0]!.id);
  expect(history[1]!.createdAt.toISOString()).toBe(kept[0]!.at);
  const audit = await mongo.models.AuditEvent.find({ thread: threadKey }).sort({ at: 1, _id: 1 }).lean();
  expect(audit.map((a) => a.action)).toEqual(['query.run', 'turn.failed']);
  expect(audit.map((a) => a.at.toISOString())).toEqual([kept[1]!.at, kept[2]!.at]);
  const resumed = await second.sessions.findSession(thread);
  expect(resumed?.recentTurns.at(-1)).toMatchObject({ status: 'success', resultCount: 1 });

  // A replay repeated (the process died before marking the records done) changes nothing.
  const [h, a1] = kept;
  const again = await mongo.appendHistoryOnce(session.id, (h!.payload as { entry: never }).entry, {
    id: h!.id,
    at: new Date(h!.at),
    replay: true,
  });
  expect(again).toBe(2);
  await mongo.auditOnce(
    { action: 'query.run', actorKey: userKey, threadKey },
    { id: a1!.id, at: new Date(a1!.at) },
  );
  expect(await mongo.models.QueryHistory.countDocuments({ session: session.id })).toBe(2);
  expect(await mongo.models.AuditEvent.countDocuments({ thread: threadKey })).toBe(2);

  await second.sessions.close();
  await second.outbox.close();
  second.breakers.shutdown();
});

test('journal first: a staged record is on disk before its write, and a process that dies before writing it loses nothing', async () => {
  const session = await mongo.openSession(
    { ...thread, thread: '1700000000.000200' },
    user,
    'sample',
    'how many refunds?',
  );
  const first = await sessionStore();
  const write = await first.sessions.stageHistory(session.id, {
    type: 'query',
    userInput: 'how many refunds?',
    userKey,
    status: 'awaiting_confirmation',
  });
  // The audit event's write is never run: the process dies before it.
  await first.sessions.stageAudit({ action: 'query.asked', actorKey: userKey, threadKey });
  // Both are on disk before anything reaches the store: what a reply sent now could count on.
  expect(first.outbox.pending().map((r) => r.kind)).toEqual(['history', 'audit']);
  expect(await mongo.models.QueryHistory.countDocuments({ session: session.id })).toBe(0);
  // The history entry's write runs (behind the reply).
  expect(await write()).toBe(1);
  expect(first.outbox.pending().map((r) => r.kind)).toEqual(['audit']);
  // Dies: the file is closed as a killed process leaves it (no last replay).
  await first.outbox.close();
  await first.sessions.close();
  first.breakers.shutdown();
  expect(await mongo.models.AuditEvent.countDocuments({ thread: threadKey, action: 'query.asked' })).toBe(0);

  // The next run (or a replica sharing the data directory) replays what was left, once.
  const second = await sessionStore();
  await second.sessions.flush();
  expect(second.sessions.queued).toBe(0);
  expect(await mongo.models.AuditEvent.countDocuments({ thread: threadKey, action: 'query.asked' })).toBe(1);
  expect(await mongo.models.QueryHistory.countDocuments({ session: session.id })).toBe(1);
  await second.sessions.close();
  await second.outbox.close();
  second.breakers.shutdown();
});

test("journal first for a new thread: the session's opening travels with its first entry, so a replay creates it", async () => {
  const newThread = { ...thread, thread: '1700000000.000250' };
  const sessionId = 'slack:T1:C1:1700000000.000250';
  const first = await sessionStore();
  // The session's insert was still on its way (written behind the reply) when the process died.
  await first.sessions.stageHistory(
    sessionId,
    { type: 'query', userInput: 'how many invoices?', userKey, status: 'awaiting_confirmation' },
    {
      sequence: 1,
      open: { thread: newThread, user, connectionName: 'sample', question: 'how many invoices?' },
    },
  );
  await first.outbox.close();
  await first.sessions.close();
  first.breakers.shutdown();
  expect(await mongo.findSession(newThread)).toBeUndefined();

  const second = await sessionStore();
  await second.sessions.flush();
  expect(second.sessions.queued).toBe(0);
  expect(await mongo.findSession(newThread)).toMatchObject({
    id: sessionId,
    connectionName: 'sample',
    nextSequence: 2,
    recentTurns: [{ question: 'how many invoices?', status: 'awaiting_confirmation' }],
  });
  await second.sessions.close();
  await second.outbox.close();
  second.breakers.shutdown();
});

test('journal first with the store down: the write leaves the record, later records queue behind it, all replayed in order', async () => {
  const session = await mongo.openSession(
    { ...thread, thread: '1700000000.000300' },
    user,
    'sample',
    'how many returns?',
  );
  const running = await sessionStore();
  await ferret.stop();
  const entry = (status: string) => ({
    type: 'query' as const,
    userInput: 'how many returns?',
    userKey,
    status: status as 'success',
  });
  const down = await running.sessions.stageHistory(session.id, entry('awaiting_confirmation'));
  expect(await down()).toBe(0); // kept for the replay
  const behind = await running.sessions.stageHistory(session.id, entry('success'));
  expect(await behind()).toBe(0); // an older record waits: this one queues behind it
  expect(running.sessions.queued).toBe(2);
  await ferret.start();
  await eventuallyEmpty(running.sessions);
  const history = await mongo.models.QueryHistory.find({ session: session.id }).sort({ sequence: 1 }).lean();
  expect(history.map((h) => h.executionStatus)).toEqual(['pending', 'success']);
  await running.sessions.close();
  await running.outbox.close();
  running.breakers.shutdown();
});

async function eventuallyEmpty(sessions: OutboxedSessionStore): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (sessions.queued > 0) {
    if (Date.now() > deadline) throw new Error(`the outbox still holds ${sessions.queued} record(s)`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
