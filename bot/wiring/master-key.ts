/**
 * The master key that encrypts stored credentials, and the masking key derived from it. A laptop without
 * THREADQL_MASTER_KEY gets a key file generated once into the data directory, said so in the log.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../../core/logger.ts';

/** THREADQL_MASTER_KEY, or a key generated once into the data directory (a laptop default, said so in the log). */
export function masterKey(fromEnv: string | undefined, dataDir: string, logger: Logger): string {
  if (fromEnv) return fromEnv;
  const path = join(dataDir, 'master.key');
  if (!existsSync(path)) {
    logger.warn(
      { path },
      'THREADQL_MASTER_KEY is not set: generated a local key file; set THREADQL_MASTER_KEY in production',
    );
    return generateKeyFile(path);
  }
  return readFileSync(path, 'utf8').trim();
}

/** The key of hash-mode masking, derived from the master key (HKDF), never the master key itself. */
export function maskingKey(master: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, 'threadql', 'masking hash key v1', 32));
}

function generateKeyFile(path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  const key = randomBytes(32).toString('base64');
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  return key;
}
