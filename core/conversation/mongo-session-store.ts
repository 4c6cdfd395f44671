/**
 * The engine's SessionStore on the Mongoose models: sessions keyed by thread, immutable history entries,
 * feedback, audit events, and the DatabaseConnection documents (status, schema cache, encrypted URL) of
 * the connections threadql.yml declares.
 */
import { createHash } from 'node:crypto';
import mongoose, { type Connection, type Types } from 'mongoose';
import type { ConnectionConfig } from '../../config/config-file.ts';
import { createModels, initModels, type Models } from '../../models/create-models.ts';
import {
  readSchemaCache,
  transitionConnection,
  writeSchemaCache,
  type ConnectionStatus,
} from '../../models/database-connection.ts';
import { recordFeedback } from '../../models/feedback.ts';
import {
  appendHistory,
  findHistoryWrite,
  historyKey,
  type ExecutionStatus,
} from '../../models/query-history.ts';
import { isDuplicateKeyError } from '../../models/state-machine.ts';
import { createSession, type QuerySessionFields } from '../../models/query-session.ts';
import { saveConnectionSecret } from '../credentials/connection-secrets.ts';
import { CredentialVault } from '../credentials/credential-vault.ts';
import type { SchemaSnapshot } from '../db/database-dialect.ts';
import { StateTransitionError } from '../errors.ts';
import type { AuditInput, ReplayableSessionStore, SessionOpening } from '../outbox/outboxed-session-store.ts';
import { threadKey, type ThreadRef, type UserRef, userKey } from './chat-platform.ts';
import type { HistoryEntryInput, HistoryStatus, SessionInfo, SessionTurn } from './engine-ports.ts';

/**
 * A deterministic AuditEvent `_id` for a write id: the event's time in the first four bytes (so `_id` order is
 * still time order, as for any ObjectId) and eight bytes of the write id's hash.
 */
export function auditEventId(writeId: string, at: Date): Types.ObjectId {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(Math.floor(at.getTime() / 1000) >>> 0, 0);
  createHash('sha256').update(writeId).digest().copy(bytes, 4, 0, 8);
  return new mongoose.Types.ObjectId(bytes);
}

/** Turns of context the LLM sees. */
const CONTEXT_TURNS = 10;
/** History appends between two trims of a session's pushed context turns. */
const CONTEXT_TRIM_EVERY = 20;

/** The LLM-context record of a history entry. */
function contextTurnOf(entry: HistoryEntryInput): SessionTurn {
  return {
    question: entry.userInput,
    ...(entry.generatedSql ? { sql: entry.generatedSql } : {}),
    status: entry.status,
    ...(entry.resultCount !== undefined ? { resultCount: entry.resultCount } : {}),
  };
}

function rawTurns(session: Partial<Pick<QuerySessionFields, 'context'>>): SessionTurn[] {
  return Array.isArray(session.context?.turns) ? (session.context.turns as SessionTurn[]) : [];
}

/** Pushed turns as the LLM sees them: a run or cancel settles the turn it confirms rather than adding one. */
export function foldTurns(pushed: readonly SessionTurn[]): SessionTurn[] {
  const turns: SessionTurn[] = [];
  for (const turn of pushed) {
    const last = turns.at(-1);
    const settles =
      last &&
      last.sql === turn.sql &&
      last.status === 'awaiting_confirmation' &&
      turn.status !== 'awaiting_confirmation';
    if (settles) turns[turns.length - 1] = { ...last, ...turn, question: last.question };
    else turns.push(turn);
  }
  return turns;
}
const CONFIG_WORKSPACE = '*';

const EXECUTION_STATUS: Record<HistoryStatus, ExecutionStatus> = {
  planned: 'pending',
  awaiting_confirmation: 'pending',
  needs_approval: 'skipped',
  cancelled: 'skipped',
  clarification: 'skipped',
  success: 'success',
  error: 'error',
};

export interface MongoSessionStoreOptions {
  connections: readonly ConnectionConfig[];
  /** THREADQL_MASTER_KEY (base64 key or passphrase:…): connection URLs are stored encrypted with it. */
  masterKey: string;
  /** How long DatabaseConnection.schemaCache stays valid, in seconds. */
  schemaTtlSeconds?: number;
}

export class MongoSessionStore implements ReplayableSessionStore {
  readonly models: Models;
  private readonly connectionIds: Map<string, Types.ObjectId>;
  private readonly schemaTtlMs: number;

  private constructor(models: Models, connectionIds: Map<string, Types.ObjectId>, schemaTtlMs: number) {
    this.models = models;
    this.connectionIds = connectionIds;
    this.schemaTtlMs = schemaTtlMs;
  }

