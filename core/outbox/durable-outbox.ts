/**
 * A durable local outbox: records that must reach a remote store (history, audit) but could not yet, kept in an
 * append-only JSON-lines file and delivered later, in the order they were added. `append` returns once the record
 * is on disk (fdatasync), so a crash or a SIGKILL after it loses nothing; `drain` hands records to a delivery
 * function oldest first and stops at the first one that must wait (order is kept), marking each delivered record
 * done. Delivery must be idempotent: a crash between delivering and marking done redelivers that record. Used as a
 * write-ahead journal too: a record appended before the reply and written by its own writer is `settle`d by it.
 *
 * One file per process (`outbox-<host>-<pid>-<nonce>.jsonl`), so replicas sharing a data directory never write one
 * file; at open, files of processes on this host that are no longer running are claimed (renamed, then copied
 * into this process's file), so a restart picks up what the previous run could not deliver.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';

export interface OutboxRecord<P = unknown> {
  /** Unique and stable across redeliveries: the delivery's idempotency key. */
  id: string;
  /** What the record is (`history`, `audit`, …): which handler delivers it. */
  kind: string;
  /** When it was first added (ISO); delivery keeps the original time. */
  at: string;
  payload: P;
}

/** `done`: delivered; `retry`: the target is unavailable, keep it and everything after it for later; `dead`: never deliverable. */
export type DeliveryOutcome = 'done' | 'retry' | { dead: string };

export interface DrainResult {
  delivered: number;
  dead: number;
  remaining: number;
}

export interface DurableOutboxOptions {
  /** Directory of the outbox files (created when missing). */
  dir: string;
  now?: () => Date;
  /** Whether a process id on this host is running (claiming a stopped process's file); default process.kill(pid, 0). */
  isRunning?: (pid: number) => boolean;
  /** Done markers tolerated in the file before it is rewritten with only pending records. Default 1000. */
  compactAfter?: number;
  /** Told whenever the number of pending records changes (metrics). */
  onDepth?: (depth: number) => void;
  /** Told about unreadable lines and dead letters (logs). */
  onProblem?: (message: string, detail: Record<string, unknown>) => void;
}

type Line =
  | { op: 'add'; record: OutboxRecord }
  | { op: 'done'; id: string }
  | { op: 'dead'; id: string; reason: string };

interface AppendBatch {
  lines: string[];
  records: OutboxRecord[];
  written: Promise<void>;
}

/** Nonces of the outboxes open in this process: a file of this pid with another nonce is from an earlier run. */
const OPEN_HERE = new Set<string>();

const FILE = /^outbox-(.+)-(\d+)-([0-9a-f]+)(\.claim-[0-9a-f]+)?\.jsonl$/;
const DEAD_LETTERS = 'dead-letters.jsonl';

function defaultIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Parses a file's lines into its pending records, in order; unreadable lines (a torn last write) are reported. */
function replayLines(
  text: string,
  report: (line: number) => void,
): { pending: OutboxRecord[]; markers: number } {
  const records = new Map<string, OutboxRecord>();
  let markers = 0;
  text.split('\n').forEach((raw, index) => {
    if (!raw.trim()) return;
    let line: Line;
    try {
      line = JSON.parse(raw) as Line;
    } catch {
      report(index + 1);
      return;
    }
    if (line.op === 'add') records.set(line.record.id, line.record);
    else {
      markers += 1;
      records.delete(line.id);
    }
  });
  return { pending: [...records.values()], markers };
}

/** See the file comment. Open with `DurableOutbox.open`, close with `close()`. */
export class DurableOutbox {
  readonly path: string;
  readonly #options: DurableOutboxOptions;
  readonly #now: () => Date;
  readonly #nonce: string;
  #handle: FileHandle;
  #pending: OutboxRecord[];
  #markers: number;
  #writes: Promise<void> = Promise.resolve();
  #draining: Promise<DrainResult> | undefined;
  /** Appends waiting for the write in progress to finish; written together next. */
  #batch: AppendBatch | undefined;
  #closed = false;

  private constructor(
    path: string,
    nonce: string,
    handle: FileHandle,
    pending: OutboxRecord[],
    markers: number,
    options: DurableOutboxOptions,
  ) {
    this.path = path;
    this.#nonce = nonce;
    this.#handle = handle;
    this.#pending = pending;
    this.#markers = markers;
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
  }

