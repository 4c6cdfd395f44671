/**
 * Deciding approval requests in the thread (DESIGN §1 step 6): Approve, Reject (with an optional reason) and Edit
 * SQL on the approval card (write-proposal-flow.ts made it), the `approvals` list, and the expiry sweep. The last
 * needed approval runs the statement once and posts what it changed. The rules (who may decide, how many, exactly
 * once, drift, expiry, supersede) live in core/approvals; this flow only talks to the thread.
 */
import { executionFailedReply, executionReply, pendingListReply } from '../../approvals/approval-cards.ts';
import type { ApprovalModels } from '../../approvals/approval-models.ts';
import type { ApprovalPolicy } from '../../approvals/approval-policy.ts';
import { auditOf, type ApprovalRecords } from '../../approvals/approval-records.ts';
import { closedMessage, decideApproval, type DecideOutcome } from '../../approvals/decide-approval.ts';
import { answerDecision } from './answer-decision.ts';
import { executeApprovedRequest } from '../../approvals/execute-approved.ts';
import { expireDueApprovals } from '../../approvals/expire-approvals.ts';
import { judgeDecider } from '../../approvals/judge-decider.ts';
import { pendingApprovalsFor } from '../../approvals/list-pending-approvals.ts';
import { supersedeApprovalRequest } from '../../approvals/supersede-approval.ts';
import { NotFoundError, ThreadqlError, toUserMessage } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { ApprovalRequestFields } from '../../../models/approval-request.ts';
import { errorReply } from '../build-replies.ts';
import type {
  ButtonClick,
  ChatPlatform,
  ModalSubmit,
  PlatformName,
  PostedMessage,
} from '../chat-platform.ts';
import type { ConnectionProvider, EngineSettings, SessionStore } from '../engine-ports.ts';
import type { Flow } from '../flow.ts';
import type { Turn } from '../turn.ts';
import type { ApprovalThread } from './approval-thread.ts';

export interface ApprovalFlowDeps {
  connections: ConnectionProvider;
  settings: EngineSettings;
  models: ApprovalModels;
  policy: ApprovalPolicy;
  thread: ApprovalThread;
}

export class ApprovalFlow implements Flow {
  private readonly deps: ApprovalFlowDeps;

  readonly commands = {
    approvals: (turn: Turn) => readably(turn, 'approvals', () => this.list(turn)),
  };

  readonly buttons = {
    approve: {
      queued: true,
      handle: (turn: Turn, click: ButtonClick) => readably(turn, 'approve', () => this.approve(turn, click)),
    },
    // These open a modal, which must be the click's first answer: not queued.
    reject: {
      handle: (turn: Turn, click: ButtonClick) => readably(turn, 'reject', () => this.askReason(turn, click)),
    },
    approval_edit: {
      handle: (turn: Turn, click: ButtonClick) => readably(turn, 'edit', () => this.openEditor(turn, click)),
    },
  };

  readonly modals = {
    reject_reason: {
      queued: true,
      handle: (turn: Turn, submit: ModalSubmit) => readably(turn, 'reject', () => this.reject(turn, submit)),
    },
    approval_edit_sql: {
      queued: true,
      handle: (turn: Turn, submit: ModalSubmit) => readably(turn, 'edit', () => this.applyEdit(turn, submit)),
    },
  };

  constructor(deps: ApprovalFlowDeps) {
    this.deps = deps;
  }

  // ---- deciding ----

  private async approve(turn: Turn, click: ButtonClick): Promise<void> {
    let outcome: DecideOutcome;
    try {
      outcome = await decideApproval(
        this.deps.models,
        this.deps.policy,
        { requestId: click.value, user: turn.user, decision: 'approve' },
        this.now(),
      );
    } catch (error) {
      if (error instanceof NotFoundError) return turn.privately(error.message);
      throw error;
    }
    const { thread } = this.deps;
    await thread.record(turn.services.sessions, outcome.records, outcome.request, turn.logger);
    const card = thread.cardOf(outcome.request, click);
    await answerDecision(turn, outcome, {
      expired: (expired) => thread.show(turn.platform, card, expired, { kind: 'expired' }),
      pending: async (pending) =>
        thread.show(turn.platform, card, pending, {
          kind: 'pending',
          approvedBy: await thread.approverNames(pending),
        }),
      rejected: async () => {}, // an approval never rejects
      approved: async (approved) => {
        await thread.show(turn.platform, card, approved, {
          kind: 'running',
          approvedBy: approved.approvedByNames,
        });
        await this.execute(turn, card, approved);
      },
    });
  }

