import { MongoClient, type AbstractCursor, type Db, type Document, type Sort } from 'mongodb';
import type { DatabaseError } from '../../errors.ts';
import { ThreadqlError } from '../../errors.ts';
import { classifyMongoQuery } from '../../safety/classify-mongo-query.ts';
import { parseMongoQuery, type MongoQuery } from '../../safety/mongo-query.ts';
import { parseMongoWrite, type MongoWrite } from '../../safety/mongo-write.ts';
import type {
  DatabaseDialect,
  DatabaseDriver,
  DriverOptions,
  DryRunResult,
  ExecuteOptions,
  ExplainResult,
  WriteOptions,
  WriteResult,
  QueryResult,
  ReadStream,
  ResultColumn,
  SchemaSnapshot,
} from '../database-dialect.ts';
import { databaseError, isNetworkError, messageOf, secretsOf } from '../database-errors.ts';
import { unrunnableDryRun } from '../write-batch.ts';
import { dryRunMongoWrite, executeMongoWrite } from './mongodb-writes.ts';
import { namedParams } from '../query-params.ts';
import { substituteMongoPlaceholders } from '../../templates/mongo-placeholders.ts';
import { introspectMongo, type MongoIntrospectOptions } from './mongodb-introspector.ts';
import { bsonTypeName, kindOfTypes, plainBson, typeText } from './mongodb-values.ts';

const ENGINE = 'MongoDB';
const DEFAULT_BATCH = 1000;
// Server error codes: 50 MaxTimeMSExpired; 13/18 unauthorized / auth failed.
const TIMEOUT_CODES = new Set([50, 262]);
const AUTH_CODES = new Set([13, 18]);

export interface MongoDriverOptions extends DriverOptions {
  introspection?: Partial<MongoIntrospectOptions>;
}

/** Columns from documents: top-level keys in first-seen order, types and kinds from the values. */
function columnsOf(docs: readonly Document[]): ResultColumn[] {
  const types = new Map<string, Set<string>>();
  for (const doc of docs) {
    for (const [key, value] of Object.entries(doc)) {
      const set = types.get(key) ?? new Set<string>();
      set.add(bsonTypeName(value));
      types.set(key, set);
    }
  }
  return [...types.entries()].map(([name, set]) => ({ name, type: typeText(set), kind: kindOfTypes(set) }));
}

const rowOf = (doc: Document, columns: readonly ResultColumn[]): unknown[] =>
  columns.map((c) => (c.name in doc ? plainBson(doc[c.name]) : null));

/**
 * One MongoClient (its own pool) per connection. Reads are an allow-list of commands (find, aggregate without
 * $out/$merge, countDocuments, distinct) with maxTimeMS and a cap+1 limit. Writes (insert/update/delete/bulkWrite,
 * after approval only) are counted, not tried, since FerretDB has no transactions: see mongodb-writes.ts.
 */
export class MongoDriver implements DatabaseDriver {
  readonly dialect: DatabaseDialect;
  readonly #client: MongoClient;
  readonly #secrets: string[];
  readonly #introspection: MongoIntrospectOptions;
  #closing: Promise<void> | undefined;

