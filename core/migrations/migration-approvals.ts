/**
 * Migrations through the same ApprovalRequest machinery as writes (core/approvals): kind `migration`, the
 * approvers and required count of the policy (class `migration`), never the requester nor the proposer, exactly
 * one execution for any number of clicks, expiry. The request is bound to the text that the approvers read: for an
 * apply, both scripts (so a changed down script voids it too); for a roll back, the down script. On the claim the
 * winner applies or rolls back (apply-migration.ts, rollback-migration.ts) and moves the request to executed or
 * failed.
 */
import type { Types } from 'mongoose';
import { transitionApproval, type ApprovalRequestFields } from '../../models/approval-request.ts';
import type { MigrationFields } from '../../models/migration.ts';
import type { ApprovalModels } from '../approvals/approval-models.ts';
import type { ApprovalPolicy } from '../approvals/approval-policy.ts';
import { auditOf, historyOf, type ApprovalRecords } from '../approvals/approval-records.ts';
import { createApprovalRequest, type CreatedRequest } from '../approvals/create-approval-request.ts';
import type { ThreadRef, UserRef } from '../conversation/chat-platform.ts';
import { sqlHash } from '../conversation/confirmation-store.ts';
import type { DryRunResult, SchemaSnapshot } from '../db/database-dialect.ts';
import { hasCode, ThreadqlError, toUserMessage, ValidationError } from '../errors.ts';
import { applyMigration, assertNoNewerApplied } from './apply-migration.ts';
import { inspectScript } from './inspect-script.ts';
import type { MigrationContext, MigrationModels } from './migration-context.ts';
import { assertApprovable, loadMigration } from './propose-migration.ts';
import { assertRollbackAllowed, rollbackMigration } from './rollback-migration.ts';

export type MigrationAction = 'apply' | 'rollback';
export type MigrationApprovalModels = ApprovalModels & MigrationModels;

/** The text an approval of `action` is bound to (and that its card shows). */
export function approvalStatement(
  m: Pick<MigrationFields, 'version' | 'upScript' | 'downScript'>,
  action: MigrationAction,
): string {
  return action === 'apply'
    ? `-- migration ${m.version}: up\n${m.upScript.trim()}\n\n-- down (runs only when it is rolled back)\n${m.downScript.trim()}`
    : `-- migration ${m.version}: down (roll back)\n${m.downScript.trim()}`;
}

/** What a migration's approval is for: its state decides (a pending one is applied, an applied one rolled back). */
export function actionOf(m: Pick<MigrationFields, 'status'>): MigrationAction {
  return m.status === 'applied' ? 'rollback' : 'apply';
}

function verifiedImpact(
  m: MigrationFields,
  action: MigrationAction,
  statements: DryRunResult['statements'],
): DryRunResult {
  const v = m.verification;
  const note =
    action === 'rollback'
      ? 'roll back: the down script runs with an UNDO row in threadql_schema_history'
      : v?.status === 'passed'
        ? `verified up → down → up ${v.where === 'shadow' ? 'on the shadow database' : 'in a rolled-back transaction'}`
        : `not verified: ${v?.problems.join('; ') ?? 'no verification'}`;
  return { performed: false, statements, note, durationMs: v?.durationMs ?? 0 };
}

/** The pending approval request of a migration, if one is open. */
export async function pendingApprovalOf(
  models: ApprovalModels,
  migrationId: Types.ObjectId,
): Promise<ApprovalRequestFields | undefined> {
  const found = await models.ApprovalRequest.findOne({
    migration: migrationId,
    status: 'pending',
  }).lean<ApprovalRequestFields>();
  return found ?? undefined;
}

/**
 * Asks for approval to apply (pending) or roll back (applied) a migration. Refuses what could not run: a failed or
 * stale verification, an out-of-order apply, a roll back that is not the newest, a request already open.
 */
export async function requestMigrationApproval(
  ctx: MigrationContext,
  approvals: { models: ApprovalModels; policy: ApprovalPolicy },
  input: { migrationId: unknown; requester: UserRef; thread: ThreadRef; requestKey: string },
): Promise<CreatedRequest & { migration: MigrationFields; action: MigrationAction }> {
  const migration = await loadMigration(ctx, input.migrationId);
  const action = actionOf(migration);
  if (action === 'apply') {
    assertApprovable(migration);
    await assertNoNewerApplied(ctx, migration);
  } else await assertRollbackAllowed(ctx, migration);
  const open = await pendingApprovalOf(approvals.models, migration._id);
  // The same click arriving again (a retry, a second replica) gets the request it already made.
  if (open?.requestKey === input.requestKey) {
    return { request: open, created: false, records: { audit: [], history: [] }, migration, action };
  }
  if (open) {
    throw new ValidationError(
      `Approval to ${open.statement.includes(': down (roll back)') ? 'roll back' : 'apply'} ${migration.version} is already requested; it is waiting for an approver.`,
    );
  }
  const script = action === 'apply' ? migration.upScript : migration.downScript;
  const report = await inspectScript(script, ctx.target.driver.dialect, action === 'apply' ? 'up' : 'down');
  if (report.problems.length > 0)
    throw new ValidationError(`It cannot run as written: ${report.problems.join('; ')}`);
  const created = await createApprovalRequest(
    approvals.models,
    approvals.policy,
    {
      kind: 'migration',
      migration: migration._id,
      thread: input.thread,
      requester: input.requester,
      connection: { id: ctx.target.id, name: ctx.target.name },
      statement: approvalStatement(migration, action),
      verdict: report.verdict === 'read' ? 'ddl' : report.verdict,
      dryRun: verifiedImpact(
        migration,
        action,
        report.statements.map((s) => ({
          sql: s.sql,
          type: s.type,
          verdict: s.verdict,
          notMeasured: 'a migration is verified, not dry-run',
        })),
      ),
      requestKey: input.requestKey,
      question: `${action === 'apply' ? 'apply' : 'roll back'} migration ${migration.version}`,
    },
    ctx.now(),
  );
  if (created.created) {
    await ctx.models.Migration.updateOne(
      { _id: migration._id },
      {
        $set:
          action === 'apply' ? { approval: created.request._id } : { rollbackApproval: created.request._id },
      },
    );
  }
  return { ...created, migration, action };
}