  /** Runs a request this turn claimed, then shows the outcome on the card and in the thread. */
  private async execute(turn: Turn, card: PostedMessage, request: ApprovalRequestFields): Promise<void> {
    const outcome = await executeApprovedRequest(
      this.deps.models,
      request,
      async () => (await this.deps.connections.resolveByName(request.connectionName)).driver,
      { timeoutMs: this.deps.settings.limits.statementTimeoutMs, now: () => this.now() },
    );
    await this.deps.thread.record(turn.services.sessions, outcome.records, request, turn.logger);
    if (outcome.kind === 'executed') {
      await this.deps.thread.show(turn.platform, card, outcome.request, {
        kind: 'executed',
        result: outcome.result,
      });
      await turn.post(executionReply(outcome.request, outcome.result));
      if (outcome.warning) turn.logger.error({ request: String(request._id) }, outcome.warning);
    } else {
      await this.deps.thread.show(turn.platform, card, outcome.request, {
        kind: 'failed',
        message: outcome.message,
        drift: outcome.drift,
      });
      await turn.post(executionFailedReply(outcome.request, outcome.message, outcome.drift));
    }
  }

  /** Reject: checks who may decide first (a stranger never sees the dialog), then asks for an optional reason. */
  private async askReason(turn: Turn, click: ButtonClick): Promise<void> {
    const request = await this.deps.thread.loadOrSay(turn, click.value);
    if (!request) return;
    const judgement = judgeDecider(this.deps.policy, request, turn.user, 'reject');
    if (!judgement.allowed) {
      await turn.privately(judgement.message);
      const records: ApprovalRecords = {
        audit: [
          auditOf(request, 'approval.refused', 'denied', turn.userKey, {
            decision: 'reject',
            reason: judgement.reason,
          }),
        ],
        history: [],
      };
      return this.deps.thread.record(turn.services.sessions, records, request, turn.logger);
    }
    if (request.status !== 'pending') return turn.privately(closedMessage(request.status));
    const { platform } = turn;
    if (!platform.capabilities.modals || !platform.openModal) {
      return this.decideReject(turn, request, '', this.deps.thread.cardOf(request, click));
    }
    await platform.openModal(click.trigger, {
      id: 'reject_reason',
      title: 'Reject the change',
      submitLabel: 'Reject',
      value: String(request._id),
      fields: [{ id: 'reason', label: 'Reason (optional)', value: '', multiline: true, optional: true }],
    });
  }

  private async reject(turn: Turn, submit: ModalSubmit): Promise<void> {
    const request = await this.deps.thread.loadOrSay(turn, submit.value);
    if (!request) return;
    await this.decideReject(turn, request, submit.fields.reason ?? '', this.deps.thread.cardOf(request));
  }

  private async decideReject(
    turn: Turn,
    request: ApprovalRequestFields,
    reason: string,
    card: PostedMessage,
  ): Promise<void> {
    const outcome = await decideApproval(
      this.deps.models,
      this.deps.policy,
      { requestId: String(request._id), user: turn.user, decision: 'reject', reason },
      this.now(),
    );
    const { thread } = this.deps;
    await thread.record(turn.services.sessions, outcome.records, outcome.request, turn.logger);
    // A rejection is final at once: no approval can be recorded or execute here.
    const unreachable = async () => {};
    await answerDecision(turn, outcome, {
      expired: (expired) => thread.show(turn.platform, card, expired, { kind: 'expired' }),
      pending: unreachable,
      approved: unreachable,
      rejected: async (rejected) => {
        const withdrawn = rejected.request.rejectedBy === rejected.request.requester;
        await thread.show(turn.platform, card, rejected.request, {
          kind: 'rejected',
          by: turn.who,
          reason: rejected.request.rejectionReason,
          withdrawn,
        });
        await turn.say(
          withdrawn ? `🚫 ${turn.who} withdrew the request.` : `🚫 ${rejected.message} (by ${turn.who})`,
        );
      },
    });
  }

  // ---- editing a request ----

