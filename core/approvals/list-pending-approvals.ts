/**
 * The `approvals` command's answer: the pending requests a user may decide (same platform and workspace, not their
 * own, not decided by them yet, not past expiry), oldest first, with their threads for links.
 */
import type { ApprovalDecisionFields } from '../../models/approval-decision.ts';
import { decisionKey } from '../../models/approval-decision.ts';
import type { ApprovalRequestFields } from '../../models/approval-request.ts';
import type { UserRef } from '../conversation/chat-platform.ts';
import { userKey } from '../conversation/chat-platform.ts';
import type { ApprovalModels } from './approval-models.ts';
import type { ApprovalPolicy } from './approval-policy.ts';

export interface PendingApproval {
  request: ApprovalRequestFields;
  /** Distinct approvals so far. */
  approvals: number;
}

/** Pending requests `user` may decide now; empty for someone who is not an approver. */
export async function pendingApprovalsFor(
  models: ApprovalModels,
  policy: ApprovalPolicy,
  user: UserRef,
  now: Date,
  limit = 50,
): Promise<PendingApproval[]> {
  if (!policy.qualifies(user).approver) return [];
  const me = userKey(user);
  const pending = await models.ApprovalRequest.find({
    status: 'pending',
    'thread.platform': user.platform,
    'thread.workspace': user.workspace,
    expiresAt: { $gt: now },
  })
    .sort({ createdAt: 1 })
    .limit(limit * 2)
    .lean<ApprovalRequestFields[]>();
  const candidates = pending.filter((r) => r.requester !== me);
  if (candidates.length === 0) return [];
  const decisions = await models.ApprovalDecision.find({
    request: { $in: candidates.map((r) => r._id) },
  }).lean<ApprovalDecisionFields[]>();
  const decided = new Set(decisions.filter((d) => d.user === me).map((d) => d._id));
  return candidates
    .filter((r) => !decided.has(decisionKey(r._id, me)))
    .slice(0, limit)
    .map((request) => ({
      request,
      approvals: decisions.filter(
        (d) =>
          String(d.request) === String(request._id) &&
          d.decision === 'approve' &&
          d.user !== request.requester,
      ).length,
    }));
}
