import { join } from 'node:path';
import { ThreadqlError } from '../../core/errors.ts';
import { findExecutable } from './find-executable.ts';
import { freePort } from './free-port.ts';
import { LocalServiceProcess } from './local-service-process.ts';

export interface EmbeddedRedis {
  url: string;
  description: string;
  stop(): Promise<void>;
}

/** Starts a local redis-server for caches, locks and the schedule queue when no REDIS_URL is given. */
export async function startEmbeddedRedis(options: {
  dataDir: string;
  pathList: string | undefined;
}): Promise<EmbeddedRedis> {
  const server = findExecutable('redis-server', options.pathList);
  if (!server) {
    throw new ThreadqlError('config_invalid', 'No REDIS_URL is set and no redis-server is installed.', {
      hint: 'Set REDIS_URL, or install Redis (Debian: apt-get install redis-server); scripts/run.sh does this for you.',
    });
  }
  const port = await freePort();
  const dataDir = join(options.dataDir, 'redis');
  const proc = await LocalServiceProcess.start(
    'redis',
    server,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--save', '60 1', '--appendonly', 'no'],
    { port, dataDir },
  );
  return {
    url: `redis://127.0.0.1:${port}`,
    description: `local redis-server (${server})`,
    stop: () => proc.stop(),
  };
}
