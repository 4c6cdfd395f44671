import { appendHistory, HISTORY_CAP, historyKey, lastHistory } from '../../models/query-history.ts';
import { findOrCreateSession } from '../../models/query-session.ts';
import { openModelStore, type ModelStore } from './model-store.ts';

let store: ModelStore;
beforeAll(async () => {
  store = await openModelStore('models_history_cap');
});
afterAll(async () => {
  await store.close();
});

describe('the default history cap of 10,000 entries per session', () => {
  it('entry 10,001 deletes entry 1 and keeps exactly 10,000', async () => {
    const { QueryHistory, QuerySession } = store.models;
    const thread = { platform: 'slack' as const, workspace: 'T1', channel: 'C1', thread: '10k' };
    const session = await findOrCreateSession(QuerySession, thread, { question: 'long conversation' });
    const other = await findOrCreateSession(
      QuerySession,
      { ...thread, thread: 'other' },
      { question: 'neighbour' },
    );
    await appendHistory(store.models, other._id, { type: 'query', userInput: 'must survive' });

    const start = new Date('2025-01-01T00:00:00Z').getTime();
    const entries = Array.from({ length: HISTORY_CAP }, (_, i) => ({
      _id: historyKey(session._id, i + 1),
      session: session._id,
      sequence: i + 1,
      type: 'query',
      userInput: `question ${i + 1}`,
      generatedSql: `SELECT ${i + 1}`,
      executionStatus: 'success',
      createdAt: new Date(start + i * 1000),
    }));
    await QueryHistory.insertMany(entries, { lean: true });
    await QuerySession.updateOne({ _id: session._id }, { $set: { historySeq: HISTORY_CAP } });
    expect(await QueryHistory.countDocuments({ session: session._id })).toBe(10_000);

    const newest = await appendHistory(store.models, session._id, {
      type: 'query',
      userInput: 'question 10001',
    });
    expect(newest.sequence).toBe(10_001);
    expect(await QueryHistory.findById(historyKey(session._id, 1)).lean()).toBeNull();
    expect(await QueryHistory.findById(historyKey(session._id, 2)).lean()).not.toBeNull();
    expect(await QueryHistory.countDocuments({ session: session._id })).toBe(10_000);
    expect(await QueryHistory.countDocuments({ session: other._id })).toBe(1);

    const last = await lastHistory(store.models, session._id, 100);
    expect(last.map((e) => e.sequence)).toEqual(Array.from({ length: 100 }, (_, i) => 9_902 + i));
    expect(last.at(-1)!.userInput).toBe('question 10001');
  });
});
