/**
 * What the conversation flows need from the rest of threadql, as small interfaces. The flows are wired from
 * real implementations in core/conversation/create-flows.ts; keeping the seams here lets each piece (store,
 * databases, Claude, renderers) change without touching the flows.
 */
import type { Limits } from '../../config/config-file.ts';
import type { Logger } from '../logger.ts';
import type { DatabaseDriver, QueryResult, ReadStream, SchemaSnapshot } from '../db/database-dialect.ts';
import type { Verdict } from '../safety/verdict.ts';
import type { FileAttachment, ThreadRef, UserRef } from './chat-platform.ts';

export type HistoryType =
  'query' | 'schema_design' | 'optimization' | 'clarification' | 'approval' | 'migration';
export type HistoryStatus =
  | 'planned'
  | 'awaiting_confirmation'
  | 'needs_approval'
  | 'cancelled'
  | 'success'
  | 'error'
  | 'clarification';

export interface HistoryEntryInput {
  type: HistoryType;
  userInput: string;
  userKey: string;
  generatedSql?: string;
  explanation?: string;
  status: HistoryStatus;
  resultCount?: number;
  executionMs?: number;
  tokenCount?: number;
  llmMs?: number;
  error?: { code: string; message: string };
}

export interface SessionTurn {
  question: string;
  sql?: string;
  status: string;
  resultCount?: number;
}

export interface SessionInfo {
  id: string;
  threadKey: string;
  connectionName: string;
  /** Most recent turns, oldest first, for the LLM context. */
  recentTurns: SessionTurn[];
  /** The sequence number the session's next history entry should get, as the store last knew it. */
  nextSequence?: number;
}

/** What creates a thread's session when a journaled record outlives the session's own write (a replay). */
export interface SessionOpeningInput {
  thread: ThreadRef;
  user: UserRef;
  connectionName: string;
  question: string;
}

/** The QuerySession/QueryHistory/Feedback/AuditEvent persistence the engine drives. */
export interface SessionStore {
  /** The thread's session, created (titled by the first question) when absent. */
  openSession(
    thread: ThreadRef,
    user: UserRef,
    connectionName: string,
    question: string,
  ): Promise<SessionInfo>;
  findSession(thread: ThreadRef): Promise<SessionInfo | undefined>;
  /**
   * Appends one immutable history entry (its tokenCount adds to the session's usage); returns its sequence number.
   * `sequence` is the number to try first (see AppendOptions.sequence in models/query-history.ts).
   */
  appendHistory(sessionId: string, entry: HistoryEntryInput, hint?: { sequence?: number }): Promise<number>;
  setConnection(sessionId: string, connectionName: string): Promise<void>;
  recordFeedback(input: {
    sessionId: string;
    turn: number;
    userKey: string;
    rating: 'up' | 'down';
    sql?: string;
  }): Promise<void>;
  audit(event: {
    action: string;
    actorKey: string;
    threadKey: string;
    sqlHash?: string;
    detail?: Record<string, unknown>;
    /** Default: from the action's name (`…refused` / `…denied` → denied, `…failed` → failure, else success). */
    outcome?: 'success' | 'failure' | 'denied';
    /** The entity acted on, e.g. `ApprovalRequest:66f…`. */
    target?: string;
  }): Promise<void>;
  /** Resolves when every write accepted so far has reached the store (a store that writes behind the replies). */
  idle?(): Promise<void>;
  /**
   * appendHistory that never loses the entry to a store outage: it is written now, or kept durably and written
   * when the store is back (`queued`). `open` lets the late write create the thread's session if it has none.
   * Optional: stores without a durable queue do not offer it.
   */
  recordHistory?(
    sessionId: string,
    entry: HistoryEntryInput,
    open?: SessionOpeningInput,
  ): Promise<{ queued: boolean; sequence?: number }>;
  /**
   * Journal first (optional): keeps the entry durably now (a local journal) and returns the write that stores it,
   * resolving with its sequence number (0 while it waits for a replay). A store that writes behind the replies
   * stages before it answers, so a process killed after a reply loses no record.
   */
  stageHistory?(
    sessionId: string,
    entry: HistoryEntryInput,
    hint?: { sequence?: number; open?: SessionOpeningInput },
  ): Promise<() => Promise<number>>;
  /** Journal first for an audit event (see stageHistory). */
  stageAudit?(event: Parameters<SessionStore['audit']>[0]): Promise<() => Promise<void>>;
}

