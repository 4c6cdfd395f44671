/**
 * Confirm cards for reads: the card (explanation, the exact SQL, connection, EXPLAIN estimate) and its buttons
 * Run, Edit SQL and Cancel. A card's token is bound to the session, the turn and the SHA-256 of the SQL, and is
 * taken atomically, so a double click, a retried interaction or two replicas run a statement at most once.
 */
import { ConfirmationError, PermissionError, toUserMessage } from '../../errors.ts';
import { confirmCardReply, errorReply, settledCardReply } from '../build-replies.ts';
import {
  userKey,
  type ButtonClick,
  type ModalSubmit,
  type PostedMessage,
  type ThreadRef,
  type UserRef,
} from '../chat-platform.ts';
import type { Confirmation, ConfirmationStore } from '../confirmation-store.ts';
import type { ConnectionProvider, EngineSettings } from '../engine-ports.ts';
import type { Flow } from '../flow.ts';
import type { Turn } from '../turn.ts';
import type { ReadRunner } from './read-runner.ts';
import type { StatementProposal, WriteProposals } from './statement-proposal.ts';

const NOT_YOURS = 'Only the person who asked (or an approver) can use these buttons.';
const GONE = 'This confirmation has expired or was already used. Ask again to get a fresh one.';
const ELSEWHERE = 'This button belongs to a card in another thread; it can only be used there.';

export interface ConfirmFlowDeps {
  connections: ConnectionProvider;
  confirmations: ConfirmationStore;
  runner: ReadRunner;
  writes: WriteProposals;
  settings: EngineSettings;
}

export class ConfirmFlow implements Flow {
  private readonly deps: ConfirmFlowDeps;

  readonly buttons = {
    run: { queued: true, handle: (turn: Turn, click: ButtonClick) => this.run(turn, click) },
    edit: { handle: (turn: Turn, click: ButtonClick) => this.openEditor(turn, click) },
    cancel: { queued: true, handle: (turn: Turn, click: ButtonClick) => this.cancel(turn, click) },
  };

  readonly modals = {
    edit_sql: { queued: true, handle: (turn: Turn, submit: ModalSubmit) => this.applyEdit(turn, submit) },
  };

  constructor(deps: ConfirmFlowDeps) {
    this.deps = deps;
  }

  /** Offers a statement: a read gets a confirm card, anything else goes to the write proposals (approvals). */
  async offer(proposal: StatementProposal): Promise<void> {
    if (proposal.verdict.verdict !== 'read') {
      await this.deps.writes.offerWrite(proposal);
      return;
    }
    const { turn, card, sessionId, connectionName, sql, generation, params, template } = proposal;
    const { driver } = await this.deps.connections.resolveByName(connectionName);
    const estimate = await driver
      .explain(sql, {
        timeoutMs: this.deps.settings.limits.statementTimeoutMs,
        ...(params ? { params } : {}),
      })
      .catch(() => undefined);
    const usage = generation?.usage;
    const entry = await turn.history(sessionId, {
      type: 'query',
      userInput: proposal.question,
      generatedSql: sql,
      status: 'awaiting_confirmation',
      ...(generation ? { explanation: generation.explanation } : {}),
      ...(usage ? { tokenCount: usage.inputTokens + usage.outputTokens, llmMs: usage.llmMs } : {}),
    });
    const confirmation = await this.deps.confirmations.create({
      sessionId,
      turn: entry,
      threadKey: turn.threadKey,
      askerKey: turn.userKey,
      connectionName,
      question: proposal.question,
      // Pasted SQL is no title; the generator's title, the template's question or the question is.
      title: template ? template.title : generation ? (generation.title ?? proposal.question) : '',
      sql,
      verdict: 'read',
      explanation: template
        ? `Template *${template.name}*${template.values ? ` with ${template.values}` : ''}:`
        : proposal.editedBy
          ? `Edited by ${proposal.editedBy}:`
          : (generation?.explanation ?? 'Your query:'),
      ...(params ? { params } : {}),
      ...(template ? { template } : {}),
      ...(generation?.chart ? { chart: generation.chart } : {}),
      messageId: card.messageId,
    });
    await turn.update(
      card,
      confirmCardReply({ confirmation, estimatedRows: estimate?.estimatedRows, usage }),
    );
  }

