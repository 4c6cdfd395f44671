/**
 * The query shape the MongoDB dialect runs: one read operation on one collection, written by the LLM (through the
 * `run_query` tool) or by a person (as Extended JSON text). This file is its one definition: the tool's input JSON
 * Schema, the canonical text shown on the confirm card and in Edit, and the parser the classifier and the driver
 * use all come from MONGO_OPERATION_FIELDS and the field schemas below, so they cannot drift apart.
 *
 *   {"collection": "orders", "operation": "aggregate", "pipeline": [{"$match": {"status": "paid"}}]}
 *
 * The database command form (`{"aggregate": "orders", "pipeline": […]}`, `{"find": "orders", "filter": …}`,
 * `{"count": …, "query": …}`, `{"distinct": …, "key": …}`) is accepted too and normalised to this shape.
 * Text is parsed with the MongoDB driver's own EJSON parser, so `{"$oid": …}`, `{"$date": …}` and
 * `{"$numberDecimal": …}` arrive as real BSON values; zod validates, so nothing else reaches the driver.
 */
import { BSON } from 'mongodb';
import { z } from 'zod';
import { ValidationError } from '../errors.ts';

/** The only operations the MongoDB dialect runs without approval. */
export const MONGO_READ_OPERATIONS = ['find', 'aggregate', 'count', 'distinct'] as const;
export type MongoReadOperation = (typeof MONGO_READ_OPERATIONS)[number];

const documentSchema = z.record(z.string(), z.unknown());

/** The fields an operation may take, beyond collection and operation, in the order the canonical text writes them. */
const OPTION_FIELDS = {
  filter: { schema: documentSchema, example: '{"status": "paid"}', what: 'the documents to match' },
  projection: { schema: documentSchema, example: '{"_id": 0, "name": 1}', what: 'the fields to return' },
  sort: { schema: documentSchema, example: '{"total": -1}', what: 'the order' },
  limit: { schema: z.number().int().nonnegative(), example: '10', what: 'at most this many documents' },
  skip: { schema: z.number().int().nonnegative(), example: '20', what: 'documents to skip first' },
  pipeline: {
    schema: z.array(documentSchema),
    example: '[{"$match": {…}}, {"$group": {…}}]',
    what: 'the aggregation stages',
  },
  field: {
    schema: z.string().min(1),
    example: '"country"',
    what: 'the field whose distinct values are returned',
  },
} as const;
export type MongoQueryField = keyof typeof OPTION_FIELDS;

/**
 * What each read operation takes: its required and optional fields. A write shape (insert, update, delete) is a
 * table like this one of its own, so this one stays the definition of what may run without approval.
 */
export const MONGO_OPERATION_FIELDS: Record<
  MongoReadOperation,
  { required: readonly MongoQueryField[]; optional: readonly MongoQueryField[] }
> = {
  find: { required: [], optional: ['filter', 'projection', 'sort', 'limit', 'skip'] },
  aggregate: { required: ['pipeline'], optional: [] },
  count: { required: [], optional: ['filter', 'limit', 'skip'] },
  distinct: { required: ['field'], optional: ['filter'] },
};

/** The database-command spellings of the read operations: command option → query shape field. */
const COMMAND_FIELDS: Record<MongoReadOperation, Record<string, MongoQueryField>> = {
  find: { filter: 'filter', projection: 'projection', sort: 'sort', limit: 'limit', skip: 'skip' },
  aggregate: { pipeline: 'pipeline' },
  count: { query: 'filter', limit: 'limit', skip: 'skip' },
  distinct: { key: 'field', query: 'filter' },
};

const OPERATION_LIST = MONGO_READ_OPERATIONS.join(', ');

function operationsTaking(field: MongoQueryField): MongoReadOperation[] {
  return MONGO_READ_OPERATIONS.filter((op) => {
    const { required, optional } = MONGO_OPERATION_FIELDS[op];
    return required.includes(field) || optional.includes(field);
  });
}

function fieldsOf(op: MongoReadOperation): MongoQueryField[] {
  return [...MONGO_OPERATION_FIELDS[op].required, ...MONGO_OPERATION_FIELDS[op].optional];
}

