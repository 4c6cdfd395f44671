import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Redis } from 'ioredis';
import { loadConfig } from '../../config/load-config.ts';
import { pathList } from '../../config/process-info.ts';
import { createLogger } from '../../core/logger.ts';
import { createThreadql, type Threadql } from '../../bot/create-threadql.ts';
import { runShell } from '../../bot/shell/start-shell.ts';
import type { ShellPlatform } from '../../bot/shell/shell-platform.ts';
import { deleteRedisKeys, isolatedMongoUri, isolatedRedisPrefix, services } from './services.ts';

/** A real threadql (real store, Redis, databases, SDK) driven through the shell adapter's streams. */
export class ShellHarness {
  readonly threadql: Threadql;
  readonly shell: ShellPlatform;
  readonly dataDir: string;
  private readonly input: PassThrough;
  private text = '';
  private cursor = 0;

  private constructor(
    threadql: Threadql,
    shell: ShellPlatform,
    input: PassThrough,
    output: PassThrough,
    dataDir: string,
  ) {
    this.threadql = threadql;
    this.shell = shell;
    this.input = input;
    this.dataDir = dataDir;
    output.on('data', (chunk: Buffer) => (this.text += chunk.toString('utf8')));
  }

  /** Starts threadql with `env` over the test services; `yaml` becomes its threadql.yml when given. */
  static async start(
    label: string,
    env: Record<string, string | undefined>,
    yaml?: string,
  ): Promise<ShellHarness> {
    const dataDir = mkdtempSync(join(tmpdir(), `threadql-${label}-`));
    // An empty file means no connections: threadql then serves its embedded sample database.
    const configPath = join(dataDir, 'threadql.yml');
    writeFileSync(configPath, yaml ?? 'connections: []\n');
    const config = await loadConfig({
      MONGODB_URI: isolatedMongoUri(label),
      REDIS_URL: services.redisUrl,
      THREADQL_DATA_DIR: dataDir,
      THREADQL_CONFIG: configPath,
      THREADQL_MASTER_KEY: 'passphrase:shell-harness',
      THREADQL_REDIS_PREFIX: isolatedRedisPrefix(label),
      ...env,
    });
    const threadql = await createThreadql({
      config,
      logger: createLogger('silent'),
      pathList: pathList(),
      erdBrowser: false,
    });
    const input = new PassThrough();
    const output = new PassThrough();
    const shell = await runShell({ threadql, input, output, dataDir, userName: 'ana', width: 100 });
    return new ShellHarness(threadql, shell, input, output, dataDir);
  }

  /** Types a line into the shell. */
  send(line: string): void {
    this.input.write(`${line}\n`);
  }

  /** Waits until output after the last match matches `pattern`; returns the output from there to the match's end. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rest = this.text.slice(this.cursor);
      const match = pattern.exec(rest);
      if (match) {
        const end = this.cursor + match.index + match[0].length;
        const seen = this.text.slice(this.cursor, end);
        this.cursor = end;
        return seen;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output so far:\n${rest}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Everything the shell printed. */
  get output(): string {
    return this.text;
  }

  async close(): Promise<void> {
    this.input.end();
    await this.shell.finished();
    await this.threadql.engine.idle();
    await this.threadql.store.dropDatabase().catch(() => {});
    const prefix = this.threadql.templates.prefix;
    await this.threadql.close();
    // The harness's own Redis keys (templates, the report queue); run after close so no worker writes more.
    const redis = new Redis(services.redisUrl);
    await deleteRedisKeys(redis, prefix).finally(() => redis.disconnect());
  }
}
