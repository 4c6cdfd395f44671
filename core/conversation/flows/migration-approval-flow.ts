/**
 * Approving, applying and rolling back migrations in the thread: Request approval on a migration card, Approve /
 * Reject on its approval card, `rollback` (in the migration's thread), `rollback <version>` (anywhere the
 * connection may be used) and Roll back on an applied card. The approval rules are core/approvals' (approvers,
 * never the requester, required count, exactly once, expiry); a migration's proposer may not approve it either.
 * The last needed approval applies (or rolls back) once and posts what happened.
 */
import type { ApprovalRequestFields } from '../../../models/approval-request.ts';
import type { MigrationFields } from '../../../models/migration.ts';
import { auditOf } from '../../approvals/approval-records.ts';
import { closedMessage, decideApproval, type DecideOutcome } from '../../approvals/decide-approval.ts';
import { answerDecision } from './answer-decision.ts';
import { hasCode, NotFoundError, toUserMessage } from '../../errors.ts';
import {
  migrationApprovalCard,
  MIGRATION_APPROVAL_ACTIONS,
  type MigrationApprovalState,
} from '../../migrations/migration-approval-card.ts';
import { executeMigrationApproval, requestMigrationApproval } from '../../migrations/migration-approvals.ts';
import { MIGRATION_ACTIONS } from '../../migrations/migration-card.ts';
import type { CommandArgs } from '../chat-grammar.ts';
import { threadKey, type ButtonClick, type IncomingMessage, type PostedMessage } from '../chat-platform.ts';
import type { Flow } from '../flow.ts';
import type { Turn } from '../turn.ts';
import type { MigrationThread } from './migration-thread.ts';
import { threadSession } from './thread-session.ts';

export class MigrationApprovalFlow implements Flow {
  private readonly thread: MigrationThread;

  readonly commands = {
    rollback: (turn: Turn, args: CommandArgs['rollback'], message: IncomingMessage) =>
      this.rollbackCommand(turn, args.version, message.id),
  };

  readonly buttons = {
    [MIGRATION_ACTIONS.request]: {
      queued: true,
      handle: (turn: Turn, click: ButtonClick) => this.request(turn, click.value, `click:${click.id}`),
    },
    [MIGRATION_ACTIONS.rollback]: {
      queued: true,
      handle: (turn: Turn, click: ButtonClick) => this.request(turn, click.value, `click:${click.id}`),
    },
    [MIGRATION_APPROVAL_ACTIONS.approve]: {
      queued: true,
      handle: (turn: Turn, click: ButtonClick) => this.decide(turn, click, 'approve'),
    },
    [MIGRATION_APPROVAL_ACTIONS.reject]: {
      queued: true,
      handle: (turn: Turn, click: ButtonClick) => this.decide(turn, click, 'reject'),
    },
  };

  constructor(thread: MigrationThread) {
    this.thread = thread;
  }

  private get models() {
    return this.thread.deps.models;
  }

  /** `rollback [version]`: the newest applied migration proposed in this thread, or the named version. */
  private async rollbackCommand(turn: Turn, version: string | undefined, messageId: string): Promise<void> {
    try {
      const { connection } = await threadSession(
        turn,
        this.thread.deps.connections,
        `rollback ${version ?? ''}`.trim(),
      );
      let found: MigrationFields | null;
      if (version) {
        const allowed = this.thread.deps.connections.allowedFor(turn.thread).map((n) => n.toLowerCase());
        const candidates = await this.models.Migration.find({ version }).lean<MigrationFields[]>();
        found =
          candidates.find((m) => m.connectionName?.toLowerCase() === connection.name.toLowerCase()) ??
          candidates.find((m) => allowed.includes(m.connectionName?.toLowerCase() ?? '')) ??
          null;
        if (!found)
          throw new NotFoundError(`No migration ${version} on a connection this channel may use.`, {
            hint: 'Run `migrations` to see the versions.',
          });
      } else {
        const t = turn.thread;
        found = await this.models.Migration.findOne({
          'thread.platform': t.platform,
          'thread.workspace': t.workspace,
          'thread.channel': t.channel,
          'thread.thread': t.thread,
          status: 'applied',
        })
          .sort({ version: -1 })
          .lean<MigrationFields>();
        if (!found) {
          throw new NotFoundError('There is no applied migration in this thread.', {
            hint: 'Use `rollback <version>` (see `migrations` for the versions), or say it in the migration’s thread.',
          });
        }
      }
      await this.request(turn, String(found._id), `message:${messageId}`);
    } catch (error) {
      await turn.fail(error, { input: `rollback ${version ?? ''}`.trim(), type: 'migration' });
    }
  }

