import type { SessionStore } from '../conversation/engine-ports.ts';
import type { Logger } from '../logger.ts';
import type { ApprovalRecords } from './approval-records.ts';

/**
 * Writes what an approval step produced: AuditEvents, and QueryHistory entries (type `approval`) in the thread's
 * session (whose id is the thread key). Bookkeeping never hides the outcome from the thread: a failure to record
 * is logged, not thrown.
 */
export async function recordApproval(
  sessions: SessionStore,
  records: ApprovalRecords,
  threadKey: string,
  logger: Logger,
): Promise<void> {
  for (const audit of records.audit) {
    try {
      await sessions.audit({
        action: audit.action,
        actorKey: audit.actorKey,
        threadKey: audit.threadKey,
        sqlHash: audit.sqlHash,
        detail: audit.detail,
        outcome: audit.outcome,
        target: audit.target,
      });
    } catch (err) {
      logger.error({ err, action: audit.action }, 'could not record an approval audit event');
    }
  }
  for (const entry of records.history) {
    try {
      await sessions.appendHistory(threadKey, entry);
    } catch (err) {
      logger.error({ err }, 'could not record an approval history entry');
    }
  }
}
