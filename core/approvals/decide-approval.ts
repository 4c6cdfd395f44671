/**
 * Recording an Approve or Reject, and claiming the execution exactly once.
 *
 * A decision is a unique insert (`<request>:<user>`), so a user decides once however often the click arrives.
 * After inserting, the approver counts the distinct approvals; insert-then-count means the last of concurrent
 * approvers always sees every approval. Whoever finds the quorum met tries the state transition pending → approved,
 * which is itself a unique insert in the StateTransition log: of any number of concurrent clicks, retried
 * interactions and replicas, exactly one wins and gets `approved` (the right and duty to execute); everyone else
 * gets `recorded` or `closed`. A retried click of a user who already approved re-runs the quorum check, so a
 * crash between the insert and the claim does not leave a request stuck.
 */
import { Types } from 'mongoose';
import type { ApprovalDecisionFields, ApprovalDecisionKind } from '../../models/approval-decision.ts';
import { decisionKey } from '../../models/approval-decision.ts';
import {
  approvalStatus,
  transitionApproval,
  type ApprovalRequestFields,
  type ApprovalStatus,
} from '../../models/approval-request.ts';
import { isDuplicateKeyError, readCurrent } from '../../models/state-machine.ts';
import type { UserRef } from '../conversation/chat-platform.ts';
import { userKey } from '../conversation/chat-platform.ts';
import { hasCode, NotFoundError } from '../errors.ts';
import type { ApprovalModels } from './approval-models.ts';
import type { ApprovalPolicy } from './approval-policy.ts';
import { auditOf, historyOf, mergeRecords, NO_RECORDS, type ApprovalRecords } from './approval-records.ts';
import { judgeDecider } from './judge-decider.ts';

export interface DecisionInput {
  requestId: string;
  user: UserRef;
  decision: ApprovalDecisionKind;
  /** A reject's optional reason. */
  reason?: string;
}

export type DecideOutcome =
  /** Not allowed to decide (own request, not an approver); audited. */
  | {
      kind: 'refused';
      reason: 'own_request' | 'not_approver';
      message: string;
      request: ApprovalRequestFields;
      records: ApprovalRecords;
    }
  /** The request can no longer be decided (expired, rejected, superseded, or approved by others). */
  | {
      kind: 'closed';
      status: ApprovalStatus;
      message: string;
      request: ApprovalRequestFields;
      records: ApprovalRecords;
    }
  /** This user already decided the other way. */
  | {
      kind: 'already_decided';
      decision: ApprovalDecisionKind;
      message: string;
      request: ApprovalRequestFields;
      records: ApprovalRecords;
    }
  /** An approval counted (or was already counted); more are needed. */
  | {
      kind: 'recorded';
      approvals: number;
      required: number;
      duplicate: boolean;
      message: string;
      request: ApprovalRequestFields;
      records: ApprovalRecords;
    }
  | { kind: 'rejected'; message: string; request: ApprovalRequestFields; records: ApprovalRecords }
  /** This caller won the claim: it must execute the request now (executeApprovedRequest). */
  | {
      kind: 'approved';
      approvers: string[];
      message: string;
      request: ApprovalRequestFields;
      records: ApprovalRecords;
    };

const CLOSED_MESSAGES: Record<ApprovalStatus, string> = {
  pending: 'This request is still pending.',
  approved: 'This request has already been approved; it is running.',
  executed: 'This request has already been approved and executed.',
  failed: 'This request was approved, but its execution failed; request a new approval.',
  rejected: 'This request was rejected; it can no longer be approved.',
  expired: 'This request expired; request a new approval.',
  superseded: 'This request was replaced by an edited one; decide on the new request instead.',
};

/** The words for a request that cannot be decided any more. */
export function closedMessage(status: ApprovalStatus): string {
  return CLOSED_MESSAGES[status];
}

/** Records one user's Approve or Reject on a request; see the file comment for the exactly-once claim. */
export async function decideApproval(
  models: ApprovalModels,
  policy: ApprovalPolicy,
  input: DecisionInput,
  now: Date = new Date(),
): Promise<DecideOutcome> {
  const actor = userKey(input.user);
  let request = await load(models, input.requestId);

  if (request.status === 'pending' && now.getTime() >= request.expiresAt.getTime()) {
    const expired = await expireNow(models, request, now);
    request = expired.request;
    return closed(request, expired.records);
  }

  const judgement = judgeDecider(policy, request, input.user, input.decision);
  if (!judgement.allowed) {
    return {
      kind: 'refused',
      reason: judgement.reason,
      message: judgement.message,
      request,
      records: {
        audit: [
          auditOf(request, 'approval.refused', 'denied', actor, {
            decision: input.decision,
            reason: judgement.reason,
          }),
        ],
        history: [],
      },
    };
  }
  if (request.status !== 'pending') {
    const mine = await models.ApprovalDecision.findById(
      decisionKey(request._id, actor),
    ).lean<ApprovalDecisionFields>();
    if (
      mine?.decision === input.decision &&
      input.decision === 'approve' &&
      request.approvedBy.includes(actor)
    ) {
      return recorded(request, request.approvedBy.length, true, NO_RECORDS);
    }
    return closed(request, NO_RECORDS);
  }

  const decision: ApprovalDecisionFields = {
    _id: decisionKey(request._id, actor),
    request: request._id,
    user: actor,
    userName: input.user.displayName ?? null,
    decision: input.decision,
    via: judgement.via,
    reason: input.decision === 'reject' ? input.reason?.trim() || null : null,
    at: now,
  };
  let duplicate = false;
  try {
    await models.ApprovalDecision.create(decision);
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    const mine = await models.ApprovalDecision.findById(decision._id).lean<ApprovalDecisionFields>();
    if (mine && mine.decision !== input.decision) {
      return {
        kind: 'already_decided',
        decision: mine.decision,
        message: `You already ${mine.decision === 'approve' ? 'approved' : 'rejected'} this request.`,
        request,
        records: NO_RECORDS,
      };
    }
    duplicate = true;
  }
  const decisionRecords: ApprovalRecords = duplicate
    ? NO_RECORDS
    : {
        audit: [
          auditOf(request, `approval.${input.decision}`, 'success', actor, {
            via: judgement.via,
            ...(decision.reason ? { reason: decision.reason } : {}),
          }),
        ],
        history: [],
      };

  if (input.decision === 'reject') return reject(models, request, decision, decisionRecords, now);
  return approveIfQuorum(models, request, actor, duplicate, decisionRecords, now);
}