  /** The asker, or an approver, may use a card's buttons. */
  private mayAct(user: UserRef, confirmation: Confirmation): boolean {
    return userKey(user) === confirmation.askerKey || this.deps.settings.isApprover(user);
  }

  /**
   * The confirmation a click or submit refers to, if it is still live, was clicked in the card's own thread, and
   * the user may use it.
   */
  private async permitted(turn: Turn, token: string, action: string): Promise<Confirmation | undefined> {
    const confirmation = await this.deps.confirmations.peek(token);
    if (!confirmation) {
      await turn.privately(GONE);
      return undefined;
    }
    // A signed click naming another channel or thread must not run the card there (or anywhere).
    if (turn.threadKey !== confirmation.threadKey) {
      await turn.privately(ELSEWHERE);
      await turn.audit(
        'click.refused',
        { action, reason: 'wrong_thread', cardThread: confirmation.threadKey },
        confirmation.sqlHash,
      );
      return undefined;
    }
    if (!this.mayAct(turn.user, confirmation)) {
      await turn.privately(NOT_YOURS);
      await turn.audit(
        'click.refused',
        { action, reason: new PermissionError(NOT_YOURS).code },
        confirmation.sqlHash,
      );
      return undefined;
    }
    return confirmation;
  }

  private async run(turn: Turn, click: ButtonClick): Promise<void> {
    if (!(await this.permitted(turn, click.value, 'run'))) return;
    // The atomic take: of two clicks (or two replicas) exactly one proceeds.
    const confirmation = await this.deps.confirmations.consume(click.value);
    if (!confirmation) {
      await turn.privately(GONE);
      return;
    }
    const card = cardOf(click.thread, confirmation, click.message.messageId);
    await this.deps.runner.run(turn, confirmation, card);
  }

  private async openEditor(turn: Turn, click: ButtonClick): Promise<void> {
    const confirmation = await this.permitted(turn, click.value, 'edit');
    if (!confirmation) return;
    await turn.openModal(
      click.trigger,
      {
        id: 'edit_sql',
        title: 'Edit SQL',
        submitLabel: 'Check',
        value: confirmation.id,
        fields: [
          {
            id: 'sql',
            label: `SQL for ${confirmation.connectionName}`,
            value: confirmation.sql,
            multiline: true,
          },
        ],
      },
      'Reply in this thread with the edited SQL in a ```sql block.',
    );
  }

  private async applyEdit(turn: Turn, submit: ModalSubmit): Promise<void> {
    const previous = await this.permitted(turn, submit.value, 'edit');
    if (!previous) return;
    const sql = (submit.fields.sql ?? '').trim();
    const card: PostedMessage = { thread: submit.thread, messageId: previous.messageId ?? '' };
    // The old token dies with the old SQL: a confirmation is bound to the exact statement.
    if (!(await this.deps.confirmations.consume(previous.id))) {
      await turn.privately(GONE);
      return;
    }
    try {
      if (!sql) throw new ConfirmationError('The edited SQL is empty.');
      const verdict = await this.deps.connections.classify(previous.connectionName, sql);
      await this.offer({
        turn,
        card,
        sessionId: previous.sessionId,
        connectionName: previous.connectionName,
        question: `(edited) ${previous.question}`,
        sql,
        verdict,
        editedBy: turn.who,
      });
    } catch (error) {
      await turn.post(errorReply(toUserMessage(error)));
    }
  }

  private async cancel(turn: Turn, click: ButtonClick): Promise<void> {
    if (!(await this.permitted(turn, click.value, 'cancel'))) return;
    const confirmation = await this.deps.confirmations.consume(click.value);
    if (!confirmation) {
      await turn.privately(GONE);
      return;
    }
    await turn.update(
      cardOf(click.thread, confirmation, click.message.messageId),
      settledCardReply(confirmation, `🚫 Cancelled by ${turn.who}`),
    );
    await turn.history(confirmation.sessionId, {
      type: 'query',
      userInput: confirmation.question,
      generatedSql: confirmation.sql,
      status: 'cancelled',
    });
  }
}

/** The card a confirmation was shown on (a click on any copy updates the card itself). */
function cardOf(thread: ThreadRef, confirmation: Confirmation, fallback: string): PostedMessage {
  return { thread, messageId: confirmation.messageId ?? fallback };
}
