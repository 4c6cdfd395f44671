import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { threadKey, type ThreadRef } from '../core/conversation/chat-platform.ts';
import { hasCode } from '../core/errors.ts';
import {
  defineStateMachine,
  guardStatus,
  isDuplicateKeyError,
  statusPaths,
  transition,
  type StatusFields,
  type TransitionOptions,
} from './state-machine.ts';
import type { StateTransitionModel } from './state-transition.ts';
import { threadRefSchema } from './thread-ref-schema.ts';
import { modelOn } from './model-on.ts';

export const sessionStatus = defineStateMachine({
  entity: 'QuerySession',
  table: { active: ['archived'], archived: ['active'] },
  initial: ['active'],
  stamps: { archived: 'archivedAt' },
});
export type SessionStatus = (typeof sessionStatus.states)[number];

/** Sessions idle this long are archived by the sweeper (DESIGN §3). */
export const SESSION_IDLE_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * One conversation per chat thread. `_id` is the normalised thread key (`platform:workspace:channel:thread`):
 * one session per thread is then the primary key itself, and the per-message lookup is an `_id` lookup
 * (the only query FerretDB 1.x filters inside its storage engine).
 */
export interface QuerySessionFields extends StatusFields<SessionStatus> {
  _id: string;
  thread: ThreadRef;
  /** `platform:workspace`, for per-workspace queries. */
  workspace: string;
  connection: Types.ObjectId | null;
  /** From the first question. */
  title: string;
  /** Compact window of recent turns the LLM sees; shape owned by core/conversation. */
  context: Record<string, unknown>;
  tokenUsage: number;
  queryCount: number;
  /**
   * Highest history sequence known to be taken. A hint only: the unique (session, sequence) key decides, so a
   * lagging hint costs a retry, never a duplicate.
   */
  historySeq: number;
  lastActivityAt: Date;
  archivedAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type QuerySessionModel = Model<QuerySessionFields>;

export const querySessionSchema = new Schema<QuerySessionFields>(
  {
    _id: { type: String, required: true },
    thread: { type: threadRefSchema, required: true },
    workspace: { type: String, required: true },
    connection: { type: Schema.Types.ObjectId, ref: 'DatabaseConnection', default: null },
    title: { type: String, required: true, trim: true, maxlength: 200 },
    context: { type: Schema.Types.Mixed, default: () => ({}) },
    tokenUsage: { type: Number, default: 0, min: 0 },
    queryCount: { type: Number, default: 0, min: 0 },
    historySeq: { type: Number, default: 0, min: 0 },
    lastActivityAt: { type: Date, required: true, default: () => new Date() },
    ...statusPaths(sessionStatus),
    archivedAt: { type: Date, default: null },
    createdBy: { type: String, default: null },
  },
  { collection: 'querysessions', timestamps: true, versionKey: false, minimize: false },
);
querySessionSchema.index({ workspace: 1, lastActivityAt: -1 });
querySessionSchema.index({ status: 1, lastActivityAt: 1 });
querySessionSchema.index({ connection: 1 });
querySessionSchema.pre('validate', function () {
  if (this.thread && this._id !== threadKey(this.thread)) {
    this.invalidate('_id', `QuerySession _id must be the thread key ${threadKey(this.thread)}`);
  }
});
guardStatus(querySessionSchema, sessionStatus);

/** The QuerySession model on a given connection. */
export function querySessionModel(connection: Connection): QuerySessionModel {
  return modelOn<QuerySessionFields>(connection, 'QuerySession', querySessionSchema);
}

/** A title from the first question: one line, at most 80 characters. */
export function sessionTitle(question: string): string {
  const line = question.replace(/\s+/g, ' ').trim();
  return line.length <= 80 ? line || 'Untitled' : `${line.slice(0, 79).trimEnd()}…`;
}

/** The thread's session, created on first use (concurrent first messages get the same one). */
export async function findOrCreateSession(
  model: QuerySessionModel,
  thread: ThreadRef,
  init: { question: string; connection?: Types.ObjectId | null; createdBy?: string | null; now?: Date },
): Promise<QuerySessionFields> {
  const existing = await model.findById(threadKey(thread)).lean<QuerySessionFields>();
  return existing ?? createSession(model, thread, init);
}

/**
 * Creates a thread's session with one insert (for a caller that just found none), with `context` set at once;
 * when another turn created it meanwhile, returns that one (the duplicate key, then one read).
 */
export async function createSession(
  model: QuerySessionModel,
  thread: ThreadRef,
  init: {
    question: string;
    connection?: Types.ObjectId | null;
    createdBy?: string | null;
    context?: Record<string, unknown>;
    now?: Date;
  },
): Promise<QuerySessionFields> {
  const _id = threadKey(thread);
  try {
    const created = await model.create({
      _id,
      thread,
      workspace: `${thread.platform}:${thread.workspace}`,
      connection: init.connection ?? null,
      title: sessionTitle(init.question),
      createdBy: init.createdBy ?? null,
      context: init.context ?? {},
      lastActivityAt: init.now ?? new Date(),
    });
    return created.toObject() as QuerySessionFields;
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    const winner = await model.findById(_id).lean<QuerySessionFields>();
    if (!winner) throw error;
    return winner;
  }
}

/** Moves a session between active and archived; atomic, see transition(). */
export function transitionSession(
  models: { QuerySession: QuerySessionModel; StateTransition: StateTransitionModel },
  id: string,
  to: SessionStatus,
  options: TransitionOptions<SessionStatus> = {},
): Promise<QuerySessionFields> {
  const set = to === 'active' ? { archivedAt: null, ...options.set } : options.set;
  return transition(models.QuerySession, models.StateTransition, sessionStatus, id, to, { ...options, set });
}

/** Archives active sessions idle for `idleMs` (default 30 days); returns how many it archived. For the sweeper job. */
export async function archiveIdleSessions(
  models: { QuerySession: QuerySessionModel; StateTransition: StateTransitionModel },
  options: { now?: Date; idleMs?: number } = {},
): Promise<number> {
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - (options.idleMs ?? SESSION_IDLE_MS));
  const idle = await models.QuerySession.find(
    { status: 'active', lastActivityAt: { $lt: cutoff } },
    { _id: 1 },
  ).lean<{ _id: string }[]>();
  let archived = 0;
  for (const { _id } of idle) {
    try {
      await transitionSession(models, _id, 'archived', { from: 'active', now, actor: 'system' });
      archived += 1;
    } catch (error) {
      // Reactivated or archived by someone else meanwhile: nothing to do.
      if (!hasCode(error, 'illegal_transition', 'conflict')) throw error;
    }
  }
  return archived;
}
