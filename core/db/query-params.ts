import { DatabaseError } from '../errors.ts';
import type { BoundValue, QueryParams } from './database-dialect.ts';

/** Positional values for a SQL driver (undefined when none); values by name belong to MongoDB and are refused. */
export function positionalParams(engine: string, params: QueryParams | undefined): BoundValue[] | undefined {
  if (params === undefined) return undefined;
  if (!Array.isArray(params)) {
    throw new DatabaseError('query_failed', `${engine}: parameters must be positional values`);
  }
  return [...(params as readonly BoundValue[])];
}

/** Values by name for MongoDB's `":name"` placeholders (undefined when none); positional values are refused. */
export function namedParams(
  engine: string,
  params: QueryParams | undefined,
): Readonly<Record<string, BoundValue>> | undefined {
  if (params === undefined) return undefined;
  if (Array.isArray(params)) {
    throw new DatabaseError('query_failed', `${engine}: parameters must be given by name`);
  }
  return params as Readonly<Record<string, BoundValue>>;
}
