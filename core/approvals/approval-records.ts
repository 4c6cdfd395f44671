/**
 * What every approval step hands back for the flow to record: AuditEvents (request, each decision, refusal,
 * execution, drift abort, expiry, supersede) and QueryHistory entries (type `approval`). The domain does not know
 * the thread's session, so it describes the records and the flow writes them, with the session it has.
 */
import { threadKey } from '../conversation/chat-platform.ts';
import type { ApprovalRequestFields } from '../../models/approval-request.ts';

export type AuditOutcome = 'success' | 'failure' | 'denied';

export interface ApprovalAudit {
  /** Dotted verb: approval.request, approval.approve, approval.reject, approval.refused, approval.execute, approval.drift_abort, approval.expire, approval.supersede. */
  action: string;
  outcome: AuditOutcome;
  actorKey: string;
  threadKey: string;
  sqlHash: string;
  /** `ApprovalRequest:<id>`. */
  target: string;
  detail: Record<string, unknown>;
}

export interface ApprovalHistory {
  type: 'approval';
  userInput: string;
  userKey: string;
  generatedSql: string;
  status: 'needs_approval' | 'success' | 'error' | 'cancelled';
  resultCount?: number;
  executionMs?: number;
  error?: { code: string; message: string };
}

export interface ApprovalRecords {
  audit: ApprovalAudit[];
  history: ApprovalHistory[];
}

export const NO_RECORDS: ApprovalRecords = Object.freeze({ audit: [], history: [] }) as ApprovalRecords;

/** One audit record about a request. */
export function auditOf(
  request: Pick<ApprovalRequestFields, '_id' | 'thread' | 'sqlHash'>,
  action: string,
  outcome: AuditOutcome,
  actorKey: string,
  detail: Record<string, unknown> = {},
): ApprovalAudit {
  return {
    action,
    outcome,
    actorKey,
    threadKey: threadKey(request.thread),
    sqlHash: request.sqlHash,
    target: `ApprovalRequest:${String(request._id)}`,
    detail: { request: String(request._id), ...detail },
  };
}

/** One history entry about a request. */
export function historyOf(
  request: Pick<ApprovalRequestFields, 'statement'>,
  userKey: string,
  userInput: string,
  status: ApprovalHistory['status'],
  extra: Partial<Pick<ApprovalHistory, 'resultCount' | 'executionMs' | 'error'>> = {},
): ApprovalHistory {
  return { type: 'approval', userInput, userKey, generatedSql: request.statement, status, ...extra };
}

/** Records combined, in order. */
export function mergeRecords(...parts: ApprovalRecords[]): ApprovalRecords {
  return { audit: parts.flatMap((p) => p.audit), history: parts.flatMap((p) => p.history) };
}
