/**
 * The thread's answer to an approval decision, shared by write and migration approvals: the decider hears privately
 * why nothing changed (refused, closed, already decided) or that their approval counted; what the card then shows
 * is the flow's own.
 */
import type { ApprovalRequestFields } from '../../../models/approval-request.ts';
import type { DecideOutcome } from '../../approvals/decide-approval.ts';
import type { Turn } from '../turn.ts';

type Outcome<K extends DecideOutcome['kind']> = Extract<DecideOutcome, { kind: K }>;

/** What a flow shows for the outcomes that change its card. */
export interface DecisionCard {
  /** The request expired before the decision: the card says so. */
  expired(request: ApprovalRequestFields): Promise<void>;
  /** An approval counted and more are needed: the card shows who approved. */
  pending(request: ApprovalRequestFields): Promise<void>;
  rejected(outcome: Outcome<'rejected'>): Promise<void>;
  /** The last approval: this turn executes the request. */
  approved(request: ApprovalRequestFields): Promise<void>;
}

/** Answers the decider and updates the card for a decision's outcome. */
export async function answerDecision(turn: Turn, outcome: DecideOutcome, card: DecisionCard): Promise<void> {
  switch (outcome.kind) {
    case 'refused':
    case 'already_decided':
      return turn.privately(outcome.message);
    case 'closed':
      await turn.privately(outcome.message);
      if (outcome.status === 'expired') await card.expired(outcome.request);
      return;
    case 'recorded':
      await turn.privately(outcome.message);
      if (!outcome.duplicate && outcome.request.status === 'pending') await card.pending(outcome.request);
      return;
    case 'rejected':
      return card.rejected(outcome);
    case 'approved':
      return card.approved(outcome.request);
  }
}
