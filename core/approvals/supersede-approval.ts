/**
 * Editing the SQL of a pending request: the old request becomes `superseded` (an atomic transition, so it can no
 * longer be approved, even by a click already in flight) and the edit becomes a new request with its own hash and
 * dry run, which needs its own approvals. An approval of one statement can never execute another.
 */
import { Types } from 'mongoose';
import { transitionApproval, type ApprovalRequestFields } from '../../models/approval-request.ts';
import { userKey } from '../conversation/chat-platform.ts';
import { hasCode } from '../errors.ts';
import type { ApprovalModels } from './approval-models.ts';
import type { ApprovalPolicy } from './approval-policy.ts';
import { auditOf, mergeRecords, type ApprovalRecords } from './approval-records.ts';
import { createApprovalRequest, type NewApprovalRequest } from './create-approval-request.ts';
import { closedMessage, load } from './decide-approval.ts';
import { ONLY_APPROVERS } from './judge-decider.ts';

export type SupersedeOutcome =
  | {
      kind: 'superseded';
      previous: ApprovalRequestFields;
      request: ApprovalRequestFields;
      records: ApprovalRecords;
    }
  | { kind: 'refused'; message: string; records: ApprovalRecords }
  | { kind: 'closed'; message: string; previous: ApprovalRequestFields; records: ApprovalRecords };

/**
 * Replaces pending request `previousId` by a new request for the edited statement (`edit.requester` is the
 * editor, who becomes its requester). The requester or an approver may edit; anyone else is refused (audited).
 */
export async function supersedeApprovalRequest(
  models: ApprovalModels,
  policy: ApprovalPolicy,
  previousId: string,
  edit: Omit<NewApprovalRequest, 'thread' | 'connection' | 'kind' | 'migration'> &
    Partial<Pick<NewApprovalRequest, 'connection'>>,
  now: Date = new Date(),
): Promise<SupersedeOutcome> {
  const previous = await load(models, previousId);
  const editor = userKey(edit.requester);
  if (editor !== previous.requester && !policy.qualifies(edit.requester).approver) {
    return {
      kind: 'refused',
      message: `${ONLY_APPROVERS} Only the requester or an approver can edit it.`,
      records: {
        audit: [
          auditOf(previous, 'approval.refused', 'denied', editor, {
            decision: 'edit',
            reason: 'not_approver',
          }),
        ],
        history: [],
      },
    };
  }
  const id = new Types.ObjectId();
  let superseded: ApprovalRequestFields;
  try {
    superseded = await transitionApproval(models, previous._id, 'superseded', {
      from: 'pending',
      actor: editor,
      now,
      set: { supersededBy: id },
    });
  } catch (error) {
    if (!hasCode(error, 'illegal_transition', 'conflict')) throw error;
    const current = await load(models, previousId);
    return {
      kind: 'closed',
      message: closedMessage(current.status),
      previous: current,
      records: { audit: [], history: [] },
    };
  }
  const created = await createApprovalRequest(
    models,
    policy,
    {
      ...edit,
      kind: previous.kind,
      ...(previous.migration ? { migration: previous.migration } : {}),
      thread: previous.thread,
      connection: edit.connection ?? { id: previous.connection, name: previous.connectionName },
    },
    now,
    id,
    previous._id,
  );
  return {
    kind: 'superseded',
    previous: superseded,
    request: created.request,
    records: mergeRecords(
      {
        audit: [auditOf(previous, 'approval.supersede', 'success', editor, { supersededBy: String(id) })],
        history: [],
      },
      created.records,
    ),
  };
}