/** The zod fields of the query shape, each described (the descriptions become the tool's JSON Schema). */
export const mongoQueryFields = {
  collection: z
    .string({ error: 'collection must be the name of a collection' })
    .min(1)
    .describe('the collection to read'),
  operation: z
    .enum(MONGO_READ_OPERATIONS, { error: `operation must be one of ${OPERATION_LIST}` })
    .describe(describeMongoOperations()),
  ...(Object.fromEntries(
    Object.entries(OPTION_FIELDS).map(([name, f]) => [
      name,
      f.schema
        .optional()
        .describe(`${operationsTaking(name as MongoQueryField).join(', ')}: ${f.what}, e.g. ${f.example}`),
    ]),
  ) as { [K in MongoQueryField]: z.ZodOptional<(typeof OPTION_FIELDS)[K]['schema']> }),
};

/** Which fields each operation takes, in one line (`find takes optional filter, …; aggregate takes pipeline; …`). */
export function describeMongoOperations(): string {
  return MONGO_READ_OPERATIONS.map((op) => `${op} takes ${describeFields(op)}`).join('; ');
}

function describeFields(op: MongoReadOperation): string {
  const { required, optional } = MONGO_OPERATION_FIELDS[op];
  const parts: string[] = [...required];
  if (optional.length) parts.push(`optional ${optional.join(', ')}`);
  return parts.join(', ');
}

/** The checks across fields: an operation gets its required fields and nothing it does not take. */
function checkOperationFields(
  q: { operation: MongoReadOperation } & Partial<Record<MongoQueryField, unknown>>,
  ctx: z.RefinementCtx,
): void {
  const allowed = fieldsOf(q.operation);
  for (const field of MONGO_OPERATION_FIELDS[q.operation].required) {
    if (q[field] === undefined) {
      ctx.addIssue({ code: 'custom', path: [field], message: `${q.operation} needs a ${field}` });
    }
  }
  for (const field of Object.keys(OPTION_FIELDS) as MongoQueryField[]) {
    if (q[field] !== undefined && !allowed.includes(field)) {
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `${q.operation} takes no ${field} (it takes ${allowed.join(', ') || 'nothing else'})`,
      });
    }
  }
}

/** The zod schema of a MongoDB read query; strict, so an unknown key (a typo or a write option) is refused. */
export const mongoQuerySchema = z.object(mongoQueryFields).strict().superRefine(checkOperationFields);

export type MongoQuery = z.infer<typeof mongoQuerySchema>;

/**
 * The run_query tool's query fields: the shape's fields, or `command` holding the database-command form instead.
 * collection and operation are optional here only because the command form replaces them; readMongoToolQuery
 * insists on one form or the other.
 */
export const mongoToolQueryFields = {
  ...mongoQueryFields,
  collection: mongoQueryFields.collection.optional(),
  operation: mongoQueryFields.operation.optional(),
  command: documentSchema
    .optional()
    .describe(
      'instead of collection and operation: the same read as a database command, e.g. ' +
        '{"aggregate": "orders", "pipeline": […], "cursor": {}}, {"find": "orders", "filter": {…}}, ' +
        '{"count": "orders", "query": {…}}, {"distinct": "orders", "key": "country"}',
    ),
};

/** The shapes accepted, in words a person or the model can act on (shown after a shape error). */
export function describeMongoQueryShapes(): string {
  const placeholder = (field: MongoQueryField): string => OPTION_FIELDS[field].example;
  const shapes = MONGO_READ_OPERATIONS.map((op) => {
    const { required, optional } = MONGO_OPERATION_FIELDS[op];
    const parts = [
      '"collection": "<name>"',
      `"operation": "${op}"`,
      ...required.map((f) => `"${f}": ${placeholder(f)}`),
      ...optional.map((f) => `"${f}"?: ${placeholder(f)}`),
    ];
    return `{${parts.join(', ')}}`;
  });
  const commands = MONGO_READ_OPERATIONS.map((op) => {
    const options = Object.keys(COMMAND_FIELDS[op]).join(', ');
    return `{"${op}": "<collection>", ${options}}`;
  });
  return `Accepted shapes: ${shapes.join(' · ')}; or a read command: ${commands.join(' · ')}.`;
}

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

/** True when a document's first key names a read command (`{"find": "orders", …}`). */
export function isMongoReadCommand(doc: Record<string, unknown>): boolean {
  const [command, collection] = Object.entries(doc)[0] ?? [];
  return command !== undefined && command in COMMAND_FIELDS && typeof collection === 'string';
}

/**
 * Turns a database-command document into the query shape when its first key is a read command; returns the
 * document unchanged otherwise (an `operation`-shaped query, or a command that is not a read).
 */
