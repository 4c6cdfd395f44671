/**
 * The durable outbox on a real file system: records survive the process (a fresh outbox claims the file of one that
 * is gone), are delivered oldest first and stop at the first that must wait, a torn last line (a write cut by a
 * crash) is skipped, undeliverable records go to the dead-letter file, and the file is compacted as it empties.
 */
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DurableOutbox, type OutboxRecord } from '../../core/outbox/durable-outbox.ts';

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'threadql-outbox-'));
}

const opened: DurableOutbox[] = [];
async function open(path: string, options: Partial<Parameters<typeof DurableOutbox.open>[0]> = {}) {
  const outbox = await DurableOutbox.open({ dir: path, ...options });
  opened.push(outbox);
  return outbox;
}
afterEach(async () => {
  for (const outbox of opened.splice(0)) await outbox.close();
});

test('records are delivered oldest first; a "retry" keeps it and everything after it, in order', async () => {
  const outbox = await open(dir());
  for (const n of [1, 2, 3, 4]) await outbox.append('audit', { n });
  const seen: number[] = [];
  const first = await outbox.drain(async (r) => {
    const n = (r.payload as { n: number }).n;
    if (n === 3) return 'retry';
    seen.push(n);
    return 'done';
  });
  expect(first).toEqual({ delivered: 2, dead: 0, remaining: 2 });
  expect(outbox.pending().map((r) => (r.payload as { n: number }).n)).toEqual([3, 4]);
  const second = await outbox.drain(async (r) => {
    seen.push((r.payload as { n: number }).n);
    return 'done';
  });
  expect(second).toEqual({ delivered: 2, dead: 0, remaining: 0 });
  expect(seen).toEqual([1, 2, 3, 4]);
  // Empty again: the file is truncated.
  expect(statSync(outbox.path).size).toBe(0);
});

test('a restarted process claims the records the stopped one left, keeping ids, times and order', async () => {
  const path = dir();
  const times = ['2026-01-01T10:00:00.000Z', '2026-01-01T10:00:01.000Z'];
  let i = 0;
  const first = await open(path, { now: () => new Date(times[i++]!) });
  const a = await first.append('history', { q: 'first' });
  const b = await first.append('audit', { q: 'second' });
  await first.close();
  // Make the file look like a process that is gone: "pid 4194303 is not running".
  const own = readdirSync(path).find((n) => n.endsWith('.jsonl'))!;
  const orphan = own.replace(/-(\d+)-([0-9a-f]+)\.jsonl$/, '-4194303-$2.jsonl');
  appendFileSync(join(path, orphan), readFileSync(join(path, own)));
  appendFileSync(join(path, own), '');

  const second = await open(path, { isRunning: (pid) => pid !== 4194303 });
  // The old file of this very process (same pid, closed) is claimed too; the two copies of a record count once.
  expect(second.pending().map((r: OutboxRecord) => [r.id, r.kind, r.at])).toEqual([
    [a.id, 'history', times[0]],
    [b.id, 'audit', times[1]],
  ]);
  expect(readdirSync(path).filter((n) => n.startsWith('outbox-'))).toEqual([second.path.split('/').pop()]);
});

test('a file of a running process on this host is left alone', async () => {
  const path = dir();
  const first = await open(path);
  await first.append('audit', { n: 1 });
  // The first outbox is still open and its process (this one) is running: a second outbox must not take it.
  const other = await open(path, { isRunning: () => true });
  expect(other.depth).toBe(0);
  expect(first.depth).toBe(1);
});

test('a torn last line (a crash mid-write) is skipped and reported; the rest is recovered', async () => {
  const path = dir();
  const problems: string[] = [];
  const first = await open(path);
  await first.append('audit', { n: 1 });
  await first.close();
  const name = readdirSync(path).find((n) => n.endsWith('.jsonl'))!;
  appendFileSync(join(path, name), '{"op":"add","record":{"id":"x","kind":"au');
  const orphan = name.replace(/-(\d+)-/, '-4194302-');
  appendFileSync(join(path, orphan), readFileSync(join(path, name)));
  const second = await open(path, {
    isRunning: (pid) => pid !== 4194302,
    onProblem: (message) => problems.push(message),
  });
  // Both files (the copy and the closed original) hold the same record: it is recovered once.
  expect(second.pending().map((r) => r.payload)).toEqual([{ n: 1 }]);
  expect(problems.filter((p) => /unreadable outbox line/.test(p))).toHaveLength(2);
});