export interface ResolvedConnection {
  name: string;
  driver: DatabaseDriver;
}

/** Which connection a thread may use, and its live driver and schema. */
export interface ConnectionProvider {
  /** The connection bound to this channel (or the named one, if the channel may use it). Throws PermissionError/NotFoundError. */
  resolve(thread: ThreadRef, name?: string): Promise<ResolvedConnection>;
  /** A connection by name, without a channel check (the check happened when the turn was planned). */
  resolveByName(name: string): Promise<ResolvedConnection>;
  schema(name: string): Promise<SchemaSnapshot>;
  /** Replaces the cached schema of a connection (after threadql changed it: a migration applied or rolled back). */
  setSchema?(name: string, schema: SchemaSnapshot): Promise<void>;
  classify(name: string, query: string): Promise<Verdict>;
  /** Connection names this channel may use. */
  allowedFor(thread: ThreadRef): string[];
}

export interface LlmUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  llmMs: number;
}

export interface ChartSuggestion {
  type: string;
  x?: string;
  y?: string;
  series?: string;
  title?: string;
}

export type Generation =
  | {
      kind: 'query';
      query: string;
      explanation: string;
      title?: string;
      chart?: ChartSuggestion;
      attempts: number;
      usage: LlmUsage;
    }
  | { kind: 'clarify'; question: string; usage: LlmUsage }
  /** A schema change Claude proposed (SQL connections): it becomes a migration card, never a statement. */
  | { kind: 'migration'; description: string; name?: string; up: string; down: string; usage: LlmUsage };

export interface GenerationRequest {
  question: string;
  schema: SchemaSnapshot;
  dialectName: string;
  queryLanguage: 'sql' | 'mongo';
  history: SessionTurn[];
  /** Cancels the generation (a shutdown); the generator also keeps its own overall budget. */
  signal?: AbortSignal;
  /** The turn's logger, so what the generator logs carries the turn id. */
  logger?: Pick<Logger, 'warn'>;
}

/** Claude behind the engine: a question in, a query (after up to 3 repair rounds) or a clarifying question out. */
export interface QueryGenerator {
  generate(
    request: GenerationRequest,
    validate: (query: string) => Promise<string | undefined>,
  ): Promise<Generation>;
}

export interface ChartImage {
  png: Buffer;
  spec: unknown;
  chartType: string;
}

/** The renderers the engine calls; the table itself is rendered by each adapter from the neutral table part. */
export interface ResultRenderers {
  chart(
    result: QueryResult,
    options: { title: string; hint?: ChartSuggestion },
  ): Promise<ChartImage | undefined>;
  /** CSV of a whole result, streamed batch by batch; `capped` when the size cap cut it short. */
  csv(
    input: QueryResult | ReadStream,
    options: { filename: string; maxBytes: number },
  ): Promise<{ file: FileAttachment; capped: boolean; rows: number }>;
  /** ERD PNG of the schema, or of the neighbourhood of `tables`; text when no browser is available. */
  erd(schema: SchemaSnapshot, tables: string[]): Promise<{ png?: Buffer; mermaid: string; warning?: string }>;
  /** Any mermaid text as a PNG (a migration's ERD diff); only the warning when no browser is available. */
  diagram?(mermaid: string): Promise<{ png?: Buffer; warning?: string }>;
}

export interface EngineSettings {
  limits: Limits;
  /** Is this user an approver on their platform (user id or one of their roles listed)? */
  isApprover(user: UserRef): boolean;
  /** Is this user an admin on their platform (threadql.yml `admins`, by user id or role)? */
  isAdmin(user: UserRef): boolean;
  now(): Date;
}
