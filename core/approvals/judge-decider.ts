/**
 * Who may decide a request. The identity check comes first and does not look at groups: the requester never
 * approves their own request, even when listed as an approver or a member of an approver group (the group that
 * contains everyone is how Bytebase's four-eyes rule was once bypassed, bytebase#19142). Rejecting one's own
 * request is allowed: it withdraws it, and stopping a change needs no second pair of eyes.
 */
import type { ApprovalDecisionKind } from '../../models/approval-decision.ts';
import type { ApprovalRequestFields } from '../../models/approval-request.ts';
import type { UserRef } from '../conversation/chat-platform.ts';
import { userKey } from '../conversation/chat-platform.ts';
import type { ApprovalPolicy } from './approval-policy.ts';

export type Judgement =
  | { allowed: true; via: string }
  | { allowed: false; reason: 'own_request' | 'not_approver'; message: string };

export const ONLY_APPROVERS = 'Only an approver can decide this.';
export const NOT_YOUR_OWN = 'You requested this change, so someone else has to approve it.';

/** May `user` record `decision` on `request`? */
export function judgeDecider(
  policy: ApprovalPolicy,
  request: Pick<ApprovalRequestFields, 'requester'>,
  user: UserRef,
  decision: ApprovalDecisionKind,
): Judgement {
  const own = userKey(user) === request.requester;
  if (own && decision === 'approve') return { allowed: false, reason: 'own_request', message: NOT_YOUR_OWN };
  if (own) return { allowed: true, via: 'requester' };
  const qualification = policy.qualifies(user);
  if (!qualification.approver) return { allowed: false, reason: 'not_approver', message: ONLY_APPROVERS };
  return { allowed: true, via: qualification.via ?? 'user' };
}