  constructor(dialect: DatabaseDialect, url: string, options: MongoDriverOptions = {}) {
    this.dialect = dialect;
    this.#secrets = secretsOf(url);
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    try {
      this.#client = new MongoClient(url, {
        maxPoolSize: options.poolSize ?? 5,
        serverSelectionTimeoutMS: connectTimeoutMs,
        connectTimeoutMS: connectTimeoutMs,
        appName: 'threadql',
      });
    } catch (error) {
      throw databaseError(
        'database_unavailable',
        ENGINE,
        `invalid connection URL: ${messageOf(error)}`,
        this.#secrets,
      );
    }
    this.#introspection = { sampleSize: 100, maxDepth: 2, concurrency: 4, ...options.introspection };
  }

  /** A ping command; any failure is database_unavailable. */
  async validate(): Promise<void> {
    try {
      await this.#db().command({ ping: 1 });
    } catch (error) {
      const mapped = this.#map(error);
      throw mapped.code === 'database_unavailable'
        ? mapped
        : databaseError('database_unavailable', ENGINE, messageOf(error), this.#secrets, error);
    }
  }

  /** Collections with fields inferred by sampling; catalogQueries = 1 + 2 per collection (see introspectMongo). */
  async introspect(): Promise<SchemaSnapshot> {
    try {
      return await introspectMongo(this.#db(), this.#introspection);
    } catch (error) {
      throw this.#map(error);
    }
  }

  /** Runs a find / aggregate / count / distinct with maxTimeMS, reading at most maxRows+1 documents. */
  async executeRead(query: string, options: ExecuteOptions): Promise<QueryResult> {
    const started = performance.now();
    const q = this.#parse(query, options.params);
    try {
      if (q.operation === 'count') {
        const count = await this.#db()
          .collection(q.collection)
          .countDocuments(q.filter ?? {}, {
            maxTimeMS: options.timeoutMs,
            ...(q.skip ? { skip: q.skip } : {}),
            ...(q.limit ? { limit: q.limit } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
          });
        return {
          columns: [{ name: 'count', type: 'int', kind: 'number' }],
          rows: [[count]],
          rowCount: 1,
          truncated: false,
          durationMs: performance.now() - started,
        };
      }
      if (q.operation === 'distinct') {
        // As an aggregation, so the row cap and maxTimeMS apply on the server (FerretDB's distinct takes no
        // maxTimeMS); $unwind gives distinct's array semantics.
        const field = q.field ?? '';
        const docs = await this.#db()
          .collection(q.collection)
          .aggregate(
            [
              { $match: q.filter ?? {} },
              { $unwind: `$${field}` },
              { $group: { _id: `$${field}` } },
              { $sort: { _id: 1 } },
              { $limit: options.maxRows + 1 },
            ],
            { maxTimeMS: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) },
          )
          .toArray();
        const values = docs.map((d) => d._id as unknown);
        const truncated = values.length > options.maxRows;
        const kept = truncated ? values.slice(0, options.maxRows) : values;
        const types = new Set(kept.map(bsonTypeName));
        return {
          columns: [{ name: field, type: typeText(types), kind: kindOfTypes(types) }],
          rows: kept.map((v) => [plainBson(v)]),
          rowCount: kept.length,
          truncated,
          durationMs: performance.now() - started,
        };
      }
      const cursor = this.#cursor(q, options, options.maxRows + 1);
      const docs = await cursor.toArray();
      const truncated = docs.length > options.maxRows;
      const kept = truncated ? docs.slice(0, options.maxRows) : docs;
      const columns = columnsOf(kept);
      return {
        columns,
        rows: kept.map((d) => rowOf(d, columns)),
        rowCount: kept.length,
        truncated,
        durationMs: performance.now() - started,
      };
    } catch (error) {
      throw this.#map(error, options.signal);
    }
  }

  /** Streams a find or aggregate in batches; columns come from the first batch (later new fields are dropped). */
  async streamRead(query: string, options: ExecuteOptions): Promise<ReadStream> {
    const q = this.#parse(query, options.params);
    if (q.operation === 'count' || q.operation === 'distinct') {
      // Single-document answers: stream the small result as one batch.
      const result = await this.executeRead(query, options);
      let done = false;
      return {
        columns: result.columns,
        batches: (async function* () {
          if (!done && result.rows.length > 0) yield result.rows;
          done = true;
        })(),
        summary: () => ({ rowCount: done ? result.rowCount : 0, truncated: result.truncated }),
        close: async () => {
          done = true;
        },
      };
    }
    const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH);
    const cursor = this.#cursor(q, options, options.maxRows + 1, batchSize);
    const map = (error: unknown): DatabaseError => this.#map(error, options.signal);
    const nextBatch = async (count: number): Promise<{ docs: Document[]; done: boolean }> => {
      const docs: Document[] = [];
      while (docs.length < count) {
        const doc = await cursor.next();
        if (doc === null) return { docs, done: true };
        docs.push(doc);
      }
      return { docs, done: false };
    };
    let first: { docs: Document[]; done: boolean };
    try {
      first = await nextBatch(Math.min(batchSize, options.maxRows + 1));
    } catch (error) {
      await cursor.close().catch(() => {});
      throw map(error);
    }
    const columns = columnsOf(first.docs.slice(0, options.maxRows));
    let rowCount = 0;
    let truncated = false;
    const maxRows = options.maxRows;
    const close = (): Promise<void> => cursor.close().catch(() => {});
    async function* batches(): AsyncGenerator<unknown[][]> {
      try {
        let batch = first;
        for (;;) {
          const room = maxRows - rowCount;
          const take = batch.docs.length > room ? batch.docs.slice(0, room) : batch.docs;
          if (batch.docs.length > room) truncated = true;
          rowCount += take.length;
          if (take.length > 0) yield take.map((d) => rowOf(d, columns));
          if (truncated || batch.done) return;
          try {
            batch = await nextBatch(Math.min(batchSize, maxRows - rowCount + 1));
          } catch (error) {
            throw map(error);
          }
        }
      } finally {
        await close();
      }
    }
    return { columns, batches: batches(), summary: () => ({ rowCount, truncated }), close };
  }

  /** Counts what a write (mongo-write.ts shape) would change: no transactions here, so nothing is tried. */
  async dryRun(
    statement: string,
    options: Pick<WriteOptions, 'timeoutMs' | 'signal'>,
  ): Promise<DryRunResult> {
    const started = performance.now();
    const write = this.#parseWrite(statement);
    if (!('operations' in write))
      return unrunnableDryRun(statement, classifyMongoQuery(statement), write.unrunnable, started);
    try {
      return await dryRunMongoWrite(this.#db(), statement, write, options);
    } catch (error) {
      throw this.#map(error, options.signal);
    }
  }

  /** Runs an approved write with the drift guard (see mongodb-writes.ts for what that can and cannot promise). */
  async executeWrite(statement: string, options: WriteOptions): Promise<WriteResult> {
    const write = this.#parseWrite(statement);
    if (!('operations' in write))
      throw databaseError('query_failed', ENGINE, write.unrunnable, this.#secrets);
    try {
      return await executeMongoWrite(this.#db(), statement, write, options);
    } catch (error) {
      throw this.#map(error, options.signal);
    }
  }

  /** A write of the write shape that the classifier calls a write (no server-side JavaScript), or why not. */
  #parseWrite(statement: string): MongoWrite | { unrunnable: string } {
    const verdict = classifyMongoQuery(statement);
    if (verdict.verdict === 'read')
      return { unrunnable: 'This is a read; it runs from a confirm card, not as a write.' };
    if (verdict.verdict !== 'write')
      return { unrunnable: `threadql does not run this on MongoDB: ${verdict.reasons.join('; ')}` };
    try {
      return parseMongoWrite(statement);
    } catch (error) {
      // A write of another kind ($out/$merge in a pipeline, a write command outside the shape): named plainly.
      const writesBy = verdict.reasons.find((r) => /\$out|\$merge/.test(r));
      return {
        unrunnable: writesBy
          ? `it ${writesBy.replace(/^\$\w+ /, (m) => `uses ${m.trim()}, which `)}; threadql runs MongoDB writes only as insertOne, insertMany, updateOne, updateMany, deleteOne, deleteMany or bulkWrite.`
          : messageOf(error),
      };
    }
  }

  /** No row estimate for MongoDB queries. */
  async explain(): Promise<ExplainResult | undefined> {
    return undefined;
  }

  /** Closes the client (and its pool) once. */
  close(): Promise<void> {
    this.#closing ??= this.#client.close().catch(() => {});
    return this.#closing;
  }

  #db(): Db {
    if (this.#closing)
      throw databaseError('database_unavailable', ENGINE, 'the connection is closed', this.#secrets);
    return this.#client.db();
  }

  /**
   * Parses the query and enforces the read allow-list here, before anything reaches the server: the safety
   * classifier must call it a read (find / aggregate / count / distinct, no $out / $merge, no server-side JS).
   * Parameters replace the query's `":name"` string values in the parsed query (typed values, never text).
   */
  #parse(query: string, params?: ExecuteOptions['params']): MongoQuery {
    const values = namedParams(ENGINE, params);
    const verdict = classifyMongoQuery(query);
    if (verdict.verdict !== 'read') {
      // Unreadable text is a failed query; a well-formed query or command that is not a read is a violation.
      const unparseable = verdict.statements.every((s) => s.type === 'UNPARSEABLE');
      throw databaseError(
        unparseable ? 'query_failed' : 'read_only_violation',
        ENGINE,
        verdict.reasons.join('; ') || 'not a read',
        [],
      );
    }
    try {
      const parsed = parseMongoQuery(query);
      return values ? substituteMongoPlaceholders(parsed, values) : parsed;
    } catch (error) {
      throw databaseError('query_failed', ENGINE, messageOf(error), this.#secrets);
    }
  }

  /** A find or aggregate cursor limited to `limit` documents with maxTimeMS. */
  #cursor(
    q: MongoQuery,
    options: ExecuteOptions,
    limit: number,
    batchSize?: number,
  ): AbstractCursor<Document> {
    const collection = this.#db().collection(q.collection);
    const common = {
      maxTimeMS: options.timeoutMs,
      ...(batchSize ? { batchSize } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    };
    if (q.operation === 'aggregate') {
      return collection.aggregate([...(q.pipeline ?? []), { $limit: limit }], common);
    }
    return collection.find(q.filter ?? {}, {
      ...common,
      ...(q.projection ? { projection: q.projection } : {}),
      ...(q.sort ? { sort: q.sort as Sort } : {}),
      ...(q.skip ? { skip: q.skip } : {}),
      limit: q.limit ? Math.min(q.limit, limit) : limit,
    });
  }

  #map(error: unknown, signal?: AbortSignal): ThreadqlError {
    if (error instanceof ThreadqlError) return error;
    if (signal?.aborted)
      return databaseError('query_failed', ENGINE, 'the query was cancelled', this.#secrets, error);
    const e = error as { code?: unknown; name?: unknown };
    const code = typeof e.code === 'number' ? e.code : undefined;
    const name = typeof e.name === 'string' ? e.name : '';
    const detail = code === undefined ? {} : { mongoCode: code };
    const message = messageOf(error);
    if ((code !== undefined && TIMEOUT_CODES.has(code)) || /exceeded time limit/i.test(message)) {
      return databaseError('query_timeout', ENGINE, message, this.#secrets, error, detail);
    }
    if (
      isNetworkError(error) ||
      (code !== undefined && AUTH_CODES.has(code)) ||
      /ServerSelection|Network|Topology|PoolClosed/.test(name)
    ) {
      return databaseError('database_unavailable', ENGINE, message, this.#secrets, error, detail);
    }
    return databaseError('query_failed', ENGINE, message, this.#secrets, error, detail);
  }
}
