import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { DatabaseError } from '../../core/errors.ts';

/** A lower-case identifier unique to this test file and run (jest runs files in parallel). */
export function uniqueName(label: string): string {
  return `tq_${label}_${randomBytes(4).toString('hex')}`;
}

/** A loopback port nothing listens on: bound, then released. */
export async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The DatabaseError a promise rejects with; fails the test when it resolves or rejects with something else. */
export async function databaseErrorOf(promise: Promise<unknown>): Promise<DatabaseError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DatabaseError) return error;
    throw new Error(`expected a DatabaseError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the promise to reject with a DatabaseError');
}

/** Collects every batch of a streamed read. */
export async function collect(batches: AsyncIterable<unknown[][]>): Promise<unknown[][][]> {
  const all: unknown[][][] = [];
  for await (const batch of batches) all.push(batch);
  return all;
}
