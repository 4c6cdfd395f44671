/**
 * Creating an approval request: bound to the connection, the SHA-256 of the exact statement text and the dry run's
 * counts, with the required number of approvers and the drift tolerance fixed at request time, and an expiry.
 */
import { Types } from 'mongoose';
import type { ApprovalRequestFields } from '../../models/approval-request.ts';
import { isDuplicateKeyError } from '../../models/state-machine.ts';
import type { ThreadRef, UserRef } from '../conversation/chat-platform.ts';
import { userKey } from '../conversation/chat-platform.ts';
import { sqlHash } from '../conversation/confirmation-store.ts';
import type { DryRunResult } from '../db/database-dialect.ts';
import { ValidationError } from '../errors.ts';
import type { StatementClass } from '../safety/verdict.ts';
import type { ApprovalModels } from './approval-models.ts';
import type { ApprovalPolicy } from './approval-policy.ts';
import { auditOf, historyOf, type ApprovalRecords } from './approval-records.ts';

export interface NewApprovalRequest {
  kind?: 'write' | 'migration';
  /** The Migration this approves (kind `migration`). */
  migration?: Types.ObjectId;
  thread: ThreadRef;
  requester: UserRef;
  connection: { id: Types.ObjectId; name: string };
  /** The exact text that will run; its hash binds the approval. */
  statement: string;
  verdict: StatementClass;
  dryRun: DryRunResult;
  /** Same key, same request: a retried "Request approval" does not make a second one. */
  requestKey?: string;
  /** What the user asked, for the history entry. */
  question?: string;
}

export interface CreatedRequest {
  request: ApprovalRequestFields;
  /** False when the key named a request that already existed (a retry). */
  created: boolean;
  records: ApprovalRecords;
}

/** The dry run as the request keeps it: per-statement counts (the statement text is stored once, whole). */
export function storedImpact(dryRun: DryRunResult): Record<string, unknown> {
  return {
    performed: dryRun.performed,
    ...(dryRun.affectedRows === undefined ? {} : { affectedRows: dryRun.affectedRows }),
    ...(dryRun.reason ? { reason: dryRun.reason } : {}),
    ...(dryRun.note ? { note: dryRun.note } : {}),
    statements: dryRun.statements.map((s) => ({
      type: s.type,
      verdict: s.verdict,
      ...(s.affectedRows === undefined ? {} : { affectedRows: s.affectedRows }),
      ...(s.estimatedRows === undefined ? {} : { estimatedRows: s.estimatedRows }),
      ...(s.notMeasured ? { notMeasured: s.notMeasured } : {}),
    })),
  };
}

/** Creates a pending request (or returns the one its key already made). Throws a ValidationError for what cannot be approved. */
export async function createApprovalRequest(
  models: ApprovalModels,
  policy: ApprovalPolicy,
  input: NewApprovalRequest,
  now: Date = new Date(),
  id: Types.ObjectId = new Types.ObjectId(),
  supersedes: Types.ObjectId | null = null,
): Promise<CreatedRequest> {
  if (input.verdict === 'read')
    throw new ValidationError('A read needs no approval; it runs from its confirm card.');
  if (input.dryRun.unrunnable)
    throw new ValidationError(`This cannot be approved as written: ${input.dryRun.unrunnable}`);
  const kind = input.kind ?? 'write';
  const requestKey = input.requestKey ?? id.toHexString();
  const fields = {
    _id: id,
    requestKey,
    kind,
    workspace: `${input.thread.platform}:${input.thread.workspace}`,
    connection: input.connection.id,
    connectionName: input.connection.name,
    migration: input.migration ?? null,
    statement: input.statement,
    sqlHash: sqlHash(input.statement),
    verdict: input.verdict,
    impact: storedImpact(input.dryRun),
    expectedRows: input.dryRun.affectedRows ?? null,
    driftTolerance: policy.driftToleranceFor(input.connection.name),
    requester: userKey(input.requester),
    requesterName: input.requester.displayName ?? null,
    approvalsRequired: policy.requiredFor(
      input.connection.name,
      kind === 'migration' ? 'migration' : input.verdict,
    ),
    supersedes,
    thread: input.thread,
    expiresAt: new Date(now.getTime() + policy.ttlMs),
  };
  let request: ApprovalRequestFields;
  try {
    request = (await models.ApprovalRequest.create(fields)).toObject() as ApprovalRequestFields;
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    const existing = await models.ApprovalRequest.findOne({ requestKey }).lean<ApprovalRequestFields>();
    if (!existing) throw error;
    return { request: existing, created: false, records: { audit: [], history: [] } };
  }
  const actor = userKey(input.requester);
  return {
    request,
    created: true,
    records: {
      audit: [
        auditOf(request, 'approval.request', 'success', actor, {
          connection: request.connectionName,
          verdict: request.verdict,
          expectedRows: request.expectedRows,
          approvalsRequired: request.approvalsRequired,
          ...(supersedes ? { supersedes: String(supersedes) } : {}),
        }),
      ],
      history: [historyOf(request, actor, input.question ?? 'request approval', 'needs_approval')],
    },
  };
}