export function normaliseMongoCommand(doc: Record<string, unknown>): Record<string, unknown> {
  if ('operation' in doc || !isMongoReadCommand(doc)) return doc;
  const [[command, collection], ...options] = Object.entries(doc) as [
    [string, string],
    ...[string, unknown][],
  ];
  const fields = COMMAND_FIELDS[command as MongoReadOperation];
  const query: Record<string, unknown> = { collection, operation: command };
  for (const [key, value] of options) {
    // An option the shape does not know (explain, writeConcern, …) is kept, so validation refuses it.
    query[fields[key] ?? key] = value;
  }
  if (command === 'aggregate' && isPlainObject(query.cursor) && Object.keys(query.cursor).length === 0) {
    delete query.cursor;
  }
  return query;
}

/** One validation issue of a query shape in plain words (`operation is missing`, `unknown field cursor`). */
export function describeMongoShapeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined && where !== '')
    return `${where} is missing`;
  return where && !issue.message.startsWith(where) ? `${where}: ${issue.message}` : issue.message;
}

/** What is wrong with a (normalised) document as a read query, one line per problem; empty when it is fine. */
export function mongoQueryProblems(doc: Record<string, unknown>): string[] {
  const result = mongoQuerySchema.safeParse(doc);
  return result.success ? [] : result.error.issues.map(describeMongoShapeIssue);
}

/** Validates a value (already read from EJSON) as a read query; throws a ValidationError naming what is wrong. */
export function mongoQueryFromValue(value: unknown): MongoQuery {
  if (!isPlainObject(value)) {
    throw new ValidationError(`A MongoDB query must be one JSON object. ${describeMongoQueryShapes()}`);
  }
  const doc = normaliseMongoCommand(value);
  const problems = mongoQueryProblems(doc);
  if (problems.length > 0) {
    throw new ValidationError(
      `Not a valid MongoDB query: ${problems.join('; ')}. ${describeMongoQueryShapes()}`,
    );
  }
  return mongoQuerySchema.parse(doc);
}

/** Parses and validates a MongoDB query from Extended JSON text; throws a ValidationError naming what is wrong. */
export function parseMongoQuery(text: string): MongoQuery {
  return mongoQueryFromValue(readExtendedJson(text));
}

/**
 * The query a run_query tool call carries (the tool's own fields, explanation and so on, already taken out):
 * either collection + operation + fields, or `command`. Extended JSON values in it (`{"$date": …}`) become BSON
 * values, as they would in text. Throws a ValidationError the model can act on.
 */
export function readMongoToolQuery(input: Record<string, unknown>): MongoQuery {
  const { command, ...fields } = input;
  const given = Object.keys(fields).filter((k) => fields[k] !== undefined);
  if (command !== undefined) {
    if (given.length > 0) {
      throw new ValidationError(
        `Give either command or collection and operation, not both (also given: ${given.join(', ')}). ${describeMongoQueryShapes()}`,
      );
    }
    if (!isPlainObject(command) || !isMongoReadCommand(command)) {
      throw new ValidationError(
        `command must be a read command whose first key is one of ${OPERATION_LIST}, naming the collection. ${describeMongoQueryShapes()}`,
      );
    }
    return mongoQueryFromValue(fromExtendedJson(command));
  }
  return mongoQueryFromValue(fromExtendedJson(fields));
}

/** Turns Extended JSON values inside an already-parsed object into BSON values, as EJSON.parse does for text. */
function fromExtendedJson(value: Record<string, unknown>): unknown {
  try {
    return BSON.EJSON.deserialize(value, { relaxed: true });
  } catch (error) {
    throw new ValidationError(`Not valid Extended JSON: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The canonical text of a query, as the confirm card and Edit show it: the shape's keys in their defined order,
 * one per line, aggregation stages one per line, values in relaxed Extended JSON (so it parses back to the same
 * query).
 */
export function formatMongoQuery(query: MongoQuery): string {
  const json = (value: unknown): string => BSON.EJSON.stringify(value, { relaxed: true });
  const lines = [`  "collection": ${json(query.collection)}`, `  "operation": ${json(query.operation)}`];
  for (const field of Object.keys(OPTION_FIELDS) as MongoQueryField[]) {
    const value = query[field];
    if (value === undefined) continue;
    if (field === 'pipeline' && Array.isArray(value) && value.length > 0) {
      lines.push(`  "pipeline": [\n${value.map((stage) => `    ${json(stage)}`).join(',\n')}\n  ]`);
    } else {
      lines.push(`  ${json(field)}: ${json(value)}`);
    }
  }
  return `{\n${lines.join(',\n')}\n}`;
}

/** True for a plain JSON object (not an array, not a BSON value such as ObjectId or Date). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