async function reject(
  models: ApprovalModels,
  request: ApprovalRequestFields,
  decision: ApprovalDecisionFields,
  records: ApprovalRecords,
  now: Date,
): Promise<DecideOutcome> {
  try {
    const rejected = await transitionApproval(models, request._id, 'rejected', {
      from: 'pending',
      actor: decision.user,
      now,
      set: { rejectedBy: decision.user, rejectionReason: decision.reason },
    });
    const who = decision.user === request.requester ? 'withdrawn by the requester' : 'rejected';
    return {
      kind: 'rejected',
      message: decision.reason ? `Request ${who}: ${decision.reason}` : `Request ${who}.`,
      request: rejected,
      records: mergeRecords(records, {
        audit: [],
        history: [
          historyOf(
            request,
            decision.user,
            decision.reason ? `reject: ${decision.reason}` : 'reject',
            'cancelled',
          ),
        ],
      }),
    };
  } catch (error) {
    if (!hasCode(error, 'illegal_transition', 'conflict')) throw error;
    return closed(await load(models, String(request._id)), records);
  }
}

async function approveIfQuorum(
  models: ApprovalModels,
  request: ApprovalRequestFields,
  actor: string,
  duplicate: boolean,
  records: ApprovalRecords,
  now: Date,
): Promise<DecideOutcome> {
  const approvals = await models.ApprovalDecision.find({ request: request._id, decision: 'approve' })
    .sort({ at: 1 })
    .lean<ApprovalDecisionFields[]>();
  // The requester can never have an approve recorded (judgeDecider); filtered anyway, so no path counts them.
  const distinct = approvals.filter((d) => d.user !== request.requester);
  if (distinct.length < request.approvalsRequired) {
    return recorded(request, distinct.length, duplicate, records);
  }
  const approvedBy = distinct.map((d) => d.user);
  const names = distinct.map((d) => d.userName ?? d.user.split(':').at(-1) ?? d.user);
  try {
    const approved = await transitionApproval(models, request._id, 'approved', {
      from: 'pending',
      actor,
      now,
      set: { approvedBy, approvedByNames: names },
    });
    return {
      kind: 'approved',
      approvers: approvedBy,
      message: `Approved by ${names.join(' and ')}; running it now.`,
      request: approved,
      records,
    };
  } catch (error) {
    if (!hasCode(error, 'illegal_transition', 'conflict')) throw error;
    // Someone else's click claimed it (or it was rejected or expired meanwhile).
    const current = await load(models, String(request._id));
    if (current.status === 'approved' || current.status === 'executed' || current.status === 'failed') {
      return recorded(current, current.approvedBy.length || distinct.length, duplicate, records);
    }
    return closed(current, records);
  }
}

/** Moves a pending request past its expiry to `expired` (whoever gets there first: a click or the sweeper). */
export async function expireNow(
  models: ApprovalModels,
  request: ApprovalRequestFields,
  now: Date,
): Promise<{ request: ApprovalRequestFields; records: ApprovalRecords }> {
  try {
    const expired = await transitionApproval(models, request._id, 'expired', {
      from: 'pending',
      actor: 'system',
      now,
    });
    return {
      request: expired,
      records: {
        audit: [auditOf(expired, 'approval.expire', 'success', 'system', { expiresAt: request.expiresAt })],
        history: [historyOf(expired, 'system', 'expired', 'cancelled')],
      },
    };
  } catch (error) {
    if (!hasCode(error, 'illegal_transition', 'conflict')) throw error;
    return { request: await load(models, String(request._id)), records: NO_RECORDS };
  }
}

function recorded(
  request: ApprovalRequestFields,
  approvals: number,
  duplicate: boolean,
  records: ApprovalRecords,
): DecideOutcome {
  const required = request.approvalsRequired;
  const message =
    request.status !== 'pending'
      ? closedMessage(request.status)
      : duplicate
        ? `Your approval was already recorded (${approvals} of ${required}).`
        : `Approval recorded (${approvals} of ${required}); waiting for ${required - approvals} more.`;
  return { kind: 'recorded', approvals, required, duplicate, message, request, records };
}

function closed(request: ApprovalRequestFields, records: ApprovalRecords): DecideOutcome {
  return { kind: 'closed', status: request.status, message: closedMessage(request.status), request, records };
}

/** A request by id; a missing or malformed id is NotFoundError (a button value is user-controlled input). */
export async function load(models: ApprovalModels, id: string): Promise<ApprovalRequestFields> {
  // Through the transition log: the stored status may lag it (see models/state-machine.ts).
  const request = Types.ObjectId.isValid(id)
    ? await readCurrent(
        models.ApprovalRequest,
        models.StateTransition,
        approvalStatus,
        new Types.ObjectId(id),
      )
    : null;
  if (!request) throw new NotFoundError('That approval request does not exist (any more).');
  return request;
}