export type MigrationExecution =
  | {
      kind: 'applied' | 'rolled_back';
      migration: MigrationFields;
      request: ApprovalRequestFields;
      executionMs: number;
      records: ApprovalRecords;
      after: SchemaSnapshot;
    }
  | {
      kind: 'failed';
      migration: MigrationFields | undefined;
      request: ApprovalRequestFields;
      message: string;
      records: ApprovalRecords;
    };

async function settle(
  models: ApprovalModels,
  request: ApprovalRequestFields,
  to: 'executed' | 'failed',
  actor: string,
  now: Date,
  text: string,
): Promise<ApprovalRequestFields> {
  try {
    return await transitionApproval(models, request._id, to, {
      from: 'approved',
      actor,
      now,
      set: to === 'executed' ? { resultSummary: text.slice(0, 2000) } : { error: text.slice(0, 2000) },
    });
  } catch (error) {
    if (!hasCode(error, 'illegal_transition', 'conflict')) throw error;
    return request;
  }
}

/**
 * Runs a migration request whose execution this caller claimed (decideApproval returned `approved`): the stored
 * text must still hash to the approved hash and still be the migration's scripts, then apply or roll back.
 * Never throws for a refusal or a failing script: both become `failed` with the reason.
 */
export async function executeMigrationApproval(
  ctx: MigrationContext,
  models: ApprovalModels,
  request: ApprovalRequestFields,
): Promise<MigrationExecution> {
  const actor = request.approvedBy.at(-1) ?? 'system';
  const now = ctx.now();
  let migration: MigrationFields | undefined;
  const failed = async (message: string): Promise<MigrationExecution> => {
    const settled = await settle(models, request, 'failed', actor, now, message);
    return {
      kind: 'failed',
      migration: migration ? await loadMigration(ctx, migration._id).catch(() => migration) : undefined,
      request: settled,
      message,
      records: {
        audit: [
          auditOf(request, 'approval.execute', 'failure', actor, {
            migration: String(request.migration),
            error: message,
          }),
        ],
        history: [
          historyOf(request, actor, 'execute', 'error', { error: { code: 'migration_failed', message } }),
        ],
      },
    };
  };
  try {
    migration = await loadMigration(ctx, request.migration);
    const action = actionOf(migration);
    if (
      sqlHash(request.statement) !== request.sqlHash ||
      sqlHash(approvalStatement(migration, action)) !== request.sqlHash
    ) {
      throw new ThreadqlError(
        'conflict',
        `The scripts of ${migration.version} are not the ones that were approved (they changed since), so nothing ran.`,
        { hint: 'Request approval again for the scripts as they are now.' },
      );
    }
    const result =
      action === 'apply'
        ? await applyMigration(ctx, {
            migrationId: migration._id,
            actor,
            approvedBy: request.approvedBy,
            approval: request._id,
            approvedChecksum: migration.checksum,
            approvedDownChecksum: migration.downChecksum,
          })
        : await rollbackMigration(ctx, {
            migrationId: migration._id,
            actor,
            approval: request._id,
            approvedDownChecksum: migration.downChecksum,
          });
    if (result.outcome === 'failed') {
      migration = result.migration;
      return failed(result.error);
    }
    const verb = action === 'apply' ? 'applied' : 'rolled back';
    const summary = `${migration.version} ${verb} in ${result.executionMs} ms`;
    const settled = await settle(models, request, 'executed', actor, now, summary);
    return {
      kind: result.outcome,
      migration: result.migration,
      request: settled,
      executionMs: result.executionMs,
      after: result.after,
      records: {
        audit: [
          auditOf(request, 'approval.execute', 'success', actor, {
            migration: String(migration._id),
            version: migration.version,
            action,
            executionMs: result.executionMs,
            requester: request.requester,
            approvedBy: request.approvedBy,
          }),
        ],
        history: [historyOf(request, actor, 'execute', 'success', { executionMs: result.executionMs })],
      },
    };
  } catch (error) {
    return failed(toUserMessage(error));
  }
}