  /** Request approval to apply (pending) or roll back (applied) a migration; posts the approval card. */
  private async request(turn: Turn, migrationId: string, requestKey: string): Promise<void> {
    try {
      const migration = await this.loadMigration(migrationId);
      const ctx = await this.thread.deps.targets.context(migration.connectionName ?? '');
      const created = await requestMigrationApproval(
        ctx,
        { models: this.models, policy: this.thread.deps.policy },
        {
          migrationId: migration._id,
          requester: turn.user,
          thread: turn.thread,
          requestKey: `migration:${migration._id}:${requestKey}`,
        },
      );
      await this.thread.record(turn.services.sessions, created.records, turn.threadKey, turn.logger);
      if (!created.created) return;
      // The migration card first, the approval card last: where buttons become numbered choices (the shell), the
      // newest card's buttons are the ones answered.
      const what = created.action === 'apply' ? 'apply it' : 'roll it back';
      await this.thread.refreshCard(
        turn.platform,
        await this.loadMigration(migrationId),
        `⏳ ${turn.who} asked for approval to ${what}.`,
      );
      const posted = await turn.post(
        migrationApprovalCard(
          created.request,
          migration.version,
          { kind: 'pending', approvedBy: [] },
          this.thread.approverIds(turn.platform),
        ),
      );
      await this.models.ApprovalRequest.updateOne(
        { _id: created.request._id },
        { $set: { cardMessageId: posted.messageId } },
      );
      await turn.audit(
        `migration.request_${created.action}`,
        { migration: migrationId, version: migration.version, request: String(created.request._id) },
        created.request.sqlHash,
      );
    } catch (error) {
      await turn.fail(error, { input: 'request migration approval', type: 'migration' });
    }
  }

  private async loadMigration(id: unknown): Promise<MigrationFields> {
    const found = await this.models.Migration.findById(id).lean<MigrationFields>();
    if (!found) throw new NotFoundError('That migration no longer exists.');
    return found;
  }

  private cardOf(request: ApprovalRequestFields, click: ButtonClick): PostedMessage {
    return request.cardMessageId
      ? { thread: request.thread, messageId: request.cardMessageId }
      : click.message;
  }

  private async show(
    turn: Turn,
    card: PostedMessage,
    request: ApprovalRequestFields,
    version: string,
    state: MigrationApprovalState,
  ): Promise<void> {
    await turn.platform
      .update(card, migrationApprovalCard(request, version, state, this.thread.approverIds(turn.platform)))
      .catch((err: unknown) => turn.logger.warn({ err }, 'could not update a migration approval card'));
  }

  /** Approve or Reject on a migration's approval card. */
  private async decide(turn: Turn, click: ButtonClick, decision: 'approve' | 'reject'): Promise<void> {
    const request = await this.models.ApprovalRequest.findById(click.value).lean<ApprovalRequestFields>();
    if (!request || request.kind !== 'migration' || !request.migration)
      return turn.privately('That approval request no longer exists.');
    const migration = await this.loadMigration(request.migration).catch(() => undefined);
    if (!migration) return turn.privately('That migration no longer exists.');
    const card = this.cardOf(request, click);
    if (decision === 'approve' && migration.proposedBy === turn.userKey) {
      await turn.privately(`You proposed ${migration.version}, so someone else has to approve it.`);
      const records = {
        audit: [
          auditOf(request, 'approval.refused', 'denied' as const, turn.userKey, {
            decision,
            reason: 'own_proposal',
          }),
        ],
        history: [],
      };
      return this.thread.record(turn.services.sessions, records, turn.threadKey, turn.logger);
    }
    let outcome: DecideOutcome;
    try {
      outcome = await decideApproval(
        this.models,
        this.thread.deps.policy,
        { requestId: String(request._id), user: turn.user, decision },
        turn.settings.now(),
      );
    } catch (error) {
      if (error instanceof NotFoundError) return turn.privately(error.message);
      throw error;
    }
    await this.thread.record(turn.services.sessions, outcome.records, threadKey(request.thread), turn.logger);
    const { version } = migration;
    await answerDecision(turn, outcome, {
      expired: (expired) =>
        this.show(turn, card, expired, version, { kind: 'settled', text: `⌛ ${closedMessage('expired')}` }),
      pending: async (pending) =>
        this.show(turn, card, pending, version, {
          kind: 'pending',
          approvedBy: await this.thread.approverNames(pending),
        }),
      rejected: async (rejected) => {
        const text = `🚫 ${rejected.message}`;
        await this.show(turn, card, rejected.request, version, { kind: 'settled', text });
        await this.thread.refreshCard(turn.platform, migration, text);
        await turn.audit('migration.rejected', { migration: String(migration._id), version });
      },
      approved: async (approved) => {
        await this.show(turn, card, approved, version, {
          kind: 'running',
          approvedBy: approved.approvedByNames,
        });
        await this.execute(turn, card, approved, migration);
      },
    });
  }

