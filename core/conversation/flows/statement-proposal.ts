/** A statement threadql is about to offer in a thread, from Claude or pasted, and where non-reads go. */
import type { QueryParams } from '../../db/database-dialect.ts';
import type { Verdict } from '../../safety/verdict.ts';
import { needsApprovalReply } from '../build-replies.ts';
import type { PostedMessage } from '../chat-platform.ts';
import type { TemplateRun } from '../confirmation-store.ts';
import type { Generation } from '../engine-ports.ts';
import type { Turn } from '../turn.ts';

export type QueryGeneration = Extract<Generation, { kind: 'query' }>;

export interface StatementProposal {
  turn: Turn;
  /** The message that becomes the card. */
  card: PostedMessage;
  sessionId: string;
  connectionName: string;
  /** The user's words (or `(edited) …`), recorded with the turn. */
  question: string;
  sql: string;
  verdict: Verdict;
  /** Present when Claude wrote the statement. */
  generation?: QueryGeneration;
  /** Who edited it, when it came from an Edit. */
  editedBy?: string;
  /** Bound parameter values for `sql` (a template run). */
  params?: QueryParams;
  /** The template being run, when it is one. */
  template?: TemplateRun;
}

/** Where statements that are not reads go (the approval flow); reads get a confirm card instead. */
export interface WriteProposals {
  offerWrite(proposal: StatementProposal): Promise<void>;
}

/** Without an approval flow: the statement is shown with its classification and never runs. */
export const refuseWrites: WriteProposals = {
  async offerWrite({ turn, card, sessionId, connectionName, question, sql, verdict, generation }) {
    await turn.update(card, needsApprovalReply(sql, verdict, connectionName));
    const usage = generation?.usage;
    await turn.history(sessionId, {
      type: 'query',
      userInput: question,
      generatedSql: sql,
      status: 'needs_approval',
      ...(generation ? { explanation: generation.explanation } : {}),
      ...(usage ? { tokenCount: usage.inputTokens + usage.outputTokens, llmMs: usage.llmMs } : {}),
    });
    await turn.audit('statement.needs_approval', { verdict: verdict.verdict, connection: connectionName });
  },
};
