/**
 * A real `node bot/threadql.ts run` process, as an operator starts it: its environment is all it gets, its output is
 * collected, and it is stopped with real signals. For the black-box fault tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../bot/create-threadql.ts';
import { rawEnvironment } from '../../../config/env.ts';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ThreadqlProcess {
  readonly child: ChildProcess;
  readonly dataDir: string;
  stdout = '';
  stderr = '';
  readonly exited: Promise<ProcessExit>;

  private constructor(child: ChildProcess, dataDir: string) {
    this.child = child;
    this.dataDir = dataDir;
    child.stdout!.on('data', (c: Buffer) => (this.stdout += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString('utf8')));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /**
   * Starts `threadql run` with only `env` (plus PATH and HOME): THREADQL_DATA_DIR defaults to a fresh directory and
   * THREADQL_CONFIG to a threadql.yml there holding `yaml` (default: no connections, the sample database).
   */
  static start(
    env: Record<string, string>,
    options: { yaml?: string; dataDir?: string } = {},
  ): ThreadqlProcess {
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'threadql-process-'));
    const configPath = join(dataDir, 'threadql.yml');
    writeFileSync(configPath, options.yaml ?? 'connections: []\n');
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bot', 'threadql.ts'), 'run'], {
      cwd: REPO_ROOT,
      env: {
        PATH: rawEnvironment().PATH ?? '',
        HOME: rawEnvironment().HOME ?? tmpdir(),
        THREADQL_DATA_DIR: dataDir,
        THREADQL_CONFIG: configPath,
        THREADQL_MASTER_KEY: 'passphrase:fault-tests',
        THREADQL_CHROMIUM: '/nonexistent',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ThreadqlProcess(child, dataDir);
  }

  /** Resolves once stderr (where the JSON log goes) has a line matching `pattern`; rejects if the process exits. */
  async waitForLog(pattern: RegExp): Promise<string> {
    for (;;) {
      const line = this.stderr.split('\n').find((l) => pattern.test(l));
      if (line) return line;
      const exited = await Promise.race([
        this.exited.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 50)),
      ]);
      if (exited && !this.stderr.split('\n').some((l) => pattern.test(l)))
        throw new Error(`threadql exited before logging ${pattern}:\n${this.stderr.slice(-3000)}`);
    }
  }

  /** The JSON log lines, parsed. */
  logLines(): Record<string, unknown>[] {
    return this.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Stops the process if it still runs (SIGKILL: the test is over). */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}
