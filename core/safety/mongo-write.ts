/**
 * The MongoDB write shape: one insert, update or delete (or an ordered bulkWrite of them) on one collection, as
 * Extended JSON. Like the read shape (mongo-query.ts) it is parsed with the driver's EJSON parser and validated
 * strictly with zod, so only these operations reach the driver, and always through approval:
 *
 *   {"collection": "users", "operation": "updateMany", "filter": {"active": true}, "update": {"$set": {"active": false}}}
 *   {"collection": "users", "operation": "bulkWrite", "operations": [{"deleteOne": {"filter": {"_id": 7}}}]}
 *
 * The database-command forms `{"insert": …, "documents": […]}`, `{"update": …, "updates": [{q, u, multi}]}` and
 * `{"delete": …, "deletes": [{q, limit}]}` are accepted too and normalised to this shape. Updates must use update
 * operators (`$set`, `$inc`…): a bare replacement document is refused, and so are upserts and update pipelines,
 * whose effect a count of matching documents cannot measure.
 */
import { BSON } from 'mongodb';
import { z } from 'zod';
import { ValidationError } from '../errors.ts';
import { isPlainObject, readExtendedJson } from './mongo-query.ts';

export const MONGO_WRITE_OPERATIONS = [
  'insertOne',
  'insertMany',
  'updateOne',
  'updateMany',
  'deleteOne',
  'deleteMany',
  'bulkWrite',
] as const;
export type MongoWriteOperation = (typeof MONGO_WRITE_OPERATIONS)[number];

const MAX_DOCUMENTS = 10_000;
const MAX_OPERATIONS = 1000;

const documentSchema = z.record(z.string(), z.unknown());
const collection = z.string().min(1);
const update = documentSchema.superRefine((doc, ctx) => {
  const keys = Object.keys(doc);
  if (keys.length === 0) ctx.addIssue({ code: 'custom', message: 'an update needs at least one operator' });
  else if (keys.some((k) => !k.startsWith('$')))
    ctx.addIssue({
      code: 'custom',
      message: 'an update must use update operators such as $set (a replacement document is not accepted)',
    });
});

const insertOne = z
  .object({ collection, operation: z.literal('insertOne'), document: documentSchema })
  .strict();
const insertMany = z
  .object({
    collection,
    operation: z.literal('insertMany'),
    documents: z.array(documentSchema).min(1).max(MAX_DOCUMENTS),
  })
  .strict();
const updateOne = z
  .object({ collection, operation: z.literal('updateOne'), filter: documentSchema, update })
  .strict();
const updateMany = z
  .object({ collection, operation: z.literal('updateMany'), filter: documentSchema, update })
  .strict();
const deleteOne = z
  .object({ collection, operation: z.literal('deleteOne'), filter: documentSchema })
  .strict();
const deleteMany = z
  .object({ collection, operation: z.literal('deleteMany'), filter: documentSchema })
  .strict();

const singleWriteSchema = z.discriminatedUnion('operation', [
  insertOne,
  insertMany,
  updateOne,
  updateMany,
  deleteOne,
  deleteMany,
]);
/** One insert, update or delete on one collection. */
export type MongoSingleWrite = z.infer<typeof singleWriteSchema>;

const bulkWriteSchema = z
  .object({
    collection,
    operation: z.literal('bulkWrite'),
    /** In the driver's form: `{"updateMany": {"filter": …, "update": …}}`; run in order. */
    operations: z.array(documentSchema).min(1).max(MAX_OPERATIONS),
  })
  .strict();

/** A validated write: its operations in order (one, or a bulkWrite's), each on the same collection. */
export interface MongoWrite {
  collection: string;
  operation: MongoWriteOperation;
  operations: MongoSingleWrite[];
}

/** The operations a bulkWrite item may name (the driver's bulkWrite spelling). */
const BULK_OPERATIONS: ReadonlySet<string> = new Set([
  'insertOne',
  'updateOne',
  'updateMany',
  'deleteOne',
  'deleteMany',
]);