test('an undeliverable record goes to the dead-letter file and the queue moves on', async () => {
  const path = dir();
  const outbox = await open(path);
  await outbox.append('audit', { n: 1 });
  await outbox.append('mystery', { n: 2 });
  await outbox.append('audit', { n: 3 });
  const delivered: number[] = [];
  const result = await outbox.drain(async (r) => {
    if (r.kind === 'mystery') return { dead: 'unknown kind' };
    delivered.push((r.payload as { n: number }).n);
    return 'done';
  });
  expect(result).toEqual({ delivered: 2, dead: 1, remaining: 0 });
  expect(delivered).toEqual([1, 3]);
  const dead = readFileSync(join(path, 'dead-letters.jsonl'), 'utf8').trim().split('\n');
  expect(dead.map((l) => JSON.parse(l) as { kind: string; reason: string })).toEqual([
    expect.objectContaining({ kind: 'mystery', reason: 'unknown kind', payload: { n: 2 } }),
  ]);
});

test('many delivered records while some still wait: the file is rewritten with only those', async () => {
  const outbox = await open(dir(), { compactAfter: 3 });
  for (const n of [1, 2, 3, 4, 5]) await outbox.append('audit', { n });
  await outbox.drain(async (r) => ((r.payload as { n: number }).n <= 3 ? 'done' : 'retry'));
  const lines = readFileSync(outbox.path, 'utf8').trim().split('\n');
  expect(lines.map((l) => (JSON.parse(l) as { record: { payload: unknown } }).record.payload)).toEqual([
    { n: 4 },
    { n: 5 },
  ]);
  // Appends after the rewrite land in the new file.
  await outbox.append('audit', { n: 6 });
  expect(readFileSync(outbox.path, 'utf8').trim().split('\n')).toHaveLength(3);
});

test('records appended while a drain runs are delivered in the same pass, after the earlier ones', async () => {
  const outbox = await open(dir());
  await outbox.append('audit', { n: 1 });
  const seen: number[] = [];
  await outbox.drain(async (r) => {
    const n = (r.payload as { n: number }).n;
    seen.push(n);
    if (n === 1) await outbox.append('audit', { n: 2 });
    return 'done';
  });
  expect(seen).toEqual([1, 2]);
  expect(outbox.depth).toBe(0);
});

test('a running outbox takes over the file of a process that stopped next to it', async () => {
  const path = dir();
  const running = await open(path, { isRunning: (pid) => pid !== 4194300 });
  await running.append('audit', { mine: true });
  // A replica sharing the directory was killed with a record still waiting: its file, as it left it.
  const host = hostname().replace(/[^A-Za-z0-9_.]/g, '_');
  const orphan = join(path, `outbox-${host}-4194300-abcdef12.jsonl`);
  const record = { id: 'r-1', kind: 'history', at: '2026-01-01T10:00:00.000Z', payload: { n: 1 } };
  appendFileSync(orphan, `${JSON.stringify({ op: 'add', record })}\n`);

  expect(await running.adoptOrphans()).toBe(1);
  expect(running.pending().map((r) => r.id)).toEqual([running.pending()[0]!.id, 'r-1']);
  expect(existsSync(orphan)).toBe(false);
  expect(await running.adoptOrphans()).toBe(0);
  // Adopted records are this process's now: on disk in its own file.
  expect(readFileSync(running.path, 'utf8')).toContain('"id":"r-1"');
});

test('a journal record settled by its own writer leaves the queue from wherever it is, and survives no restart', async () => {
  const path = dir();
  const outbox = await open(path);
  const [a, b, c] = [
    await outbox.append('audit', { n: 1 }),
    await outbox.append('audit', { n: 2 }),
    await outbox.append('audit', { n: 3 }),
  ];
  await outbox.settle(b!.id);
  expect(outbox.pending().map((r) => r.id)).toEqual([a!.id, c!.id]);
  // A drain delivering a record its writer settles meanwhile removes that one, not its neighbour.
  const seen: string[] = [];
  await outbox.drain(async (r) => {
    seen.push(r.id);
    if (r.id === a!.id) await outbox.settle(a!.id);
    return 'done';
  });
  expect(seen).toEqual([a!.id, c!.id]);
  expect(outbox.depth).toBe(0);
  await outbox.append('audit', { n: 4 }).then((r) => outbox.settle(r.id));
  await outbox.close();
  const reopened = await open(path, { isRunning: () => false });
  await reopened.adoptOrphans();
  expect(reopened.depth).toBe(0);
});

test('appends made at once share writes (group commit) and all survive, in the order they were made', async () => {
  const path = dir();
  const outbox = await open(path);
  const made = await Promise.all(Array.from({ length: 50 }, (_, n) => outbox.append('audit', { n })));
  expect(outbox.pending().map((r) => r.id)).toEqual(made.map((r) => r.id));
  await outbox.close();
  const reopened = await open(path, { isRunning: () => false });
  await reopened.adoptOrphans();
  expect(reopened.pending().map((r) => (r.payload as { n: number }).n)).toEqual(made.map((_, n) => n));
});
