import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StoreError } from '../../core/errors.ts';
import { findExecutable } from './find-executable.ts';
import { freePort } from './free-port.ts';
import { LocalServiceProcess } from './local-service-process.ts';

export interface EmbeddedStore {
  uri: string;
  /** Which server runs it, in words a user understands. */
  description: string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedStoreOptions {
  /** Where the store keeps its data (persisted between runs). */
  dataDir: string;
  /** The repository root, for scripts/ferretdb and .tools/. */
  repoRoot: string;
  /** The PATH to search for mongod, ferretdb and go. */
  pathList: string | undefined;
  database?: string;
  onProgress?: (message: string) => void;
}

/**
 * Starts a MongoDB-wire store for the bot's own state when no MONGODB_URI is given. In order of preference:
 * a local `mongod`; a local `ferretdb` (SQLite backend); FerretDB built with Go from scripts/ferretdb;
 * mongodb-memory-server's standard download (for machines that can reach it).
 */
export async function startEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  const database = options.database ?? 'threadql';
  const port = await freePort();
  const uri = `mongodb://127.0.0.1:${port}/${database}`;
  const progress = options.onProgress ?? (() => {});

  const mongod = findExecutable('mongod', options.pathList);
  if (mongod) {
    const dataDir = join(options.dataDir, 'mongod');
    const proc = await LocalServiceProcess.start(
      'mongod',
      mongod,
      ['--dbpath', dataDir, '--port', String(port), '--bind_ip', '127.0.0.1'],
      { port, dataDir },
    );
    return { uri, description: `local mongod (${mongod})`, dataDir, stop: () => proc.stop() };
  }

  const ferretdb = findExecutable('ferretdb', options.pathList);
  if (ferretdb) {
    const dataDir = join(options.dataDir, 'ferretdb');
    const proc = await LocalServiceProcess.start(
      'ferretdb',
      ferretdb,
      [
        '--handler=sqlite',
        `--sqlite-url=file:${dataDir}/`,
        `--listen-addr=127.0.0.1:${port}`,
        `--state-dir=${dataDir}`,
        '--telemetry=disable',
      ],
      { port, dataDir },
    );
    return {
      uri,
      description: `local FerretDB (${ferretdb}, SQLite backend)`,
      dataDir,
      stop: () => proc.stop(),
    };
  }

  const built = join(options.repoRoot, '.tools', 'ferretdb-embedded');
  const go = findExecutable('go', options.pathList);
  if (existsSync(built) || go) {
    if (!existsSync(built) && go) {
      progress('building FerretDB 1.24 with Go (first run only, about a minute)…');
      await promisify(execFile)(go, ['build', '-mod=mod', '-o', built, '.'], {
        // The child inherits the environment (GOPATH, GOPROXY); -mod=mod lets go.sum fill in missing entries.
        cwd: join(options.repoRoot, 'scripts', 'ferretdb'),
      }).catch((error: unknown) => {
        throw new StoreError('Could not build FerretDB with Go for the embedded store.', {
          cause: error,
          hint: 'Set MONGODB_URI to a MongoDB (or FerretDB) server instead.',
        });
      });
    }
    const dataDir = join(options.dataDir, 'ferretdb');
    const proc = await LocalServiceProcess.start(
      'ferretdb',
      built,
      ['-listen-addr', `127.0.0.1:${port}`, '-data-dir', dataDir],
      { port, dataDir },
    );
    return {
      uri,
      description: 'FerretDB 1.24 built with Go (SQLite backend)',
      dataDir,
      stop: () => proc.stop(),
    };
  }

  progress('no mongod, ferretdb or Go here: starting mongodb-memory-server (downloads MongoDB once)…');
  const dataDir = join(options.dataDir, 'mongodb-memory-server');
  try {
    const { MongoMemoryServer } = await import('mongodb-memory-server-core');
    const server = await MongoMemoryServer.create({
      instance: { port, dbPath: dataDir, storageEngine: 'wiredTiger' },
    });
    return {
      uri: server.getUri(database),
      description: 'mongodb-memory-server (downloaded MongoDB)',
      dataDir,
      stop: async () => {
        await server.stop({ doCleanup: false });
      },
    };
  } catch (error) {
    throw new StoreError(
      'No MongoDB store available: no MONGODB_URI, no mongod or ferretdb on PATH, no Go, and the MongoDB download failed.',
      {
        cause: error,
        hint: 'Set MONGODB_URI to a MongoDB (or FerretDB) server, or install Go so threadql can build FerretDB.',
      },
    );
  }
}
