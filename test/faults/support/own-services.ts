/**
 * Services a fault test owns: its own Redis, FerretDB and PostgreSQL on free ports, stopped and started again on
 * the same port (and data directory) for real, never the shared ones the rest of the suite uses.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { freePort, waitForPort } from '../../../bot/local-services/free-port.ts';
import { REPO_ROOT } from '../../../bot/create-threadql.ts';

/** A server process started, stopped and restarted on one port with one data directory. */
abstract class OwnService {
  readonly port: number;
  readonly dataDir: string;
  protected child: ChildProcess | undefined;
  readonly #name: string;

  protected constructor(name: string, port: number, dataDir: string) {
    this.#name = name;
    this.port = port;
    this.dataDir = dataDir;
  }

  protected abstract spawnServer(): ChildProcess;

  /** The signal that stops the server promptly (PostgreSQL's SIGTERM waits for clients to leave). */
  protected readonly stopSignal: NodeJS.Signals = 'SIGTERM';

  /** Starts the server and waits until it accepts connections. */
  async start(): Promise<void> {
    if (this.child) return;
    const child = this.spawnServer();
    let exited = false;
    let output = '';
    child.stdout?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
    child.stderr?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-4000)));
    child.once('exit', () => (exited = true));
    this.child = child;
    try {
      await waitForPort(this.port, 60_000, () => !exited);
    } catch (error) {
      child.kill('SIGKILL');
      this.child = undefined;
      throw new Error(`${this.#name} did not start: ${(error as Error).message}\n${output}`, {
        cause: error,
      });
    }
  }

  /** Stops the server (its stop signal, SIGKILL after 10 s) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.kill(this.stopSignal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** Kills the server at once (a crash). */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.kill('SIGKILL');
    await exited;
  }

  get running(): boolean {
    return this.child !== undefined;
  }
}

/** A redis-server of the test's own, persisting to an append-only file (data survives a stop and start). */
export class OwnRedis extends OwnService {
  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis('redis', await freePort(), mkdtempSync(join(tmpdir(), 'threadql-own-redis-')));
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  protected spawnServer(): ChildProcess {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes'];
    return spawn('redis-server', [...args, '--dir', this.dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  }
}

/** A FerretDB (SQLite backend, data kept across restarts) of the test's own: the MongoDB-wire store. */
export class OwnFerretDb extends OwnService {
  static async start(): Promise<OwnFerretDb> {
    const dir = mkdtempSync(join(tmpdir(), 'threadql-own-ferretdb-'));
    const store = new OwnFerretDb('ferretdb', await freePort(), dir);
    await store.start();
    return store;
  }

  /** A database URI on this server. */
  uri(database = 'threadql'): string {
    return `mongodb://127.0.0.1:${this.port}/${database}`;
  }

  protected spawnServer(): ChildProcess {
    const bin = resolve(REPO_ROOT, '.tools', 'ferretdb-embedded');
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run scripts/test.sh once to build FerretDB`);
    return spawn(bin, ['-listen-addr', `127.0.0.1:${this.port}`, '-data-dir', this.dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }
}

/** PostgreSQL's binaries (the newest installed version). */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(a) - Number(b));
  if (!versions.length) throw new Error('PostgreSQL is not installed (scripts/test.sh installs it)');
  return join(root, versions.at(-1)!, 'bin');
}

/** A PostgreSQL cluster of the test's own (trust auth on 127.0.0.1, user `postgres`, database `postgres`). */
export class OwnPostgres extends OwnService {
  readonly #ids: { uid: number; gid: number } | undefined;
  protected override readonly stopSignal: NodeJS.Signals = 'SIGINT';

  private constructor(port: number, dataDir: string, ids: { uid: number; gid: number } | undefined) {
    super('postgres', port, dataDir);
    this.#ids = ids;
  }

  static async start(): Promise<OwnPostgres> {
    // The server refuses to run as root: as root, it runs as the `postgres` user the Debian package creates.
    const ids =
      process.getuid?.() === 0
        ? {
            uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
            gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
          }
        : undefined;
    const dir = mkdtempSync(join(tmpdir(), 'threadql-own-postgres-'));
    const data = join(dir, 'data');
    mkdirSync(data);
    if (ids) {
      chownSync(dir, ids.uid, ids.gid);
      chownSync(data, ids.uid, ids.gid);
    }
    execFileSync(
      join(postgresBin(), 'initdb'),
      ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'],
      { stdio: 'ignore', ...(ids ?? {}) },
    );
    const pg = new OwnPostgres(await freePort(), dir, ids);
    await pg.start();
    return pg;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Starts the server and waits until it accepts queries (it listens a moment before it is ready). */
  override async start(): Promise<void> {
    await super.start();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const client = new pg.Client({ connectionString: this.url });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 100));
      } finally {
        await client.end().catch(() => {});
      }
    }
  }

  protected spawnServer(): ChildProcess {
    return spawn(
      join(postgresBin(), 'postgres'),
      [
        '-D',
        join(this.dataDir, 'data'),
        '-p',
        String(this.port),
        '-k',
        this.dataDir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], ...(this.#ids ?? {}) },
    );
  }
}