  /** Opens this process's outbox file in `dir`, first claiming the files of stopped processes on this host. */
  static async open(options: DurableOutboxOptions): Promise<DurableOutbox> {
    await mkdir(options.dir, { recursive: true });
    const host = hostname().replace(/[^A-Za-z0-9_.]/g, '_');
    const nonce = randomBytes(4).toString('hex');
    const name = `outbox-${host}-${process.pid}-${nonce}`;
    const path = join(options.dir, `${name}.jsonl`);
    const report = options.onProblem ?? (() => {});
    OPEN_HERE.add(nonce);
    const claimed = await claimOrphans(
      options.dir,
      host,
      nonce,
      options.isRunning ?? defaultIsRunning,
      report,
    );
    const handle = await open(path, 'a');
    if (claimed.length) {
      await handle.appendFile(claimed.map((r) => `${JSON.stringify({ op: 'add', record: r })}\n`).join(''));
      await handle.datasync();
    }
    const outbox = new DurableOutbox(path, nonce, handle, claimed, 0, options);
    // The claimed files are only removed once their records are safe in this process's file.
    await removeClaims(options.dir, name);
    outbox.#options.onDepth?.(claimed.length);
    return outbox;
  }

  /**
   * Takes over the files of processes on this host that have stopped since this outbox opened (a replica killed
   * next to this one, sharing the data directory): their records join this queue. Returns how many were taken.
   */
  async adoptOrphans(): Promise<number> {
    let adopted = 0;
    const host = hostname().replace(/[^A-Za-z0-9_.]/g, '_');
    const name = basename(this.path, '.jsonl');
    await this.#serial(async () => {
      if (this.#closed) return;
      const claimed = await claimOrphans(
        this.#options.dir,
        host,
        this.#nonce,
        this.#options.isRunning ?? defaultIsRunning,
        this.#options.onProblem ?? (() => {}),
      );
      const known = new Set(this.#pending.map((r) => r.id));
      const fresh = claimed.filter((r) => !known.has(r.id));
      if (fresh.length) {
        await this.#handle.appendFile(
          fresh.map((r) => `${JSON.stringify({ op: 'add', record: r })}\n`).join(''),
        );
        await this.#handle.datasync();
        this.#pending.push(...fresh);
      }
      await removeClaims(this.#options.dir, name);
      adopted = fresh.length;
    });
    if (adopted) this.#options.onDepth?.(this.#pending.length);
    return adopted;
  }

  /** Records not yet delivered. */
  get depth(): number {
    return this.#pending.length;
  }

