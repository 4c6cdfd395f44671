/**
 * The query shape the MongoDB dialect runs: one read operation on one collection, written by the LLM (or a person)
 * as Extended JSON. Parsed with the MongoDB driver's own EJSON parser, so `{"$oid": …}`, `{"$date": …}` and
 * `{"$numberDecimal": …}` arrive as real BSON values; validated with zod, so nothing else reaches the driver.
 *
 *   {"collection": "orders", "operation": "aggregate", "pipeline": [{"$match": {"status": "paid"}}]}
 *
 * The database command form (`{"aggregate": "orders", "pipeline": […]}`, `{"find": "orders", "filter": …}`,
 * `{"count": …, "query": …}`, `{"distinct": …, "key": …}`) is accepted too and normalised to this shape.
 */
import { BSON } from 'mongodb';
import { z } from 'zod';
import { ValidationError } from '../errors.ts';

/** The only operations the MongoDB dialect runs without approval. */
export const MONGO_READ_OPERATIONS = ['find', 'aggregate', 'count', 'distinct'] as const;
export type MongoReadOperation = (typeof MONGO_READ_OPERATIONS)[number];

const documentSchema = z.record(z.string(), z.unknown());

/** The zod schema of a MongoDB query; strict, so an unknown key (a typo or a write option) is refused. */
export const mongoQuerySchema = z
  .object({
    collection: z.string().min(1),
    operation: z.enum(MONGO_READ_OPERATIONS),
    filter: documentSchema.optional(),
    projection: documentSchema.optional(),
    sort: documentSchema.optional(),
    limit: z.number().int().nonnegative().optional(),
    skip: z.number().int().nonnegative().optional(),
    pipeline: z.array(documentSchema).optional(),
    /** The field `distinct` returns the values of. */
    field: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.operation === 'aggregate' && !q.pipeline) {
      ctx.addIssue({ code: 'custom', path: ['pipeline'], message: 'aggregate needs a pipeline' });
    }
    if (q.operation !== 'aggregate' && q.pipeline) {
      ctx.addIssue({ code: 'custom', path: ['pipeline'], message: `${q.operation} takes no pipeline` });
    }
    if (q.operation === 'distinct' && !q.field) {
      ctx.addIssue({ code: 'custom', path: ['field'], message: 'distinct needs a field' });
    }
  });

export type MongoQuery = z.infer<typeof mongoQuerySchema>;

/** Reads Extended JSON text into a value (BSON types included); throws a ValidationError when it is not EJSON. */
export function readExtendedJson(text: string): unknown {
  try {
    return BSON.EJSON.parse(text, { relaxed: true });
  } catch (error) {
    throw new ValidationError(`Not a MongoDB query in Extended JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** The database-command spellings of the read operations, mapped to the query shape's fields. */
const COMMAND_FIELDS: Record<MongoReadOperation, Record<string, string>> = {
  find: { filter: 'filter', projection: 'projection', sort: 'sort', limit: 'limit', skip: 'skip' },
  aggregate: { pipeline: 'pipeline' },
  count: { query: 'filter', limit: 'limit', skip: 'skip' },
  distinct: { key: 'field', query: 'filter' },
};

/**
 * Turns a database-command document into the query shape when its first key is a read command; returns the
 * document unchanged otherwise (an `operation`-shaped query, or a command that is not a read).
 */
export function normaliseMongoCommand(doc: Record<string, unknown>): Record<string, unknown> {
  if ('operation' in doc) return doc;
  const [command, collection] = Object.entries(doc)[0] ?? [];
  if (!command || !(command in COMMAND_FIELDS) || typeof collection !== 'string') return doc;
  const fields = COMMAND_FIELDS[command as MongoReadOperation];
  const query: Record<string, unknown> = { collection, operation: command };
  for (const [key, value] of Object.entries(doc).slice(1)) {
    const mapped = fields[key];
    // An option the shape does not know (cursor, explain, writeConcern, …) is kept, so validation refuses it.
    query[mapped ?? key] = value;
  }
  if (command === 'aggregate' && isPlainObject(query.cursor) && Object.keys(query.cursor).length === 0) {
    delete query.cursor;
  }
  return query;
}

/** Parses and validates a MongoDB query from Extended JSON text; throws a ValidationError naming what is wrong. */
export function parseMongoQuery(text: string): MongoQuery {
  const value = readExtendedJson(text);
  if (!isPlainObject(value)) throw new ValidationError('A MongoDB query must be a JSON object');
  const result = mongoQuerySchema.safeParse(normaliseMongoCommand(value));
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(query)'}: ${i.message}`);
    throw new ValidationError(`Not a valid MongoDB query: ${issues.join('; ')}`);
  }
  return result.data;
}

/** True for a plain JSON object (not an array, not a BSON value such as ObjectId or Date). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