  /** Runs the request this turn claimed and tells the thread. */
  private async execute(
    turn: Turn,
    card: PostedMessage,
    request: ApprovalRequestFields,
    migration: MigrationFields,
  ): Promise<void> {
    let execution;
    try {
      const ctx = await this.thread.deps.targets.context(request.connectionName);
      execution = await executeMigrationApproval(ctx, this.models, request);
    } catch (error) {
      if (!hasCode(error, 'database_unavailable', 'not_found', 'validation_failed'))
        turn.logger.error({ err: error }, 'migration execution failed');
      execution = {
        kind: 'failed' as const,
        migration,
        request,
        message: toUserMessage(error),
        records: { audit: [], history: [] },
      };
    }
    await this.thread.record(
      turn.services.sessions,
      execution.records,
      threadKey(request.thread),
      turn.logger,
    );
    const requester = request.requesterName ?? request.requester.split(':').at(-1);
    const approvers = request.approvedByNames.join(' and ');
    const session = await turn.session();
    if (execution.kind === 'failed') {
      const text = `❌ Migration \`${migration.version}\` was not ${request.statement.includes(': down (roll back)') ? 'rolled back' : 'applied'} on *${request.connectionName}*: ${execution.message}`;
      await this.show(turn, card, execution.request, migration.version, { kind: 'settled', text });
      if (execution.migration) await this.thread.refreshCard(turn.platform, execution.migration);
      await turn.say(text);
      if (session)
        await turn.history(session.id, {
          type: 'migration',
          userInput: `execute ${migration.version}`,
          generatedSql: request.statement,
          status: 'error',
          error: { code: 'migration_failed', message: execution.message.slice(0, 500) },
        });
      await turn.audit(
        'migration.execute_failed',
        { migration: String(migration._id), version: migration.version, error: execution.message },
        request.sqlHash,
      );
      return;
    }
    const verb = execution.kind === 'applied' ? 'applied' : 'rolled back';
    const text = `${execution.kind === 'applied' ? '✅' : '↩️'} Migration \`${migration.version}\` ${verb} on *${request.connectionName}* in ${execution.executionMs} ms — requested by ${requester}, approved by ${approvers}. threadql_schema_history records it.`;
    await this.show(turn, card, execution.request, migration.version, { kind: 'settled', text });
    await this.thread.refreshCard(turn.platform, execution.migration);
    await turn.say(text);
    await this.thread.deps.connections
      .setSchema?.(request.connectionName, execution.after)
      .catch((err: unknown) => turn.logger.warn({ err }, 'could not refresh the cached schema'));
    if (session)
      await turn.history(session.id, {
        type: 'migration',
        userInput: `${execution.kind === 'applied' ? 'apply' : 'rollback'} ${migration.version}`,
        generatedSql: request.statement,
        status: 'success',
        executionMs: execution.executionMs,
      });
    await turn.audit(
      `migration.${execution.kind === 'applied' ? 'apply' : 'rollback'}`,
      {
        migration: String(migration._id),
        version: migration.version,
        executionMs: execution.executionMs,
        requester: request.requester,
        approvedBy: request.approvedBy,
      },
      request.sqlHash,
    );
  }
}