/**
 * Parses and validates a write from an already-read EJSON value; throws a ValidationError naming what is wrong.
 * Command forms are normalised first.
 */
export function toMongoWrite(value: unknown): MongoWrite {
  if (!isPlainObject(value)) throw new ValidationError('A MongoDB write must be a JSON object');
  const doc = normaliseWriteCommand(value);
  if (doc.operation === 'bulkWrite') {
    const bulk = check(bulkWriteSchema, doc);
    const operations = bulk.operations.map((item, i) => {
      const entries = Object.entries(item);
      const [entry] = entries;
      if (!entry || entries.length !== 1 || !BULK_OPERATIONS.has(entry[0]) || !isPlainObject(entry[1])) {
        throw new ValidationError(
          `Not a valid MongoDB write: operations.${i}: expected one of ${[...BULK_OPERATIONS].join(', ')} with its arguments`,
        );
      }
      const [operation, args] = entry;
      return check(
        singleWriteSchema,
        { collection: bulk.collection, operation, ...args },
        `operations.${i}.`,
      );
    });
    return { collection: bulk.collection, operation: 'bulkWrite', operations };
  }
  const single = check(singleWriteSchema, doc);
  return { collection: single.collection, operation: single.operation, operations: [single] };
}

/** Parses and validates a MongoDB write from Extended JSON text. */
export function parseMongoWrite(text: string): MongoWrite {
  return toMongoWrite(readExtendedJson(text));
}

/** One operation as Extended JSON text (relaxed), for the dry-run card of a bulkWrite. */
export function mongoWriteText(write: MongoSingleWrite): string {
  return BSON.EJSON.stringify(write, { relaxed: true });
}

/** The database-command spellings of writes, turned into the shape; anything else is returned unchanged. */
function normaliseWriteCommand(doc: Record<string, unknown>): Record<string, unknown> {
  if ('operation' in doc) return doc;
  const [command, name] = Object.entries(doc)[0] ?? [];
  if (typeof name !== 'string') return doc;
  const rest = Object.fromEntries(Object.entries(doc).slice(1));
  if (command === 'insert') {
    const { documents, ...extra } = rest;
    return { collection: name, operation: 'insertMany', documents, ...extra };
  }
  if (command === 'update' && Array.isArray(rest.updates)) {
    const { updates, ...extra } = rest;
    const ops = (updates as unknown[]).map((u) => {
      const { q, u: change, multi, ...more } = (isPlainObject(u) ? u : {}) as Record<string, unknown>;
      return { [multi === true ? 'updateMany' : 'updateOne']: { filter: q, update: change, ...more } };
    });
    return bulkOrSingle(name, ops, extra);
  }
  if (command === 'delete' && Array.isArray(rest.deletes)) {
    const { deletes, ...extra } = rest;
    const ops = (deletes as unknown[]).map((d) => {
      const { q, limit, ...more } = (isPlainObject(d) ? d : {}) as Record<string, unknown>;
      return { [limit === 1 ? 'deleteOne' : 'deleteMany']: { filter: q, ...more } };
    });
    return bulkOrSingle(name, ops, extra);
  }
  return doc;
}

function bulkOrSingle(
  collection: string,
  ops: Record<string, Record<string, unknown>>[],
  extra: Record<string, unknown>,
): Record<string, unknown> {
  const [only] = ops;
  if (ops.length === 1 && only) {
    const [operation, body] = Object.entries(only)[0]!;
    return { collection, operation, ...body, ...extra };
  }
  return { collection, operation: 'bulkWrite', operations: ops, ...extra };
}

function check<T>(schema: z.ZodType<T>, value: unknown, prefix = ''): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${prefix}${i.path.join('.') || '(write)'}: ${i.message}`);
  throw new ValidationError(`Not a valid MongoDB write: ${issues.join('; ')}`);
}
