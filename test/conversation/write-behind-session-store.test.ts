/**
 * WriteBehindSessionStore over the real MongoSessionStore (MongoDB wire): sequence numbers handed out at once and
 * written behind, read-your-writes, per-thread order, another writer taking a predicted number, and a failed
 * write that is logged with its content without holding up the writes after it.
 */
import { PassThrough } from 'node:stream';
import type { ThreadRef, UserRef } from '../../core/conversation/chat-platform.ts';
import type { HistoryEntryInput, SessionStore } from '../../core/conversation/engine-ports.ts';
import { MongoSessionStore } from '../../core/conversation/mongo-session-store.ts';
import {
  WriteBehindSessionStore,
  writingBehind,
} from '../../core/conversation/write-behind-session-store.ts';
import { createLogger } from '../../core/logger.ts';
import { connectStore } from '../../core/store/connect-store.ts';
import { isolatedMongoUri } from '../support/services.ts';

let store: Awaited<ReturnType<typeof connectStore>>;
let sessions: MongoSessionStore;
const run = Math.random().toString(36).slice(2, 8);
let threads = 0;

beforeAll(async () => {
  store = await connectStore(isolatedMongoUri('write-behind'));
  sessions = await MongoSessionStore.create(store, { connections: [], masterKey: 'passphrase:wb-test' });
});
afterAll(async () => {
  await store.dropDatabase().catch(() => {});
  await store.close();
});

const user: UserRef = { platform: 'shell', workspace: 'w', user: 'u1' };
const thread = (): ThreadRef => ({
  platform: 'shell',
  workspace: 'w',
  channel: 'c',
  thread: `${run}-${++threads}`,
});
const entry = (userInput: string, extra: Partial<HistoryEntryInput> = {}): HistoryEntryInput => ({
  type: 'query',
  userInput,
  userKey: 'shell:w:u1',
  status: 'awaiting_confirmation',
  ...extra,
});

/** The real session store with some of its methods replaced (a gate in front of a write, a log of calls). */
function storeWith(overrides: Partial<SessionStore>): SessionStore {
  return {
    openSession: (...args) => sessions.openSession(...args),
    findSession: (t) => sessions.findSession(t),
    setConnection: (id, name) => sessions.setConnection(id, name),
    recordFeedback: (input) => sessions.recordFeedback(input),
    appendHistory: (id, e, hint) => sessions.appendHistory(id, e, hint),
    audit: (event) => sessions.audit(event),
    ...overrides,
  };
}

/** The store behind a write-behind wrapper, with the log lines it wrote. */
function writeBehind(inner: SessionStore = sessions, options: { maxPending?: number } = {}) {
  const lines: string[] = [];
  const out = new PassThrough();
  out.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').trim().split('\n')));
  const logged = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    store: new WriteBehindSessionStore(inner, { logger: createLogger('warn', out), ...options }),
    logged,
  };
}

async function entries(sessionId: string) {
  return sessions.models.QueryHistory.find({ session: sessionId })
    .sort({ sequence: 1 })
    .lean<{ sequence: number; userInput: string; executionStatus: string }[]>();
}

