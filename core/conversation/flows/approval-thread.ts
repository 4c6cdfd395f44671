/**
 * What the approval flows share about a request in its thread: posting and updating its approval card, the
 * names on it, and recording what each step produced.
 */
import type { Types } from 'mongoose';
import { approvalCardReply, type ApprovalCardState } from '../../approvals/approval-cards.ts';
import type { ApprovalModels } from '../../approvals/approval-models.ts';
import type { ApprovalPolicy } from '../../approvals/approval-policy.ts';
import type { ApprovalRecords } from '../../approvals/approval-records.ts';
import { load } from '../../approvals/decide-approval.ts';
import { recordApproval } from '../../approvals/record-approval.ts';
import { NotFoundError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { ApprovalDecisionFields } from '../../../models/approval-decision.ts';
import type { ApprovalRequestFields } from '../../../models/approval-request.ts';
import { threadKey, type ButtonClick, type ChatPlatform, type PostedMessage } from '../chat-platform.ts';
import type { ConnectionProvider, SessionStore } from '../engine-ports.ts';
import type { Turn } from '../turn.ts';

export interface ApprovalThreadDeps {
  connections: ConnectionProvider;
  models: ApprovalModels;
  policy: ApprovalPolicy;
  /** The DatabaseConnection id of a connection by name (requests are bound to it). */
  connectionId(name: string): Types.ObjectId | undefined;
}

export class ApprovalThread {
  readonly #deps: ApprovalThreadDeps;

  constructor(deps: ApprovalThreadDeps) {
    this.#deps = deps;
  }

  /** Posts the pending approval card (mentioning the approvers) and remembers its message on the request. */
  async postCard(platform: ChatPlatform, request: ApprovalRequestFields): Promise<void> {
    const mentions = this.#mentions(request);
    const reply = approvalCardReply(
      request,
      { kind: 'pending', approvedBy: [] },
      { language: await this.language(request), mentions },
    );
    const posted = await platform.post(request.thread, reply);
    // Not a status change: a plain update, so a click on the card finds and updates it.
    await this.#deps.models.ApprovalRequest.updateOne(
      { _id: request._id },
      { $set: { cardMessageId: posted.messageId } },
    );
    request.cardMessageId = posted.messageId;
  }

  /** Shows the card of a request in `state`. */
  async show(
    platform: ChatPlatform,
    card: PostedMessage,
    request: ApprovalRequestFields,
    state: ApprovalCardState,
  ): Promise<void> {
    const mentions = this.#mentions(request);
    await platform.update(
      card,
      approvalCardReply(request, state, { language: await this.language(request), mentions }),
    );
  }

  /** The code language of a request's statement (MongoDB's are JSON). */
  async language(request: ApprovalRequestFields): Promise<'sql' | 'json'> {
    try {
      const { driver } = await this.#deps.connections.resolveByName(request.connectionName);
      return driver.dialect.capabilities.queryLanguage === 'mongo' ? 'json' : 'sql';
    } catch {
      return request.statement.trim().startsWith('{') ? 'json' : 'sql';
    }
  }

  /** The approval card's message (the one clicked, when the request does not know it yet). */
  cardOf(request: ApprovalRequestFields, click?: ButtonClick): PostedMessage {
    return { thread: request.thread, messageId: request.cardMessageId ?? click?.message.messageId ?? '' };
  }

  /** Names of those who approved so far, in order. */
  async approverNames(request: ApprovalRequestFields): Promise<string[]> {
    const decisions = await this.#deps.models.ApprovalDecision.find({
      request: request._id,
      decision: 'approve',
    })
      .sort({ at: 1 })
      .lean<ApprovalDecisionFields[]>();
    return decisions.map((d) => d.userName ?? d.user.split(':').at(-1) ?? d.user);
  }

  /** The request a button names, or undefined after telling the user it is gone. */
  async loadOrSay(turn: Turn, id: string): Promise<ApprovalRequestFields | undefined> {
    try {
      return await load(this.#deps.models, id);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      await turn.privately(error.message);
      return undefined;
    }
  }

  /** Writes a step's audit events and history entries. */
  record(
    sessions: SessionStore,
    records: ApprovalRecords,
    request: ApprovalRequestFields,
    logger: Logger,
  ): Promise<void> {
    return recordApproval(sessions, records, threadKey(request.thread), logger);
  }

  /** The approvers to notify: everyone listed but the requester, who cannot approve. */
  #mentions(request: ApprovalRequestFields): string[] {
    const own = request.requester.split(':').at(-1);
    return this.#deps.policy.approverIds(request.thread.platform).filter((id) => id !== own);
  }
}
