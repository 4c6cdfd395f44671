import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { waitForPort } from './free-port.ts';

/** A server process this threadql started (and so stops); its output goes to a log file in its data dir. */
export class LocalServiceProcess {
  readonly name: string;
  readonly port: number;
  readonly logPath: string;
  private readonly child: ChildProcess;

  private constructor(name: string, port: number, logPath: string, child: ChildProcess) {
    this.name = name;
    this.port = port;
    this.logPath = logPath;
    this.child = child;
  }

  /** Spawns `command args`, waits until it listens on `port`, and returns a handle that stops it. */
  static async start(
    name: string,
    command: string,
    args: string[],
    options: { port: number; dataDir: string; timeoutMs?: number },
  ): Promise<LocalServiceProcess> {
    mkdirSync(options.dataDir, { recursive: true });
    const logPath = join(options.dataDir, `${name}.log`);
    const log = createWriteStream(logPath, { flags: 'a' });
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    let exited = false;
    child.once('exit', () => (exited = true));
    child.once('error', () => (exited = true));
    try {
      await waitForPort(options.port, options.timeoutMs ?? 30_000, () => !exited);
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not start: ${(error as Error).message} (log: ${logPath})`, {
        cause: error,
      });
    }
    return new LocalServiceProcess(name, options.port, logPath, child);
  }

  /** Stops the process (SIGTERM, then SIGKILL after 5 s). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
