import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerReply, WorkerRequest } from './sqlite-worker.ts';

const WORKER_PATH = fileURLToPath(new URL('./sqlite-worker.ts', import.meta.url));

/** Why a request failed without a reply from SQLite: the time limit killed the process, or it died. */
export class WorkerGone extends Error {
  readonly reason: 'timeout' | 'exited' | 'closed';
  constructor(reason: 'timeout' | 'exited' | 'closed', message: string) {
    super(message);
    this.reason = reason;
  }
}

/** An error SQLite (or better-sqlite3) reported from inside the worker. */
export class WorkerQueryError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined) {
    super(message);
    this.code = code;
  }
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout };
type Op = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

/** One forked SQLite worker process; requests are answered in order; a request over its time limit kills it. */
export class SqliteWorker {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #gone: WorkerGone | undefined;

  constructor(file: string) {
    this.#child = fork(WORKER_PATH, [file], {
      serialization: 'advanced',
      execArgv: ['--no-warnings'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    this.#child.on('message', (reply: WorkerReply) => this.#settle(reply));
    this.#child.on('exit', () =>
      this.#fail(this.#gone ?? new WorkerGone('exited', 'the SQLite worker process exited')),
    );
    this.#child.on('error', () => {});
    this.#idle();
  }

  get alive(): boolean {
    return this.#gone === undefined;
  }

  /** Sends one request; rejects with WorkerGone('timeout') and kills the process when it takes over `timeoutMs`. */
  request<T>(op: Op, timeoutMs: number): Promise<T> {
    if (this.#gone) return Promise.reject(this.#gone);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => this.kill(new WorkerGone('timeout', `the statement ran longer than ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.#child.channel?.ref();
      this.#child.send({ ...op, id } as WorkerRequest);
    });
  }

  /** Kills the process (SIGKILL stops even a native SQLite step) and fails whatever was pending. */
  kill(reason: WorkerGone = new WorkerGone('closed', 'the SQLite connection is closed')): void {
    if (this.#gone) return;
    this.#gone = reason;
    this.#child.kill('SIGKILL');
    this.#fail(reason);
  }

  #settle(reply: WorkerReply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    clearTimeout(pending.timer);
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(new WorkerQueryError(reply.error.message, reply.error.code));
    this.#idle();
  }

  #fail(error: WorkerGone): void {
    this.#gone ??= error;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
  }

  /** An idle worker must not keep the bot (or a test run) alive. */
  #idle(): void {
    if (this.#pending.size === 0) {
      this.#child.channel?.unref();
      this.#child.unref();
    }
  }
}

/** Up to `size` worker processes per database file, started on demand; a killed worker is replaced on next use. */
export class SqliteWorkerPool {
  readonly #file: string;
  readonly #size: number;
  readonly #idleWorkers: SqliteWorker[] = [];
  readonly #all = new Set<SqliteWorker>();
  readonly #waiters: { resolve: (worker: SqliteWorker) => void; reject: (error: Error) => void }[] = [];
  #closed = false;

  constructor(file: string, size: number) {
    this.#file = file;
    this.#size = Math.max(1, size);
  }

  /** Takes a worker for exclusive use; release() it afterwards. */
  async acquire(): Promise<SqliteWorker> {
    if (this.#closed) throw new WorkerGone('closed', 'the SQLite connection is closed');
    for (;;) {
      const worker = this.#idleWorkers.pop();
      if (!worker) break;
      if (worker.alive) return worker;
      this.#all.delete(worker);
    }
    if (this.#all.size < this.#size) return this.#spawn();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Returns a worker; a dead one is dropped and a waiter gets a fresh one. */
  release(worker: SqliteWorker): void {
    if (!worker.alive || this.#closed) {
      this.#all.delete(worker);
      if (this.#closed) worker.kill();
      const waiter = this.#waiters.shift();
      if (waiter && !this.#closed) waiter.resolve(this.#spawn());
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(worker);
    else this.#idleWorkers.push(worker);
  }

  /** Kills every worker process. */
  close(): void {
    this.#closed = true;
    for (const worker of this.#all) worker.kill();
    this.#all.clear();
    this.#idleWorkers.length = 0;
    for (const waiter of this.#waiters.splice(0)) {
      waiter.reject(new WorkerGone('closed', 'the SQLite connection is closed'));
    }
  }

  #spawn(): SqliteWorker {
    const worker = new SqliteWorker(this.#file);
    this.#all.add(worker);
    return worker;
  }
}