  /** Compiles the models, creates their indexes and records the configured connections (URLs encrypted). */
  static async create(store: Connection, options: MongoSessionStoreOptions): Promise<MongoSessionStore> {
    const models = createModels(store);
    await initModels(models);
    const vault = CredentialVault.fromMasterKey(options.masterKey);
    const ids = new Map<string, Types.ObjectId>();
    for (const config of options.connections) {
      const doc = await models.DatabaseConnection.findOneAndUpdate(
        { workspace: CONFIG_WORKSPACE, name: config.name.toLowerCase() },
        {
          $set: {
            databaseType: config.type,
            description: config.description ?? null,
            channels: config.channels,
            isDefault: config.default,
            maskedColumns: config.maskedColumns.map((m) => m.column),
            source: 'config',
          },
          $setOnInsert: {
            workspace: CONFIG_WORKSPACE,
            name: config.name.toLowerCase(),
            status: 'disconnected',
          },
        },
        { upsert: true, returnDocument: 'after', runValidators: true, setDefaultsOnInsert: true },
      );
      await saveConnectionSecret(models.CredentialStore, vault, doc!._id, config.url);
      ids.set(config.name.toLowerCase(), doc!._id);
    }
    return new MongoSessionStore(models, ids, (options.schemaTtlSeconds ?? 3600) * 1000);
  }

  /**
   * Creates the thread's session in one insert, connection included (the engine looked for it first and found
   * none); a session another turn created meanwhile is returned instead, its connection set if it had none.
   */
  async openSession(
    thread: ThreadRef,
    user: UserRef,
    connectionName: string,
    question: string,
  ): Promise<SessionInfo> {
    const session = await createSession(this.models.QuerySession, thread, {
      question,
      connection: this.connectionIds.get(connectionName.toLowerCase()) ?? null,
      createdBy: userKey(user),
      context: { connectionName },
    });
    if (!session.context?.connectionName) await this.setConnection(session._id, connectionName);
    return this.info({
      ...session,
      context: { ...session.context, connectionName: session.context?.connectionName ?? connectionName },
    });
  }

  async findSession(thread: ThreadRef): Promise<SessionInfo | undefined> {
    const session = await this.models.QuerySession.findById(threadKey(thread)).lean<QuerySessionFields>();
    return session ? this.info(session) : undefined;
  }

  /** Appends an entry; `hint.sequence` is the number to try first (see AppendOptions.sequence). */
  async appendHistory(
    sessionId: string,
    entry: HistoryEntryInput,
    hint: { sequence?: number } = {},
  ): Promise<number> {
    return this.appendHistoryOnce(sessionId, entry, hint.sequence ? { sequence: hint.sequence } : {});
  }

  /**
   * appendHistory with an idempotency key: with `write.replay`, an entry this write already appended is found (by
   * `_id` probes) and its sequence returned instead of appending twice. `write.at` keeps the original time, and
   * `write.open` creates the thread's session first when it does not exist yet (a turn recorded while the store was
   * down never got to open it); `write.sequence` is the number to try first.
   */
  async appendHistoryOnce(
    sessionId: string,
    entry: HistoryEntryInput,
    write: { id?: string; at?: Date; replay?: boolean; open?: SessionOpening; sequence?: number } = {},
  ): Promise<number> {
    if (write.replay && write.id) {
      const landed = await findHistoryWrite(this.models, sessionId, write.id);
      if (landed) return landed.sequence;
    }
    if (write.open && !(await this.models.QuerySession.exists({ _id: sessionId })))
      await this.openSession(
        write.open.thread,
        write.open.user,
        write.open.connectionName,
        write.open.question,
      );
    const saved = await appendHistory(
      this.models,
      sessionId,
      {
        type: entry.type,
        userInput: entry.userInput,
        generatedSql: entry.generatedSql ?? null,
        executionStatus: EXECUTION_STATUS[entry.status],
        resultCount: entry.resultCount ?? null,
        executionMs: entry.executionMs ?? null,
        tokenCount: entry.tokenCount ?? 0,
        user: entry.userKey,
        error: entry.error ? `${entry.error.code}: ${entry.error.message}`.slice(0, 2000) : null,
        writeId: write.id ?? null,
      },
      {
        ...(write.at ? { now: write.at } : {}),
        ...(write.sequence ? { sequence: write.sequence } : {}),
        ...(entry.type === 'query' || entry.type === 'clarification'
          ? { contextTurn: contextTurnOf(entry) as unknown as Record<string, unknown> }
          : {}),
      },
    );
    if (saved.sequence % CONTEXT_TRIM_EVERY === 0) await this.trimContext(sessionId);
    return saved.sequence;
  }

  /**
   * Folds the session's pushed context turns down to the last CONTEXT_TURNS (each append pushes one, unbounded:
   * FerretDB ignores $push's $slice). Turns in one thread are serialised by the engine, so read-modify-write is safe.
   */
  private async trimContext(sessionId: string): Promise<void> {
    const session = await this.models.QuerySession.findById(sessionId, { context: 1 }).lean<
      Pick<QuerySessionFields, 'context'>
    >();
    const turns = rawTurns(session ?? {});
    if (turns.length > CONTEXT_TURNS)
      await this.models.QuerySession.updateOne(
        { _id: sessionId },
        { $set: { 'context.turns': foldTurns(turns).slice(-CONTEXT_TURNS) } },
      );
  }

