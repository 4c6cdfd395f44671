import { Schema, Types, type Connection, type Model } from 'mongoose';
import type { ThreadRef } from '../core/conversation/chat-platform.ts';
import { STATEMENT_CLASSES, type StatementClass } from '../core/safety/verdict.ts';
import {
  defineStateMachine,
  guardStatus,
  statusPaths,
  transition,
  type StatusFields,
  type TransitionOptions,
} from './state-machine.ts';
import type { StateTransitionModel } from './state-transition.ts';
import { threadRefSchema } from './thread-ref-schema.ts';
import { modelOn } from './model-on.ts';

export const approvalStatus = defineStateMachine({
  entity: 'ApprovalRequest',
  table: {
    pending: ['approved', 'rejected', 'expired', 'superseded'],
    approved: ['executed', 'failed'],
    rejected: [],
    expired: [],
    // Its SQL was edited: the edit is a new request (supersededBy), so this approval can never run other SQL.
    superseded: [],
    executed: [],
    failed: [],
  },
  initial: ['pending'],
  stamps: {
    approved: 'decidedAt',
    rejected: 'decidedAt',
    expired: 'decidedAt',
    superseded: 'decidedAt',
    executed: 'executedAt',
    failed: 'executedAt',
  },
});
export type ApprovalStatus = (typeof approvalStatus.states)[number];

/**
 * A write or migration waiting for approvers; bound to the connection, the SHA-256 of the exact statement and the
 * dry run's counts. Decisions live in their own collection (ApprovalDecision: one unique insert per user), not in
 * an array here: FerretDB's conditional updates and `$push` are not atomic under concurrency.
 */
export interface ApprovalRequestFields extends StatusFields<ApprovalStatus> {
  _id: Types.ObjectId;
  /** Makes creation idempotent (a retried "Request approval" finds the request it made); unique. */
  requestKey: string;
  kind: 'write' | 'migration';
  workspace: string;
  connection: Types.ObjectId;
  connectionName: string;
  migration: Types.ObjectId | null;
  statement: string;
  /** SHA-256 hex of `statement`; editing the SQL voids the approval. */
  sqlHash: string;
  verdict: StatementClass;
  /** The dry run shown on the card (per statement: type, class, rows measured or why not, EXPLAIN estimate). */
  impact: Record<string, unknown> | null;
  /** Rows the dry run measured in all; null when it measured none. */
  expectedRows: number | null;
  /** How many more rows than measured the execution may change (fraction), fixed when requested. */
  driftTolerance: number;
  /** User key (`platform:workspace:user`) of who asked. */
  requester: string;
  requesterName: string | null;
  approvalsRequired: number;
  /** Set when the last needed approval claimed the execution: who approved (user keys and names). */
  approvedBy: string[];
  approvedByNames: string[];
  rejectedBy: string | null;
  rejectionReason: string | null;
  /** The request this one replaced after an edit, and the one that replaced this. */
  supersedes: Types.ObjectId | null;
  supersededBy: Types.ObjectId | null;
  /** Rows the execution changed, and how long it took. */
  affectedRows: number | null;
  executionMs: number | null;
  /** Error code of a failed execution (e.g. `write_drift`). */
  errorCode: string | null;
  thread: ThreadRef;
  /** Message id of the approval card, to update it. */
  cardMessageId: string | null;
  /** Pending requests past this are expired by the sweeper (no TTL indexes on FerretDB). */
  expiresAt: Date;
  decidedAt: Date | null;
  executedAt: Date | null;
  resultSummary: string | null;
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type ApprovalRequestModel = Model<ApprovalRequestFields>;

export const approvalRequestSchema = new Schema<ApprovalRequestFields>(
  {
    requestKey: { type: String, required: true, default: () => new Types.ObjectId().toHexString() },
    kind: { type: String, enum: ['write', 'migration'], required: true },
    workspace: { type: String, required: true },
    connection: { type: Schema.Types.ObjectId, ref: 'DatabaseConnection', required: true },
    connectionName: { type: String, required: true },
    migration: { type: Schema.Types.ObjectId, ref: 'Migration', default: null },
    statement: { type: String, required: true, maxlength: 200_000 },
    sqlHash: { type: String, required: true, match: [/^[0-9a-f]{64}$/, 'expected a SHA-256 hex digest'] },
    verdict: { type: String, enum: STATEMENT_CLASSES, required: true },
    impact: { type: Schema.Types.Mixed, default: null },
    expectedRows: { type: Number, default: null, min: 0 },
    driftTolerance: { type: Number, required: true, default: 0.1, min: 0, max: 10 },
    requester: { type: String, required: true },
    requesterName: { type: String, default: null },
    approvalsRequired: { type: Number, required: true, default: 1, min: 1, max: 10 },
    approvedBy: { type: [String], default: [] },
    approvedByNames: { type: [String], default: [] },
    rejectedBy: { type: String, default: null },
    rejectionReason: { type: String, default: null, maxlength: 1000 },
    supersedes: { type: Schema.Types.ObjectId, ref: 'ApprovalRequest', default: null },
    supersededBy: { type: Schema.Types.ObjectId, ref: 'ApprovalRequest', default: null },
    affectedRows: { type: Number, default: null, min: 0 },
    executionMs: { type: Number, default: null, min: 0 },
    errorCode: { type: String, default: null },
    thread: { type: threadRefSchema, required: true },
    cardMessageId: { type: String, default: null },
    expiresAt: { type: Date, required: true },
    ...statusPaths(approvalStatus),
    decidedAt: { type: Date, default: null },
    executedAt: { type: Date, default: null },
    resultSummary: { type: String, default: null, maxlength: 2000 },
    error: { type: String, default: null, maxlength: 2000 },
  },
  { collection: 'approvalrequests', timestamps: true, versionKey: false },
);
approvalRequestSchema.index({ status: 1, expiresAt: 1 });
approvalRequestSchema.index({ workspace: 1, createdAt: -1 });
approvalRequestSchema.index({ sqlHash: 1 });
approvalRequestSchema.index({ requestKey: 1 }, { unique: true });
approvalRequestSchema.pre('validate', function () {
  if (this.kind === 'migration' && !this.migration)
    this.invalidate('migration', 'a migration approval names its migration');
});
guardStatus(approvalRequestSchema, approvalStatus);

/** The ApprovalRequest model on a given connection. */
export function approvalRequestModel(connection: Connection): ApprovalRequestModel {
  return modelOn<ApprovalRequestFields>(connection, 'ApprovalRequest', approvalRequestSchema);
}

/** Moves an approval request (pending → approved | rejected | expired | superseded; approved → executed | failed); atomic, see transition(). */
export function transitionApproval(
  models: { ApprovalRequest: ApprovalRequestModel; StateTransition: StateTransitionModel },
  id: Types.ObjectId | string,
  to: ApprovalStatus,
  options: TransitionOptions<ApprovalStatus> = {},
): Promise<ApprovalRequestFields> {
  return transition(
    models.ApprovalRequest,
    models.StateTransition,
    approvalStatus,
    id as Types.ObjectId,
    to,
    options,
  );
}