  /** The pending records, oldest first. */
  pending(): readonly OutboxRecord[] {
    return [...this.#pending];
  }

  /**
   * Adds a record durably (on disk when this resolves); `id` defaults to a fresh UUID. Appends that arrive while
   * an earlier write is in progress share one write and one fdatasync (group commit).
   */
  async append<P>(kind: string, payload: P, id: string = randomUUID()): Promise<OutboxRecord<P>> {
    const record: OutboxRecord<P> = { id, kind, at: this.#now().toISOString(), payload };
    let batch = this.#batch;
    if (!batch) {
      const forming: AppendBatch = { lines: [], records: [], written: Promise.resolve() };
      // The push happens in the same serial step as the write, so a compaction never misses a written record.
      forming.written = this.#serial(async () => {
        if (this.#batch === forming) this.#batch = undefined; // later appends form the next batch
        if (this.#closed) throw new Error('the outbox is closed');
        await this.#handle.appendFile(forming.lines.join(''));
        await this.#handle.datasync();
        this.#pending.push(...forming.records);
      });
      this.#batch = batch = forming;
    }
    batch.lines.push(`${JSON.stringify({ op: 'add', record })}\n`);
    batch.records.push(record);
    await batch.written;
    this.#options.onDepth?.(this.#pending.length);
    return record;
  }

  /**
   * Marks one record delivered by its writer (a journal entry written to the store behind the reply), wherever it
   * is in the queue. Not synced: losing the marker only means one idempotent redelivery.
   */
  async settle(id: string): Promise<void> {
    await this.#write(`${JSON.stringify({ op: 'done', id })}\n`, () => this.#remove(id));
    this.#options.onDepth?.(this.#pending.length);
    // Not compacted at each settle (a journal empties after nearly every record): once markers pile up.
    if (this.#markers >= (this.#options.compactAfter ?? 1000)) await this.#compact();
  }

  /**
   * Delivers pending records oldest first until one answers `retry` (it and the rest stay, in order) or none are
   * left. Records added meanwhile are delivered in the same pass. One drain runs at a time; a second call joins it.
   */
  drain(deliver: (record: OutboxRecord) => Promise<DeliveryOutcome>): Promise<DrainResult> {
    this.#draining ??= this.#drain(deliver).finally(() => (this.#draining = undefined));
    return this.#draining;
  }

  /** Flushes pending file writes and closes the file (pending records stay on disk for the next run). */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#draining?.catch(() => {});
    await this.#writes;
    this.#closed = true;
    await this.#handle.close();
    OPEN_HERE.delete(this.#nonce);
  }

  async #drain(deliver: (record: OutboxRecord) => Promise<DeliveryOutcome>): Promise<DrainResult> {
    let delivered = 0;
    let dead = 0;
    while (this.#pending.length && !this.#closed) {
      const record = this.#pending[0]!;
      const outcome = await deliver(record);
      if (outcome === 'retry') break;
      // By id: the record's own writer may have settled it while it was being delivered here.
      const settle = () => this.#remove(record.id);
      if (outcome === 'done') {
        // Not synced one by one: losing a done marker only means one idempotent redelivery.
        await this.#write(`${JSON.stringify({ op: 'done', id: record.id })}\n`, settle);
        delivered += 1;
      } else {
        await this.#deadLetter(record, outcome.dead, settle);
        dead += 1;
      }
      this.#options.onDepth?.(this.#pending.length);
    }
    if (delivered + dead > 0) await this.#compact();
    return { delivered, dead, remaining: this.#pending.length };
  }

  async #deadLetter(record: OutboxRecord, reason: string, settle: () => void): Promise<void> {
    this.#options.onProblem?.('an outbox record cannot be delivered; kept in the dead-letter file', {
      id: record.id,
      kind: record.kind,
      reason,
    });
    const handle = await open(join(this.#options.dir, DEAD_LETTERS), 'a');
    try {
      await handle.appendFile(`${JSON.stringify({ ...record, reason })}\n`);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await this.#write(`${JSON.stringify({ op: 'dead', id: record.id, reason })}\n`, settle);
  }

  /** Empty outbox: truncate. Many markers: rewrite the file with only the pending records (atomic rename). */
  async #compact(): Promise<void> {
    const limit = this.#options.compactAfter ?? 1000;
    if (this.#pending.length > 0 && this.#markers < limit) return;
    await this.#serial(async () => {
      if (this.#closed) return;
      if (this.#pending.length === 0) {
        await this.#handle.datasync();
        await this.#handle.truncate(0);
      } else {
        const temp = `${this.path}.tmp`;
        const out = await open(temp, 'w');
        try {
          await out.appendFile(
            this.#pending.map((r) => `${JSON.stringify({ op: 'add', record: r })}\n`).join(''),
          );
          await out.datasync();
        } finally {
          await out.close();
        }
        await this.#handle.close();
        await rename(temp, this.path);
        this.#handle = await open(this.path, 'a');
      }
      this.#markers = 0;
    });
  }

  #remove(id: string): void {
    const index = this.#pending.findIndex((r) => r.id === id);
    if (index >= 0) this.#pending.splice(index, 1);
    this.#markers += 1;
  }

  /** Appends a marker line (not synced: a lost marker only means one idempotent redelivery; records sync in append). */
  #write(text: string, then: () => void): Promise<void> {
    return this.#serial(async () => {
      if (this.#closed) throw new Error('the outbox is closed');
      await this.#handle.appendFile(text);
      then();
    });
  }

  #serial(work: () => Promise<void>): Promise<void> {
    const next = this.#writes.then(work);
    this.#writes = next.catch(() => {});
    return next;
  }
}

/** Renames every claimable file to a claim of ours, then reads their pending records in file-name order. */
async function claimOrphans(
  dir: string,
  host: string,
  ownNonce: string,
  isRunning: (pid: number) => boolean,
  report: (message: string, detail: Record<string, unknown>) => void,
): Promise<OutboxRecord[]> {
  const names = (await readdir(dir)).filter((n) => FILE.test(n)).sort();
  const records: OutboxRecord[] = [];
  for (const name of names) {
    const [, fileHost, pidText, nonce] = FILE.exec(name)!;
    const pid = Number(pidText);
    if (fileHost !== host) continue;
    // A file of our own pid is another outbox of this process, or one of an earlier run (containers reuse pid 1).
    const stopped = pid === process.pid ? !OPEN_HERE.has(nonce!) : !isRunning(pid);
    if (!stopped) continue;
    const claim = join(
      dir,
      `outbox-${host}-${process.pid}-${ownNonce}.claim-${randomBytes(3).toString('hex')}.jsonl`,
    );
    try {
      await rename(join(dir, name), claim);
    } catch (error) {
      // Another process claimed it first.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    const { pending } = replayLines(await readFile(claim, 'utf8'), (line) =>
      report('skipped an unreadable outbox line (a write cut short by a crash)', { file: name, line }),
    );
    records.push(...pending);
  }
  // The same record in two files (a claim interrupted after copying) is kept once.
  const seen = new Set<string>();
  return records.filter((r) => !seen.has(r.id) && seen.add(r.id));
}

async function removeClaims(dir: string, ownName: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.startsWith(`${ownName}.claim-`)) await unlink(join(dir, name)).catch(() => {});
  }
}
