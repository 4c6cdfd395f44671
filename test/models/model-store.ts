import mongoose, { type Connection } from 'mongoose';
import { createModels, initModels, type Models } from '../../models/create-models.ts';
import { isolatedMongoUri } from '../support/services.ts';

export interface ModelStore {
  connection: Connection;
  models: Models;
  close(): Promise<void>;
}

/** A private database on the real MongoDB-wire server with every model and index created; close() drops it. */
export async function openModelStore(label: string): Promise<ModelStore> {
  const connection = await mongoose
    .createConnection(isolatedMongoUri(label), { maxPoolSize: 10 })
    .asPromise();
  const models = createModels(connection);
  await initModels(models);
  return {
    connection,
    models,
    async close() {
      await connection.dropDatabase();
      await connection.close();
    },
  };
}
