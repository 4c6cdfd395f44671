import type { Connection, Model, Schema } from 'mongoose';

/** The model `name` compiled on `connection` once; later calls on the same connection return the same model. */
export function modelOn<T>(connection: Connection, name: string, schema: Schema<T>): Model<T> {
  return (connection.models[name] as Model<T> | undefined) ?? connection.model<T>(name, schema);
}
