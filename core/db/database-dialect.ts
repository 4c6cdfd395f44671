import type { DatabaseType } from '../../config/config-file.ts';
import type { StatementClass, Verdict } from '../safety/verdict.ts';

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
  /** Set when the index backs a UNIQUE constraint (PostgreSQL, SQLite) rather than standing on its own. */
  constraint?: boolean;
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
  /** Set when masking (core/governance) changed this result: which columns, and what a chart may draw of it. */
  masking?: ResultMasking;
}

/** What masking did to a result. The rows are already masked; this says what and how, for notes and charts. */
export interface ResultMasking {
  columns: { column: string; mode: 'hide' | 'redact' | 'hash'; sources: string[] }[];
  /** The result as a chart may draw it: masked measures left out, masked dimensions as placeholders. */
  chart: QueryResult;
}

/** A value bound to a query parameter; never spliced into the query text. */
export type BoundValue = string | number | boolean | Date | null;

/**
 * Values for a query's parameters, sent separately from its text: positional for SQL (`$1`, `$2`… on PostgreSQL,
 * `?` on MySQL and SQLite, one value per `?`), by name for MongoDB (each string value `":name"` in the query).
 */
export type QueryParams = readonly BoundValue[] | Readonly<Record<string, BoundValue>>;

export interface ExecuteOptions {
  timeoutMs: number;
  maxRows: number;
  signal?: AbortSignal;
  /** Rows per batch for streamRead (default 1000); executeRead ignores it. */
  batchSize?: number;
  /** Bound parameter values (reads and explain only). */
  params?: QueryParams;
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

/** One statement of a write batch as the dry run measured it. */
export interface StatementImpact {
  /** The statement's text, as the dialect's parser split the batch (a MongoDB operation as Extended JSON). */
  sql: string;
  verdict: StatementClass;
  /** The statement's kind, e.g. UPDATE, CREATE INDEX, deleteMany. */
  type: string;
  /** Rows it changed inside the rolled-back transaction (MongoDB: documents matched, or to insert). */
  affectedRows?: number;
  /** EXPLAIN's estimate of the rows it touches, where the engine gives one cheaply (writes only). */
  estimatedRows?: number;
  /** Why it was not measured; then nothing of it ran. */
  notMeasured?: string;
}

/** What a write batch would do, measured in a transaction that is always rolled back (never guessed). */
export interface DryRunResult {
  /** True when every statement was measured. */
  performed: boolean;
  statements: StatementImpact[];
  /** Sum of the measured statements' rows. */
  affectedRows?: number;
  /** Why some statements were not measured, in words for the card. */
  reason?: string;
  /** How it was measured when not by a rolled-back transaction (MongoDB counts), in words for the card. */
  note?: string;
  /** Set when the batch cannot be executed at all as written (e.g. it holds COMMIT); then it cannot be approved. */
  unrunnable?: string;
  durationMs: number;
}

export interface WriteOptions {
  timeoutMs: number;
  /** Aborting cancels the running statement; the transaction is rolled back. */
  signal?: AbortSignal;
  /**
   * The drift guard: the dry run's count per statement (undefined where it measured none). A statement that
   * changes more than `expected × (1 + driftTolerance)` rows makes the whole batch roll back with a DriftError.
   */
  expected?: readonly (number | undefined)[];
  /** Allowed excess over `expected` as a fraction: 0.1 = 10% more, 0 = not one row more. Default 0. */
  driftTolerance?: number;
}

/** What an executed write did. */
export interface WriteResult {
  statements: { sql: string; type: string; affectedRows: number }[];
  affectedRows: number;
  /** True when the batch ran in one transaction, so a failure or a drift abort left nothing behind. */
  atomic: boolean;
  /** Why it was not atomic, or which statements the drift guard could not cover, in words for the thread. */
  note?: string;
  durationMs: number;
}

export interface ExplainResult {
  estimatedRows?: number;
  plan: string;
}

/** How a schema session runs (migrations: verification, apply, roll back, shadow set-up). */
export interface SchemaSessionOptions {
  /**
   * Commit at the end (apply), or always roll back (verification on the target). Engines without transactional
   * DDL (MySQL, MariaDB) commit every DDL statement as it runs, whatever this says.
   */
  commit: boolean;
  /** Time limit of each statement. */
  timeoutMs: number;
  /** How long a statement may wait for a lock, so a schema change never queues (and blocks others) for long. */
  lockTimeoutMs: number;
}

/** One connection held for a schema change: statements run one at a time, in one transaction where possible. */
export interface SchemaSession {
  /** Runs one statement without parameters; resolves to the rows it affected. */
  execute(statement: string): Promise<number>;
  /** Runs one parameterised statement (`$1` on PostgreSQL, `?` on MySQL and SQLite); rows as objects. */
  query(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /** The schema as this session sees it, its own uncommitted changes included. */
  introspect(): Promise<SchemaSnapshot>;
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
  /**
   * Measures a write batch statement by statement in a transaction that is always rolled back; what the engine
   * cannot undo (MySQL DDL, statements that commit implicitly or act outside a transaction) is not run, and the
   * result says so.
   */
  dryRun(statement: string, options: Pick<WriteOptions, 'timeoutMs' | 'signal'>): Promise<DryRunResult>;
  /**
   * Runs an approved batch in one transaction (where the engine allows) and commits it; with `expected`, rolls
   * back and throws a DriftError when a statement changes more rows than the dry run allows.
   */
  executeWrite(statement: string, options: WriteOptions): Promise<WriteResult>;
  explain(
    query: string,
    options: Pick<ExecuteOptions, 'timeoutMs' | 'params'>,
  ): Promise<ExplainResult | undefined>;
  /**
   * Holds one connection for a schema change (SQL engines; absent on MongoDB). `work`'s errors pass through
   * unchanged; the engine's own errors become DatabaseErrors. Nothing is committed unless `options.commit`.
   */
  schemaSession?<T>(options: SchemaSessionOptions, work: (session: SchemaSession) => Promise<T>): Promise<T>;
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
