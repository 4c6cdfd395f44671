import { appendHistory, HISTORY_CAP, lastHistory, pruneHistory } from '../../models/query-history.ts';
import { findOrCreateSession, transitionSession } from '../../models/query-session.ts';
import { openModelStore, type ModelStore } from './model-store.ts';

let store: ModelStore;
beforeAll(async () => {
  store = await openModelStore('models_history');
});
afterAll(async () => {
  await store.close();
});

let threadNo = 0;
async function newSession() {
  threadNo += 1;
  const thread = { platform: 'discord' as const, workspace: 'G1', channel: 'C1', thread: `T${threadNo}` };
  return findOrCreateSession(store.models.QuerySession, thread, { question: 'how many orders?' });
}

describe('appendHistory', () => {
  it('appends entries with sequence 1, 2, 3 and counts queries and tokens on the session', async () => {
    const s = await newSession();
    const a = await appendHistory(store.models, s._id, {
      type: 'query',
      userInput: 'how many orders?',
      generatedSql: 'SELECT count(*) FROM orders',
      executionStatus: 'success',
      resultCount: 1,
      executionMs: 12,
      tokenCount: 85,
    });
    const b = await appendHistory(store.models, s._id, {
      type: 'clarification',
      userInput: 'which year?',
      tokenCount: 15,
    });
    const c = await appendHistory(store.models, s._id, {
      type: 'query',
      userInput: 'in 2024',
      tokenCount: 100,
    });
    expect([a.sequence, b.sequence, c.sequence]).toEqual([1, 2, 3]);
    expect(a._id).toBe(`${s._id}:1`);
    expect(a.createdAt).toBeInstanceOf(Date);
    const session = await store.models.QuerySession.findById(s._id).lean();
    expect(session).toMatchObject({ historySeq: 3, queryCount: 2, tokenUsage: 200 });
    expect((await lastHistory(store.models, s._id, 2)).map((e) => e.userInput)).toEqual([
      'which year?',
      'in 2024',
    ]);
  });

  it('refuses an entry that fails validation, without using up a sequence number', async () => {
    const s = await newSession();
    await expect(
      appendHistory(store.models, s._id, { type: 'guess' as never, userInput: 'x' }),
    ).rejects.toThrow(/type/);
    const ok = await appendHistory(store.models, s._id, { type: 'query', userInput: 'x' });
    expect(ok.sequence).toBe(1);
    await expect(
      appendHistory(store.models, 'discord:G1:C1:nope', { type: 'query', userInput: 'x' }),
    ).rejects.toMatchObject({ code: 'not_found' });
  });

  it('50 concurrent appends to one session: none lost, distinct gap-free sequence numbers', async () => {
    const s = await newSession();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        appendHistory(store.models, s._id, { type: 'query', userInput: `question ${i}` }),
      ),
    );
    const sequences = results.map((r) => r.sequence).sort((x, y) => x - y);
    expect(sequences).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const stored = await lastHistory(store.models, s._id, 100);
    expect(stored.map((e) => e.sequence)).toEqual(sequences);
    expect(new Set(stored.map((e) => e.userInput)).size).toBe(50);
    // The session's counter is a hint (FerretDB's $max/$inc are not atomic); it never runs ahead of the truth.
    const session = await store.models.QuerySession.findById(s._id).lean();
    expect(session!.historySeq).toBeLessThanOrEqual(50);
    const next = await appendHistory(store.models, s._id, { type: 'query', userInput: 'after the storm' });
    expect(next.sequence).toBe(51);
  });

  it('keeps the newest `cap` entries: each append past the cap drops the oldest', async () => {
    const s = await newSession();
    for (let i = 1; i <= 25; i++)
      await appendHistory(store.models, s._id, { type: 'query', userInput: `q${i}` }, { cap: 25 });
    expect(await store.models.QueryHistory.countDocuments({ session: s._id })).toBe(25);
    await appendHistory(store.models, s._id, { type: 'query', userInput: 'q26' }, { cap: 25 });
    const kept = await lastHistory(store.models, s._id, 100);
    expect(kept).toHaveLength(25);
    expect(kept[0]!.sequence).toBe(2);
    expect(kept.at(-1)!.userInput).toBe('q26');
    for (let i = 27; i <= 30; i++)
      await appendHistory(store.models, s._id, { type: 'query', userInput: `q${i}` }, { cap: 25 });
    const later = await lastHistory(store.models, s._id, 100);
    expect(later.map((e) => e.sequence)).toEqual(Array.from({ length: 25 }, (_, i) => i + 6));
    // pruneHistory trims what a lowered cap leaves behind.
    expect(await pruneHistory(store.models, s._id, 10)).toBe(15);
    expect((await lastHistory(store.models, s._id, 100)).map((e) => e.sequence)).toEqual(
      Array.from({ length: 10 }, (_, i) => i + 21),
    );
    expect(HISTORY_CAP).toBe(10_000);
  });

  it('re-activates an archived session on new activity', async () => {
    const s = await newSession();
    await transitionSession(store.models, s._id, 'archived');
    const when = new Date('2030-01-01T00:00:00Z');
    await appendHistory(store.models, s._id, { type: 'query', userInput: 'back again' }, { now: when });
    const session = await store.models.QuerySession.findById(s._id).lean();
    expect(session).toMatchObject({ status: 'active', archivedAt: null, lastActivityAt: when });
  });
});

describe('history entries are immutable', () => {
  it('refuses every update and replace, and saving a loaded entry', async () => {
    const s = await newSession();
    const e = await appendHistory(store.models, s._id, {
      type: 'query',
      userInput: 'original',
      generatedSql: 'SELECT 1',
    });
    const { QueryHistory } = store.models;
    const attempts = [
      () => QueryHistory.updateOne({ _id: e._id }, { $set: { generatedSql: 'DROP TABLE x' } }),
      () => QueryHistory.updateMany({ session: s._id }, { $set: { userInput: 'rewritten' } }),
      () => QueryHistory.findOneAndUpdate({ _id: e._id }, { userInput: 'rewritten' }),
      () => QueryHistory.findByIdAndUpdate(e._id, { $inc: { tokenCount: 1 } }),
      () => QueryHistory.replaceOne({ _id: e._id }, { ...e, userInput: 'rewritten' }),
      () => QueryHistory.findOneAndReplace({ _id: e._id }, { ...e, userInput: 'rewritten' }),
      () =>
        QueryHistory.bulkWrite([
          { updateOne: { filter: { _id: e._id }, update: { $set: { userInput: 'rewritten' } } } },
        ]),
    ];
    for (const attempt of attempts)
      await expect(attempt()).rejects.toMatchObject({ code: 'illegal_transition' });
    const loaded = await QueryHistory.findById(e._id);
    loaded!.userInput = 'rewritten';
    await expect(loaded!.save()).rejects.toThrow(/immutable/);
    expect((await QueryHistory.findById(e._id).lean())!.userInput).toBe('original');
  });
});
