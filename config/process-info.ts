import { rawEnvironment } from './env.ts';

/** The PATH to search for helper programs (mongod, ferretdb, go, redis-server, chromium). */
export function pathList(): string | undefined {
  return rawEnvironment().PATH;
}
