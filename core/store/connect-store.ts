import mongoose, { type Connection } from 'mongoose';
import { StoreError } from '../errors.ts';
import { redactUrl, type Logger } from '../logger.ts';

/** Opens the bot's own MongoDB store; a failure says which server (credentials redacted) and how to fix it. */
export async function connectStore(
  uri: string,
  options: { serverSelectionTimeoutMS?: number; logger?: Logger } = {},
): Promise<Connection> {
  const connection = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 10_000,
    autoIndex: true,
  });
  // An 'error' event without a listener would crash the process; outages are logged once each way instead.
  const where = storeWhere(uri);
  connection.on('error', (error: Error) =>
    options.logger?.warn({ store: where, reason: error.message.split('\n')[0] }, 'store error'),
  );
  try {
    await connection.asPromise();
  } catch (error) {
    await connection.close().catch(() => {});
    throw new StoreError(
      `Cannot reach the threadql store at ${where}: ${(error as Error).message.split('\n')[0]}`,
      {
        cause: error,
        hint: 'Check MONGODB_URI, or unset it to let threadql start an embedded store.',
      },
    );
  }
  connection.on('disconnected', () => {
    // Mongoose marks a close we asked for; only an outage is worth a warning.
    if ((connection as unknown as { _closeCalled?: boolean })._closeCalled) return;
    options.logger?.warn({ store: where }, 'the store is unreachable; retrying in the background');
  });
  connection.on('reconnected', () => options.logger?.info({ store: where }, 'the store is reachable again'));
  return connection;
}

/** The store's address for messages: `host:port/database`, with any credentials redacted. */
export function storeWhere(uri: string): string {
  const redacted = redactUrl(uri);
  return redacted.replace(/^mongodb(\+srv)?:\/\//, '').replace(/\?.*$/, '');
}
