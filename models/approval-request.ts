import { Schema, type Connection, type Model, type Types } from 'mongoose';
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
    pending: ['approved', 'rejected', 'expired'],
    approved: ['executed', 'failed'],
    rejected: [],
    expired: [],
    executed: [],
    failed: [],
  },
  initial: ['pending'],
  stamps: {
    approved: 'decidedAt',
    rejected: 'decidedAt',
    expired: 'decidedAt',
    executed: 'executedAt',
    failed: 'executedAt',
  },
});
export type ApprovalStatus = (typeof approvalStatus.states)[number];

export interface ApprovalDecision {
  /** User key of the approver. */
  user: string;
  decision: 'approve' | 'reject';
  at: Date;
  comment?: string;
}

/** A write or migration waiting for approvers; bound to the SHA-256 of the exact statement. */
export interface ApprovalRequestFields extends StatusFields<ApprovalStatus> {
  _id: Types.ObjectId;
  kind: 'write' | 'migration';
  workspace: string;
  connection: Types.ObjectId;
  migration: Types.ObjectId | null;
  statement: string;
  /** SHA-256 hex of `statement`; editing the SQL voids the approval. */
  sqlHash: string;
  verdict: StatementClass;
  /** Dry-run impact shown on the card, e.g. `{affectedRows: 412}`. */
  impact: Record<string, unknown> | null;
  requester: string;
  approvalsRequired: number;
  decisions: ApprovalDecision[];
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

const decisionSchema = new Schema<ApprovalDecision>(
  {
    user: { type: String, required: true },
    decision: { type: String, enum: ['approve', 'reject'], required: true },
    at: { type: Date, required: true },
    comment: { type: String, default: undefined, maxlength: 1000 },
  },
  { _id: false },
);

export const approvalRequestSchema = new Schema<ApprovalRequestFields>(
  {
    kind: { type: String, enum: ['write', 'migration'], required: true },
    workspace: { type: String, required: true },
    connection: { type: Schema.Types.ObjectId, ref: 'DatabaseConnection', required: true },
    migration: { type: Schema.Types.ObjectId, ref: 'Migration', default: null },
    statement: { type: String, required: true, maxlength: 200_000 },
    sqlHash: { type: String, required: true, match: [/^[0-9a-f]{64}$/, 'expected a SHA-256 hex digest'] },
    verdict: { type: String, enum: STATEMENT_CLASSES, required: true },
    impact: { type: Schema.Types.Mixed, default: null },
    requester: { type: String, required: true },
    approvalsRequired: { type: Number, required: true, default: 1, min: 1, max: 10 },
    decisions: { type: [decisionSchema], default: [] },
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
approvalRequestSchema.pre('validate', function () {
  if (this.kind === 'migration' && !this.migration)
    this.invalidate('migration', 'a migration approval names its migration');
});
guardStatus(approvalRequestSchema, approvalStatus);

/** The ApprovalRequest model on a given connection. */
export function approvalRequestModel(connection: Connection): ApprovalRequestModel {
  return modelOn<ApprovalRequestFields>(connection, 'ApprovalRequest', approvalRequestSchema);
}

/** Moves an approval request (pending → approved | rejected | expired → executed | failed); atomic, see transition(). */
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
