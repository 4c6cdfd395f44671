/**
 * The access check every flow makes before it reads a connection for someone (a question, pasted SQL, a schema,
 * switching a thread): a refusal goes only to the person refused, saying what to ask an admin for, and is audited.
 */
import type { Governance } from '../../governance/governance.ts';
import { toUserMessage } from '../../errors.ts';
import type { Turn } from '../turn.ts';

/** True when the turn's user may query `connectionName`; otherwise tells them privately, audits, and is false. */
export async function mayQuery(
  turn: Turn,
  governance: Pick<Governance, 'checkAccess'>,
  connectionName: string,
): Promise<boolean> {
  const decision = governance.checkAccess(connectionName, turn.user);
  if (decision.allowed) return true;
  await turn.privately(toUserMessage(decision.error));
  await turn.audit('access.refused', decision.error.detail);
  return false;
}
