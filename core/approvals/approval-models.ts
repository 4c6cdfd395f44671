import type { Models } from '../../models/create-models.ts';

/** The store models the approval domain uses. */
export type ApprovalModels = Pick<Models, 'ApprovalRequest' | 'ApprovalDecision' | 'StateTransition'>;