describe('WriteBehindSessionStore', () => {
  it('hands out sequence numbers at once and writes the entries behind, in order', async () => {
    const { store: wb } = writeBehind();
    const session = await wb.openSession(thread(), user, 'sample', 'first question');
    const numbers = [
      await wb.appendHistory(session.id, entry('one')),
      await wb.appendHistory(session.id, entry('two', { status: 'success', resultCount: 3 })),
      await wb.appendHistory(session.id, entry('three', { type: 'clarification', status: 'clarification' })),
    ];
    expect(numbers).toEqual([1, 2, 3]);
    await wb.idle();
    expect((await entries(session.id)).map((e) => [e.sequence, e.userInput, e.executionStatus])).toEqual([
      [1, 'one', 'pending'],
      [2, 'two', 'success'],
      [3, 'three', 'skipped'],
    ]);
  });

  it('writes behind the caller: appendHistory and audit return while the store is still writing', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let historyStarted!: () => void;
    const started = new Promise<void>((resolve) => (historyStarted = resolve));
    const calls: string[] = [];
    const inner = storeWith({
      appendHistory: async (id, e, hint) => {
        calls.push(`history ${e.userInput}, behind: ${writingBehind.getStore() === true}`);
        historyStarted();
        await gate;
        return sessions.appendHistory(id, e, hint);
      },
      audit: async (event) => {
        calls.push(`audit ${event.action}`);
        return sessions.audit(event);
      },
    });
    const { store: wb } = writeBehind(inner);
    const session = await wb.openSession(thread(), user, 'sample', 'q');
    expect(await wb.appendHistory(session.id, entry('q'))).toBe(1);
    await wb.audit({ action: 'query.run', actorKey: 'shell:w:u1', threadKey: session.threadKey });
    // Both returned while the history write waits at the gate; the audit event queues behind it.
    await started;
    expect(calls).toEqual(['history q, behind: true']);
    open();
    await wb.idle();
    expect(calls).toEqual(['history q, behind: true', 'audit query.run']);
    expect((await entries(session.id)).map((e) => e.userInput)).toEqual(['q']);
    expect(await sessions.models.AuditEvent.countDocuments({ thread: session.threadKey })).toBe(1);
  });

  it('makes the caller wait for its own write once more than maxPending writes wait (backpressure)', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const written: string[] = [];
    const inner = storeWith({
      audit: async (event) => {
        await gate;
        written.push(event.action);
      },
    });
    const { store: wb } = writeBehind(inner, { maxPending: 2 });
    const event = (action: string) => ({ action, actorKey: 'shell:w:u1', threadKey: `shell:w:c:${run}-bp` });
    await wb.audit(event('one'));
    await wb.audit(event('two'));
    // A third waiting write is one too many: this caller waits until its own write is done.
    let returned = false;
    const third = wb.audit(event('three')).then(() => (returned = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(returned).toBe(false);
    open();
    await third;
    expect(written).toEqual(['one', 'two', 'three']);
  });

  it("opens a new thread's session behind the caller, before its first entry, with what the caller saw", async () => {
    const { store: wb } = writeBehind();
    const t = thread();
    const session = await wb.openSession(t, user, 'sample', 'how many customers?');
    expect(session).toMatchObject({ connectionName: 'sample', recentTurns: [], nextSequence: 1 });
    expect(
      await wb.appendHistory(session.id, entry('how many customers?', { generatedSql: 'SELECT 1' })),
    ).toBe(1);
    await wb.idle();
    const stored = await sessions.findSession(t);
    expect(stored).toMatchObject({ id: session.id, connectionName: 'sample', nextSequence: 2 });
    expect(stored?.recentTurns).toEqual([
      { question: 'how many customers?', sql: 'SELECT 1', status: 'awaiting_confirmation' },
    ]);
  });

  it("reads a thread's session only after its pending writes: the LLM window includes the last turn", async () => {
    const { store: wb } = writeBehind();
    const t = thread();
    const session = await wb.openSession(t, user, 'sample', 'how many orders?');
    await wb.appendHistory(session.id, entry('how many orders?', { generatedSql: 'SELECT 1' }));
    const again = await wb.findSession(t);
    expect(again?.recentTurns.map((r) => r.question)).toEqual(['how many orders?']);
    expect(again?.nextSequence).toBe(2);
  });

  it('awaits the append when it cannot predict the number (a session this process has not read)', async () => {
    const t = thread();
    const session = await sessions.openSession(t, user, 'sample', 'q');
    await sessions.appendHistory(session.id, entry('written by another process'));
    const { store: wb } = writeBehind();
    expect(await wb.appendHistory(session.id, entry('mine'))).toBe(2);
    expect((await entries(session.id)).map((e) => e.userInput)).toEqual([
      'written by another process',
      'mine',
    ]);
  });

  it('lands on the next free number when another writer took the predicted one, and says so', async () => {
    const { store: wb, logged } = writeBehind();
    const t = thread();
    await sessions.openSession(t, user, 'sample', 'q');
    const session = (await wb.findSession(t))!;
    // Another replica writes the thread after this process read it.
    await sessions.appendHistory(session.id, entry('from another replica'));
    expect(await wb.appendHistory(session.id, entry('mine'))).toBe(1);
    await wb.idle();
    expect((await entries(session.id)).map((e) => [e.sequence, e.userInput])).toEqual([
      [1, 'from another replica'],
      [2, 'mine'],
    ]);
    expect(logged()).toEqual([
      expect.objectContaining({ level: 40, sessionId: session.id, predicted: 1, sequence: 2 }),
    ]);
    expect(await wb.appendHistory(session.id, entry('next'))).toBe(3);
  });

  it('logs a write the store refuses, with its content, and goes on with the next', async () => {
    const { store: wb, logged } = writeBehind();
    const t = thread();
    const session = await wb.openSession(t, user, 'sample', 'q');
    // QueryHistory refuses a userInput over 20,000 characters (schema validation).
    await wb.appendHistory(session.id, entry('x'.repeat(20_001)));
    await wb.audit({ action: 'query.run', actorKey: 'shell:w:u1', threadKey: session.threadKey });
    await wb.idle();
    const errors = logged().filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toBe('a history entry could not be written to the store');
    expect(JSON.stringify(errors[0]!.record)).toContain('x'.repeat(100));
    expect(await sessions.models.AuditEvent.countDocuments({ thread: session.threadKey })).toBe(1);
  });
});
