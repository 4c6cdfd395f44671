import { HISTORY_TAIL_SIZE, TAIL_TRIM_EVERY } from '../../models/history-tail.ts';
import { appendHistory, historyKey, lastHistory } from '../../models/query-history.ts';
import { findOrCreateSession } from '../../models/query-session.ts';
import { openModelStore, type ModelStore } from './model-store.ts';

let store: ModelStore;
beforeAll(async () => {
  store = await openModelStore('models_tail');
});
afterAll(async () => {
  await store.close();
});

let threadNo = 0;
async function session() {
  threadNo += 1;
  const thread = { platform: 'slack' as const, workspace: 'T1', channel: 'C1', thread: `tail${threadNo}` };
  return findOrCreateSession(store.models.QuerySession, thread, { question: 'q' });
}

const ask = (n: number) => ({ type: 'query' as const, userInput: `question ${n}` });
const sequences = (entries: { sequence: number }[]) => entries.map((e) => e.sequence);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('HistoryTail: the newest entries in one document, proven against QueryHistory', () => {
  it('is kept on every append, trimmed to its size every few appends, and capped at the history cap', async () => {
    const s = await session();
    for (let n = 1; n <= HISTORY_TAIL_SIZE; n++) await appendHistory(store.models, s._id, ask(n));
    const tail = await store.models.HistoryTail.findById(s._id).lean();
    expect(sequences(tail!.entries)).toEqual(range(1, HISTORY_TAIL_SIZE));
    // Pushed without a read, and trimmed back to its size every TAIL_TRIM_EVERY appends.
    const last = HISTORY_TAIL_SIZE + TAIL_TRIM_EVERY;
    for (let n = HISTORY_TAIL_SIZE + 1; n <= last + 5; n++) await appendHistory(store.models, s._id, ask(n));
    const trimmed = await store.models.HistoryTail.findById(s._id).lean();
    expect(sequences(trimmed!.entries)).toEqual(range(last - HISTORY_TAIL_SIZE + 1, last + 5));
    expect(sequences(await lastHistory(store.models, s._id, 3))).toEqual(range(last + 3, last + 5));
    expect(sequences(await lastHistory(store.models, s._id, 100))).toEqual(range(last - 94, last + 5));

    const small = await session();
    for (let n = 1; n <= 12; n++) await appendHistory(store.models, small._id, ask(n), { cap: 10 });
    const smallTail = await store.models.HistoryTail.findById(small._id).lean();
    expect(sequences(smallTail!.entries)).toEqual(range(3, 12));
    expect(sequences(await lastHistory(store.models, small._id, 100))).toEqual(range(3, 12));
  });

  it('is not trusted when an entry newer than its end exists, and is rebuilt from QueryHistory', async () => {
    const s = await session();
    for (let n = 1; n <= 5; n++) await appendHistory(store.models, s._id, ask(n));
    // An append whose tail update was lost (e.g. two replicas racing): QueryHistory has 6, the tail ends at 5.
    await store.models.QueryHistory.create({
      _id: historyKey(s._id, 6),
      session: s._id,
      sequence: 6,
      ...ask(6),
    });
    expect(sequences(await lastHistory(store.models, s._id, 100))).toEqual(range(1, 6));
    const rebuilt = await store.models.HistoryTail.findById(s._id).lean();
    expect(sequences(rebuilt!.entries)).toEqual(range(1, 6));
  });

  it('is not trusted when it starts after entries that exist (a history written before the tail)', async () => {
    const s = await session();
    await store.models.QueryHistory.insertMany(
      range(1, 20).map((n) => ({ _id: historyKey(s._id, n), session: s._id, sequence: n, ...ask(n) })),
    );
    await store.models.HistoryTail.create({ _id: s._id, entries: [] });
    await store.models.HistoryTail.updateOne(
      { _id: s._id },
      {
        $set: {
          entries: await store.models.QueryHistory.find({ session: s._id, sequence: { $gt: 15 } })
            .sort({ sequence: 1 })
            .lean(),
        },
      },
    );
    expect(sequences(await lastHistory(store.models, s._id, 10))).toEqual(range(11, 20));
  });

  it('is not trusted with a gap, which concurrent appends can leave', async () => {
    const s = await session();
    await Promise.all(range(1, 30).map((n) => appendHistory(store.models, s._id, ask(n))));
    expect(sequences(await lastHistory(store.models, s._id, 100))).toEqual(range(1, 30));
    expect(sequences(await lastHistory(store.models, s._id, 100))).toEqual(range(1, 30));
  });
});
