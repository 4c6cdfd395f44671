/**
 * Running a request whose execution this caller claimed (decideApproval returned `approved`): the exact stored
 * statement, re-checked against its hash, in a transaction with the statement timeout and the drift guard at the
 * dry run's counts; then approved → executed | failed. A drift abort or any failure leaves the database as it was
 * (where the engine can roll back; the result says where it cannot) and becomes a readable message.
 */
import { transitionApproval, type ApprovalRequestFields } from '../../models/approval-request.ts';
import { sqlHash } from '../conversation/confirmation-store.ts';
import type { DatabaseDriver, WriteResult } from '../db/database-dialect.ts';
import { hasCode, ThreadqlError, toUserMessage } from '../errors.ts';
import type { ApprovalModels } from './approval-models.ts';
import { auditOf, historyOf, type ApprovalRecords } from './approval-records.ts';

export interface ExecuteApprovedOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  now?: () => Date;
}

export type ExecuteOutcome =
  | {
      kind: 'executed';
      request: ApprovalRequestFields;
      result: WriteResult;
      records: ApprovalRecords;
      warning?: string;
    }
  | {
      kind: 'failed';
      /** True when the drift guard stopped it (the data changed since the dry run). */
      drift: boolean;
      code: string;
      message: string;
      request: ApprovalRequestFields;
      records: ApprovalRecords;
    };

/** The dry run's count per statement, as the request stored it (undefined where it measured none). */
export function expectedCounts(request: Pick<ApprovalRequestFields, 'impact'>): (number | undefined)[] {
  const statements = (request.impact?.statements ?? []) as { affectedRows?: unknown }[];
  return statements.map((s) => (typeof s.affectedRows === 'number' ? s.affectedRows : undefined));
}

/** Executes a claimed (status `approved`) request on its connection's driver (or the driver `driver()` resolves), exactly as approved. */
export async function executeApprovedRequest(
  models: ApprovalModels,
  request: ApprovalRequestFields,
  driver: DatabaseDriver | (() => Promise<DatabaseDriver>),
  options: ExecuteApprovedOptions,
): Promise<ExecuteOutcome> {
  const now = options.now ?? (() => new Date());
  const actor = request.approvedBy.at(-1) ?? 'system';
  let result: WriteResult;
  try {
    if (sqlHash(request.statement) !== request.sqlHash) {
      throw new ThreadqlError(
        'confirmation_invalid',
        'The stored statement does not match the approved hash; it was not run.',
      );
    }
    // Resolved inside the try: a connection that is down is a failed execution, recorded like any other.
    const target = typeof driver === 'function' ? await driver() : driver;
    result = await target.executeWrite(request.statement, {
      timeoutMs: options.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
      expected: expectedCounts(request),
      driftTolerance: request.driftTolerance,
    });
  } catch (error) {
    return fail(models, request, actor, error, now());
  }
  const records: ApprovalRecords = {
    audit: [
      auditOf(request, 'approval.execute', 'success', actor, {
        affectedRows: result.affectedRows,
        perStatement: result.statements.map((s) => s.affectedRows),
        atomic: result.atomic,
        durationMs: Math.round(result.durationMs),
        requester: request.requester,
        approvedBy: request.approvedBy,
      }),
    ],
    history: [
      historyOf(request, actor, 'execute approved statement', 'success', {
        resultCount: result.affectedRows,
        executionMs: Math.round(result.durationMs),
      }),
    ],
  };
  try {
    const executed = await transitionApproval(models, request._id, 'executed', {
      from: 'approved',
      actor,
      now: now(),
      set: {
        affectedRows: result.affectedRows,
        executionMs: Math.round(result.durationMs),
        resultSummary: summary(result),
      },
    });
    return { kind: 'executed', request: executed, result, records };
  } catch (error) {
    // The change is committed; only the bookkeeping failed. The thread must still hear what happened.
    return {
      kind: 'executed',
      request,
      result,
      records,
      warning: `The change ran, but recording it failed: ${toUserMessage(error)}`,
    };
  }
}

function summary(result: WriteResult): string {
  const rows = `${result.affectedRows} ${result.affectedRows === 1 ? 'row' : 'rows'} affected`;
  return (result.note ? `${rows}. ${result.note}` : rows).slice(0, 2000);
}

async function fail(
  models: ApprovalModels,
  request: ApprovalRequestFields,
  actor: string,
  error: unknown,
  at: Date,
): Promise<ExecuteOutcome> {
  const drift = hasCode(error, 'write_drift');
  const code = error instanceof ThreadqlError ? error.code : 'internal';
  // The drift guard's own words only: the thread's headline already says what to do next (its hint, repeated).
  const message = drift && error instanceof ThreadqlError ? error.message : toUserMessage(error);
  const detail = error instanceof ThreadqlError ? error.detail : {};
  let updated = request;
  try {
    updated = await transitionApproval(models, request._id, 'failed', {
      from: 'approved',
      actor,
      now: at,
      set: { error: message.slice(0, 2000), errorCode: code },
    });
  } catch {
    // Recording the failure must not hide it: the thread is told either way.
  }
  return {
    kind: 'failed',
    drift,
    code,
    message,
    request: updated,
    records: {
      audit: [
        auditOf(request, drift ? 'approval.drift_abort' : 'approval.execute', 'failure', actor, {
          code,
          ...detail,
        }),
      ],
      history: [
        historyOf(request, actor, 'execute approved statement', 'error', { error: { code, message } }),
      ],
    },
  };
}
