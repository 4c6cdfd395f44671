import type { DatabaseType } from '../../config/config-file.ts';
import type { Verdict } from '../safety/verdict.ts';

/** What an engine can do, as data: callers branch on these flags, never on the engine's name. */
export interface DialectCapabilities {
  queryLanguage: 'sql' | 'mongo';
  /** DDL can run inside a transaction and be rolled back (PostgreSQL, SQLite), so a DDL dry run is safe. */
  transactionalDdl: boolean;
  /** The engine itself enforces read-only execution (read-only transaction, handle or command allow-list). */
  enforcedReadOnly: boolean;
  /** EXPLAIN gives a row estimate before a query runs. */
  explainEstimate: boolean;
  /** Identifier quote character for generated SQL ('"' or '`'); empty for MongoDB. */
  identifierQuote: '"' | '`' | '';
  /** Name the LLM prompt uses for the dialect, e.g. "PostgreSQL 15". */
  displayName: string;
}

export interface ColumnInfo {
  name: string;
  /** The engine's own type name, e.g. `timestamp with time zone`, `varchar(255)`, `string` (MongoDB, inferred). */
  type: string;
  nullable: boolean;
  defaultValue?: string | null;
  isPrimaryKey: boolean;
  comment?: string | null;
  /** Set on the copy the model sees when threadql.yml masks this column (never by introspection). */
  masked?: boolean;
}

export interface ForeignKeyInfo {
  name?: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
}

export interface IndexInfo {
  name: string;
  columns: string[];
  unique: boolean;
  primary: boolean;
}

export interface TableInfo {
  /** Schema (PostgreSQL) or database (MySQL); omitted for SQLite and MongoDB. */
  schema?: string;
  name: string;
  kind: 'table' | 'view' | 'collection';
  columns: ColumnInfo[];
  primaryKey: string[];
  foreignKeys: ForeignKeyInfo[];
  indexes: IndexInfo[];
  rowEstimate?: number;
  comment?: string | null;
}

export interface RelationshipInfo {
  name?: string;
  fromTable: string;
  fromColumns: string[];
  toTable: string;
  toColumns: string[];
  /** Cardinality seen from `fromTable`: many rows point to one (FK), or one-to-one (FK columns are unique). */
  cardinality: 'many-to-one' | 'one-to-one';
}

/** The introspected shape of a database; the SchemaDefinition model stores exactly this. */
export interface SchemaSnapshot {
  databaseType: DatabaseType;
  tables: TableInfo[];
  relationships: RelationshipInfo[];
  introspectedAt: Date;
  /** Number of catalog queries introspection used (constant in the number of tables). */
  catalogQueries: number;
}

export type ValueKind = 'number' | 'string' | 'boolean' | 'date' | 'datetime' | 'json' | 'binary' | 'unknown';

export interface ResultColumn {
  name: string;
  /** The engine's type name for the column. */
  type: string;
  /** Normalised kind that renderers and chart choice use. */
  kind: ValueKind;
}

/**
 * A read's result. Rows are arrays in column order (two columns may share a name).
 * Values: numbers, strings (big or exact numerics stay strings, kind 'number'), booleans, Date, null, plain JSON.
 */
export interface QueryResult {
  columns: ResultColumn[];
  rows: unknown[][];
  /** Rows returned (≤ maxRows). */
  rowCount: number;
  /** True when the query had more than maxRows rows. */
  truncated: boolean;
  durationMs: number;
}

export interface ExecuteOptions {
  timeoutMs: number;
  maxRows: number;
  signal?: AbortSignal;
  /** Rows per batch for streamRead (default 1000); executeRead ignores it. */
  batchSize?: number;
}

/** A read streamed in batches (for CSV export of any size); runs in the same read-only mode. */
export interface ReadStream {
  columns: ResultColumn[];
  /** At most maxRows rows in total; iterate once. Breaking out of the loop releases the connection. */
  batches: AsyncIterable<unknown[][]>;
  /** Rows yielded so far, and whether the query had more than maxRows rows (final once batches is exhausted). */
  summary(): { rowCount: number; truncated: boolean };
  /** Releases the connection early (idempotent); needed only when batches is not iterated to its end. */
  close(): Promise<void>;
}

export interface IntrospectOptions {
  /** Limit to these schemas (PostgreSQL) — default: every non-system schema. Ignored by other engines. */
  schemas?: string[];
}

export interface DryRunResult {
  /** False when the engine cannot undo this statement (e.g. DDL on MySQL); then nothing was run. */
  performed: boolean;
  affectedRows?: number;
  reason?: string;
  durationMs: number;
}

export interface ExplainResult {
  estimatedRows?: number;
  plan: string;
}

/** One live connection pool to one target database. Started once by createDriver, closed once by close(). */
export interface DatabaseDriver {
  readonly dialect: DatabaseDialect;
  /** A test query: resolves when the database answers, rejects with a DatabaseError otherwise. */
  validate(): Promise<void>;
  introspect(options?: IntrospectOptions): Promise<SchemaSnapshot>;
  /** Runs a read inside an engine-enforced read-only scope with a timeout and a row cap (fetches cap+1). */
  executeRead(query: string, options: ExecuteOptions): Promise<QueryResult>;
  /** Streams a read in batches inside the same read-only scope; for exports of any size. */
  streamRead(query: string, options: ExecuteOptions): Promise<ReadStream>;
  /** Runs a write in a transaction that is always rolled back, reporting affected rows. */
  dryRun(statement: string, options: Pick<ExecuteOptions, 'timeoutMs'>): Promise<DryRunResult>;
  /** Runs an approved write or DDL in a transaction (where the engine allows) and commits it. */
  executeWrite(statement: string, options: Pick<ExecuteOptions, 'timeoutMs'>): Promise<DryRunResult>;
  explain(query: string, options: Pick<ExecuteOptions, 'timeoutMs'>): Promise<ExplainResult | undefined>;
  close(): Promise<void>;
}

export interface DriverOptions {
  /** Pool size; defaults per engine. */
  poolSize?: number;
  /** Connect timeout in ms. */
  connectTimeoutMs?: number;
}

/** One per engine: how to connect, introspect, classify and run safely. */
export interface DatabaseDialect {
  readonly type: DatabaseType;
  readonly capabilities: DialectCapabilities;
  createDriver(url: string, options?: DriverOptions): Promise<DatabaseDriver>;
  /** Classifies a statement (SQL text, or a MongoDB query as JSON text) before anything runs. */
  classify(query: string): Promise<Verdict>;
}
