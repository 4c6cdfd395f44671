import mongoose, { type Connection } from 'mongoose';
import { StoreError } from '../errors.ts';
import { redactUrl } from '../logger.ts';

/** Opens the bot's own MongoDB store; a failure says which server (credentials redacted) and how to fix it. */
export async function connectStore(
  uri: string,
  options: { serverSelectionTimeoutMS?: number } = {},
): Promise<Connection> {
  const connection = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 10_000,
    autoIndex: true,
  });
  try {
    await connection.asPromise();
    return connection;
  } catch (error) {
    await connection.close().catch(() => {});
    throw new StoreError(
      `Cannot reach the threadql store at ${redactUrl(uri)}: ${(error as Error).message.split('\n')[0]}`,
      {
        cause: error,
        hint: 'Check MONGODB_URI, or unset it to let threadql start an embedded store.',
      },
    );
  }
}