  async setConnection(sessionId: string, connectionName: string): Promise<void> {
    await this.models.QuerySession.updateOne(
      { _id: sessionId },
      {
        $set: {
          'context.connectionName': connectionName,
          connection: this.connectionIds.get(connectionName.toLowerCase()) ?? null,
        },
      },
    );
  }

  async recordFeedback(input: {
    sessionId: string;
    turn: number;
    userKey: string;
    rating: 'up' | 'down';
    sql?: string;
  }): Promise<void> {
    await recordFeedback(this.models.Feedback, {
      session: input.sessionId,
      historyEntry: historyKey(input.sessionId, input.turn),
      user: input.userKey,
      rating: input.rating,
      ...(input.sql ? { correctedSql: input.sql } : {}),
    });
  }

  async audit(event: AuditInput): Promise<void> {
    await this.auditOnce(event);
  }

  /**
   * audit with an idempotency key: the event's `_id` is derived from `write.id` (and its time from `write.at`), so
   * writing the same event twice leaves one document.
   */
  async auditOnce(event: AuditInput, write: { id?: string; at?: Date } = {}): Promise<void> {
    const at = write.at ?? new Date();
    const outcome =
      event.outcome ??
      (/refused|denied/.test(event.action) ? 'denied' : /failed/.test(event.action) ? 'failure' : 'success');
    try {
      await this.models.AuditEvent.create({
        ...(write.id ? { _id: auditEventId(write.id, at) } : {}),
        at,
        actor: event.actorKey,
        action: event.action,
        outcome,
        workspace: event.threadKey.split(':').slice(0, 2).join(':'),
        thread: event.threadKey,
        connection:
          typeof event.detail?.connection === 'string'
            ? (this.connectionId(event.detail.connection) ?? null)
            : null,
        sqlHash: event.sqlHash ?? null,
        target: event.target ?? null,
        detail: event.detail ?? {},
      });
    } catch (error) {
      // The same write landed before (a replay after a lost acknowledgement): nothing to do.
      if (!(write.id && isDuplicateKeyError(error))) throw error;
    }
  }

  /** Resolves when the store answers a ping (readiness checks, breaker probes). */
  async ping(): Promise<void> {
    await this.models.QuerySession.db.db!.admin().ping();
  }

  /** The DatabaseConnection id of a configured connection, by name (case-insensitive). */
  connectionId(name: string): Types.ObjectId | undefined {
    return this.connectionIds.get(name.toLowerCase());
  }

  /** Records a connection's status; bookkeeping never fails a query, so refused moves are absorbed. */
  async setConnectionStatus(
    name: string,
    status: 'connecting' | 'connected' | 'error',
    detail?: string,
  ): Promise<void> {
    const id = this.connectionIds.get(name.toLowerCase());
    if (!id) return;
    const current = await this.models.DatabaseConnection.findById(id, { status: 1 }).lean<{
      status: ConnectionStatus;
    }>();
    try {
      if (status === 'connecting' && current?.status === 'connected')
        await transitionConnection(this.models, id, 'disconnected');
      if (status === 'connecting' && current?.status === 'connecting') return;
      await transitionConnection(
        this.models,
        id,
        status,
        status === 'error' ? { set: { lastError: (detail ?? 'error').slice(0, 1000) } } : {},
      );
    } catch (error) {
      if (!(error instanceof StateTransitionError)) throw error;
    }
  }

  /**
   * The key a connection's schema is cached under in Redis: its name and its DatabaseConnection id, so two
   * deployments (or test runs) sharing one Redis never read each other's snapshot of a same-named connection.
   */
  schemaCacheKey(name: string): string {
    const id = this.connectionIds.get(name.toLowerCase());
    return id ? `${name.toLowerCase()}:${String(id)}` : name.toLowerCase();
  }

  async readSchema(name: string): Promise<SchemaSnapshot | undefined> {
    const id = this.connectionIds.get(name.toLowerCase());
    return id ? readSchemaCache(this.models.DatabaseConnection, id, { ttlMs: this.schemaTtlMs }) : undefined;
  }

  async writeSchema(name: string, schema: SchemaSnapshot): Promise<void> {
    const id = this.connectionIds.get(name.toLowerCase());
    if (id) await writeSchemaCache(this.models.DatabaseConnection, id, schema);
  }

  private info(session: QuerySessionFields): SessionInfo {
    const turns = foldTurns(rawTurns(session)).slice(-CONTEXT_TURNS);
    const connectionName =
      typeof session.context?.connectionName === 'string' ? session.context.connectionName : '';
    return {
      id: session._id,
      threadKey: session._id,
      connectionName,
      recentTurns: turns,
      nextSequence: (session.historySeq ?? 0) + 1,
    };
  }
}
