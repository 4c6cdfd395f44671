/**
 * The approval card of a migration (apply or roll back): who asked, the approvers mentioned, how many approvals
 * it needs and that neither the requester nor the proposer may give one, when it expires, the exact text the
 * approval is bound to, and Approve / Reject while it is pending. Later states replace the buttons with a line.
 */
import type { ApprovalRequestFields } from '../../models/approval-request.ts';
import type { Reply, ReplyPart } from '../conversation/chat-platform.ts';
import { shortTime } from './migration-card.ts';

export const MIGRATION_APPROVAL_ACTIONS = {
  approve: 'migration_approve',
  reject: 'migration_reject',
} as const;

export type MigrationApprovalState =
  | { kind: 'pending'; approvedBy: string[] }
  | { kind: 'running'; approvedBy: string[] }
  | { kind: 'settled'; text: string };

/** Apply or roll back, as the request's text says. */
export function approvalVerb(request: Pick<ApprovalRequestFields, 'statement'>): 'apply' | 'roll back' {
  return /^-- migration \S+: down \(roll back\)/.test(request.statement) ? 'roll back' : 'apply';
}

/**
 * The approval card of a migration request in `state`. `approvers` are the approver ids threadql.yml lists for the
 * platform: while pending they go out as the reply's mentions, which each adapter renders so they notify.
 */
export function migrationApprovalCard(
  request: ApprovalRequestFields,
  version: string,
  state: MigrationApprovalState,
  approvers: string[],
): Reply {
  const verb = approvalVerb(request);
  const requester = request.requesterName ?? request.requester.split(':').at(-1) ?? request.requester;
  // Once decided, the card no longer asks for anything: its head says what was asked, the last line what happened.
  const head =
    state.kind === 'pending'
      ? `🔐 *Approval needed* to ${verb} migration \`${version}\` on *${request.connectionName}*, requested by ${requester}.`
      : `🔐 *Change request* by ${requester}: ${verb} migration \`${version}\` on *${request.connectionName}*.`;
  const from = approvers.length > 0 ? 'the approvers' : 'an approver listed in threadql.yml';
  const needs = `${request.approvalsRequired} approval${request.approvalsRequired > 1 ? 's' : ''} needed from ${from}; the requester and the migration's proposer cannot approve. Expires ${shortTime(request.expiresAt)}.`;
  const parts: ReplyPart[] = [
    { type: 'text', text: state.kind === 'pending' ? `${head}\n${needs}` : head },
    { type: 'code', code: request.statement, language: 'sql' },
  ];
  const facts = [`approval bound to sha256 ${request.sqlHash.slice(0, 12)}…`];
  if (state.kind !== 'settled' && state.approvedBy.length > 0)
    facts.push(
      `approved so far by ${state.approvedBy.join(', ')} (${state.approvedBy.length} of ${request.approvalsRequired})`,
    );
  parts.push({ type: 'context', text: facts.join(' · ') });
  if (state.kind === 'pending') {
    parts.push({
      type: 'buttons',
      buttons: [
        {
          action: MIGRATION_APPROVAL_ACTIONS.approve,
          label: 'Approve',
          style: 'primary',
          value: String(request._id),
        },
        {
          action: MIGRATION_APPROVAL_ACTIONS.reject,
          label: 'Reject',
          style: 'danger',
          value: String(request._id),
        },
      ],
    });
  } else if (state.kind === 'running') {
    parts.push({
      type: 'context',
      text: `⏳ Approved by ${state.approvedBy.join(' and ')}; running it now.`,
    });
  } else parts.push({ type: 'text', text: state.text });
  return {
    parts,
    fallback:
      state.kind === 'pending'
        ? `Approval needed to ${verb} migration ${version} on ${request.connectionName} (requested by ${requester})`
        : `Change request by ${requester} to ${verb} migration ${version} on ${request.connectionName}`,
    ...(state.kind === 'pending' && approvers.length > 0 ? { mentions: approvers } : {}),
  };
}