  private async openEditor(turn: Turn, click: ButtonClick): Promise<void> {
    const request = await this.deps.thread.loadOrSay(turn, click.value);
    if (!request) return;
    if (request.requester !== turn.userKey && !this.deps.policy.qualifies(turn.user).approver) {
      await turn.privately('Only the requester or an approver can edit this request.');
      const records: ApprovalRecords = {
        audit: [
          auditOf(request, 'approval.refused', 'denied', turn.userKey, {
            decision: 'edit',
            reason: 'not_approver',
          }),
        ],
        history: [],
      };
      return this.deps.thread.record(turn.services.sessions, records, request, turn.logger);
    }
    if (request.status !== 'pending') return turn.privately(closedMessage(request.status));
    await turn.openModal(
      click.trigger,
      {
        id: 'approval_edit_sql',
        title: 'Edit the statement',
        submitLabel: 'Check',
        value: String(request._id),
        fields: [
          {
            id: 'sql',
            label: `Statement for ${request.connectionName}`,
            value: request.statement,
            multiline: true,
          },
        ],
      },
      'Reply in this thread with the edited statement in a ```sql block.',
    );
  }

  /** An edit is a new request with its own dry run and approvals; the old one is superseded. */
  private async applyEdit(turn: Turn, submit: ModalSubmit): Promise<void> {
    const previous = await this.deps.thread.loadOrSay(turn, submit.value);
    if (!previous) return;
    const sql = (submit.fields.sql ?? '').trim();
    try {
      if (!sql) throw new ThreadqlError('validation_failed', 'The edited statement is empty.');
      const verdict = await this.deps.connections.classify(previous.connectionName, sql);
      if (verdict.verdict === 'read')
        throw new ThreadqlError(
          'validation_failed',
          'The edit is a read: ask it as a question in the thread instead.',
        );
      const { driver } = await this.deps.connections.resolveByName(previous.connectionName);
      const dryRun = await driver.dryRun(sql, { timeoutMs: this.deps.settings.limits.statementTimeoutMs });
      if (dryRun.unrunnable)
        throw new ThreadqlError(
          'validation_failed',
          `This cannot be approved as written: ${dryRun.unrunnable}`,
        );
      const outcome = await supersedeApprovalRequest(
        this.deps.models,
        this.deps.policy,
        String(previous._id),
        {
          requester: turn.user,
          statement: sql,
          verdict: verdict.verdict,
          dryRun,
          question: `(edited) ${previous.statement.slice(0, 200)}`,
        },
        this.now(),
      );
      await this.deps.thread.record(turn.services.sessions, outcome.records, previous, turn.logger);
      if (outcome.kind !== 'superseded') return turn.privately(outcome.message);
      await this.deps.thread.show(turn.platform, this.deps.thread.cardOf(previous), outcome.previous, {
        kind: 'superseded',
        by: turn.who,
      });
      await this.deps.thread.postCard(turn.platform, outcome.request);
    } catch (error) {
      await turn.post(errorReply(toUserMessage(error)));
    }
  }

  // ---- commands ----

  /** `approvals`: the pending requests this user may decide, with links to their threads, only for them. */
  private async list(turn: Turn): Promise<void> {
    const items = await pendingApprovalsFor(this.deps.models, this.deps.policy, turn.user, this.now());
    const linked = await Promise.all(
      items.map(async (item) => {
        const link = await turn.platform.threadLink?.(item.request.thread).catch(() => undefined);
        return { ...item, ...(link ? { link } : {}) };
      }),
    );
    const reply = pendingListReply(linked, this.deps.policy.qualifies(turn.user).approver);
    if (turn.platform.postPrivate) await turn.platform.postPrivate(turn.thread, turn.user, reply);
    else await turn.post(reply);
  }

  // ---- expiry ----

  /** Expires due requests (any replica may run this), records it, and marks their cards where the platform runs here. */
  async sweep(
    sessions: SessionStore,
    platformFor: (name: PlatformName) => ChatPlatform | undefined,
    logger: Logger,
  ): Promise<number> {
    const expired = await expireDueApprovals(this.deps.models, this.now());
    for (const { request, records } of expired) {
      await this.deps.thread.record(sessions, records, request, logger);
      const platform = platformFor(request.thread.platform);
      if (platform && request.cardMessageId) {
        await this.deps.thread
          .show(platform, this.deps.thread.cardOf(request), request, { kind: 'expired' })
          .catch((err: unknown) => logger.warn({ err }, 'could not mark an expired approval card'));
      }
    }
    return expired.length;
  }

  // ---- helpers ----

  private now(): Date {
    return this.deps.settings.now();
  }
}

/** Any failure of an approval step (the store or a database down) becomes a readable reply, logged and audited. */
async function readably(turn: Turn, input: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    await turn.fail(error, { input: `approval: ${input}`, type: 'approval' });
  }
}
