/**
 * The write card (DESIGN §1 step 6): a statement that is not a read, from Claude or pasted, is measured by a dry run
 * and shown with its impact and Request approval / Edit SQL / Cancel (Edit and Cancel are the confirm flow's, on
 * the same token). The asker's Request approval creates the ApprovalRequest and posts the approval card.
 */
import type { Types } from 'mongoose';
import { writeCardReply } from '../../approvals/approval-cards.ts';
import type { ApprovalModels } from '../../approvals/approval-models.ts';
import type { ApprovalPolicy } from '../../approvals/approval-policy.ts';
import { createApprovalRequest } from '../../approvals/create-approval-request.ts';
import type { DryRunResult } from '../../db/database-dialect.ts';
import { NotFoundError, ThreadqlError, toUserMessage } from '../../errors.ts';
import { settledCardReply } from '../build-replies.ts';
import type { ButtonClick, PostedMessage } from '../chat-platform.ts';
import type { ConfirmationStore } from '../confirmation-store.ts';
import type { ConnectionProvider, EngineSettings } from '../engine-ports.ts';
import type { Flow } from '../flow.ts';
import type { Turn } from '../turn.ts';
import type { ApprovalThread } from './approval-thread.ts';
import type { StatementProposal, WriteProposals } from './statement-proposal.ts';

const GONE = 'This card has expired or was already used. Ask again to get a fresh one.';
const ONLY_ASKER = 'Only the person who asked can request approval for this.';

export interface WriteProposalFlowDeps {
  connections: ConnectionProvider;
  confirmations: ConfirmationStore;
  settings: EngineSettings;
  models: ApprovalModels;
  policy: ApprovalPolicy;
  thread: ApprovalThread;
  connectionId(name: string): Types.ObjectId | undefined;
}

export class WriteProposalFlow implements Flow, WriteProposals {
  private readonly deps: WriteProposalFlowDeps;

  readonly buttons = {
    approval_request: { queued: true, handle: (turn: Turn, click: ButtonClick) => this.request(turn, click) },
  };

  constructor(deps: WriteProposalFlowDeps) {
    this.deps = deps;
  }

  /** A statement that is not a read: measured by a dry run and shown with Request approval / Edit SQL / Cancel. */
  async offerWrite(proposal: StatementProposal): Promise<void> {
    const { turn, card, sessionId, connectionName, sql, verdict, generation } = proposal;
    const { driver } = await this.deps.connections.resolveByName(connectionName);
    let impact: DryRunResult | undefined;
    let dryRunError: string | undefined;
    try {
      impact = await driver.dryRun(sql, { timeoutMs: this.deps.settings.limits.statementTimeoutMs });
    } catch (error) {
      if (!(error instanceof ThreadqlError)) throw error;
      dryRunError = toUserMessage(error);
    }
    const usage = generation?.usage;
    const entry = await turn.history(sessionId, {
      type: 'query',
      userInput: proposal.question,
      generatedSql: sql,
      status: 'needs_approval',
      ...(impact?.affectedRows !== undefined ? { resultCount: impact.affectedRows } : {}),
      ...(generation ? { explanation: generation.explanation } : {}),
      ...(usage ? { tokenCount: usage.inputTokens + usage.outputTokens, llmMs: usage.llmMs } : {}),
      ...(dryRunError ? { error: { code: 'dry_run_failed', message: dryRunError } } : {}),
    });
    const confirmation = await this.deps.confirmations.create({
      sessionId,
      turn: entry,
      threadKey: turn.threadKey,
      askerKey: turn.userKey,
      connectionName,
      question: proposal.question,
      title: '',
      sql,
      verdict: verdict.verdict,
      explanation: proposal.editedBy
        ? `Edited by ${proposal.editedBy}:`
        : (generation?.explanation ?? 'Your statement:'),
      ...(impact ? { impact } : {}),
      messageId: card.messageId,
    });
    await turn.update(
      card,
      writeCardReply({
        confirmation,
        ...(impact ? { impact } : {}),
        ...(dryRunError ? { dryRunError } : {}),
        language: driver.dialect.capabilities.queryLanguage === 'mongo' ? 'json' : 'sql',
        ...(usage ? { usage } : {}),
      }),
    );
    await turn.audit(
      'statement.write_card',
      {
        verdict: verdict.verdict,
        connection: connectionName,
        ...(impact ? { affectedRows: impact.affectedRows ?? null, measured: impact.performed } : {}),
        ...(dryRunError ? { dryRunError } : {}),
      },
      confirmation.sqlHash,
    );
  }

  /** Request approval: the asker turns the write card into an approval request and an approval card. */
  private async request(turn: Turn, click: ButtonClick): Promise<void> {
    const { confirmations } = this.deps;
    const peeked = await confirmations.peek(click.value);
    if (!peeked) return turn.privately(GONE);
    if (peeked.askerKey !== turn.userKey) {
      await turn.privately(ONLY_ASKER);
      await turn.audit('click.refused', { action: 'approval_request', reason: 'not_asker' }, peeked.sqlHash);
      return;
    }
    // The atomic take: a double click or a retried interaction makes one request.
    const confirmation = await confirmations.consume(click.value);
    if (!confirmation) return turn.privately(GONE);
    const writeCard: PostedMessage = {
      thread: click.thread,
      messageId: confirmation.messageId ?? click.message.messageId,
    };
    try {
      if (!confirmation.impact)
        throw new ThreadqlError('validation_failed', 'This statement has no dry run to approve.');
      const id = this.deps.connectionId(confirmation.connectionName);
      if (!id)
        throw new NotFoundError(`Connection "${confirmation.connectionName}" is not known to the store.`);
      const created = await createApprovalRequest(
        this.deps.models,
        this.deps.policy,
        {
          thread: turn.thread,
          requester: turn.user,
          connection: { id, name: confirmation.connectionName },
          statement: confirmation.sql,
          verdict: confirmation.verdict,
          dryRun: confirmation.impact,
          requestKey: confirmation.id,
          question: confirmation.question,
        },
        this.now(),
      );
      await turn.update(
        writeCard,
        settledCardReply(confirmation, `🔐 Approval requested by ${turn.who}: see the approval card below`),
      );
      await this.deps.thread.postCard(turn.platform, created.request);
      await this.deps.thread.record(turn.services.sessions, created.records, created.request, turn.logger);
    } catch (error) {
      await turn.fail(error, {
        input: confirmation.question,
        sessionId: confirmation.sessionId,
        type: 'approval',
      });
    }
  }

  private now(): Date {
    return this.deps.settings.now();
  }
}
