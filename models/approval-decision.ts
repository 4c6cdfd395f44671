import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { modelOn } from './model-on.ts';
import { refuseUpdates } from './refuse-updates.ts';

export const APPROVAL_DECISIONS = ['approve', 'reject'] as const;
export type ApprovalDecisionKind = (typeof APPROVAL_DECISIONS)[number];

/**
 * One person's decision on one approval request. `_id` is `<request>:<user key>`, so recording a decision is a
 * unique insert: a user decides once, however many times the button is clicked, retried or delivered to replicas,
 * on MongoDB and FerretDB alike (whose conditional updates are not atomic). Immutable once written.
 */
export interface ApprovalDecisionFields {
  _id: string;
  request: Types.ObjectId;
  /** User key, `platform:workspace:user`. */
  user: string;
  userName: string | null;
  decision: ApprovalDecisionKind;
  /** What made the user an approver: `user` (listed by id) or the group/role id that is listed. */
  via: string | null;
  /** A reject's optional reason. */
  reason: string | null;
  at: Date;
}

export type ApprovalDecisionModel = Model<ApprovalDecisionFields>;

export const approvalDecisionSchema = new Schema<ApprovalDecisionFields>(
  {
    _id: { type: String, required: true },
    request: { type: Schema.Types.ObjectId, ref: 'ApprovalRequest', required: true },
    user: { type: String, required: true },
    userName: { type: String, default: null },
    decision: { type: String, enum: APPROVAL_DECISIONS, required: true },
    via: { type: String, default: null },
    reason: { type: String, default: null, maxlength: 1000 },
    at: { type: Date, required: true },
  },
  { collection: 'approvaldecisions', versionKey: false },
);
approvalDecisionSchema.index({ request: 1 });
approvalDecisionSchema.pre('validate', function () {
  if (this._id !== decisionKey(this.request, this.user))
    this.invalidate('_id', 'ApprovalDecision _id must be "<request>:<user>"');
});
refuseUpdates(approvalDecisionSchema, 'ApprovalDecision');

/** The `_id` of a user's decision on a request. */
export function decisionKey(request: Types.ObjectId | string, user: string): string {
  return `${String(request)}:${user}`;
}

/** The ApprovalDecision model on a given connection. */
export function approvalDecisionModel(connection: Connection): ApprovalDecisionModel {
  return modelOn<ApprovalDecisionFields>(connection, 'ApprovalDecision', approvalDecisionSchema);
}
