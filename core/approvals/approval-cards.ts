/**
 * The approval flow's replies as neutral Reply values: the write card (statement, connection, measured dry run,
 * EXPLAIN estimate; Request approval / Edit SQL / Cancel), the approval card in each of its states, the execution
 * result, and the `approvals` list. Pure functions: the adapters render them natively.
 */
import type { ApprovalRequestFields } from '../../models/approval-request.ts';
import type { Button, Reply, ReplyPart } from '../conversation/chat-platform.ts';
import type { Confirmation } from '../conversation/confirmation-store.ts';
import type { LlmUsage } from '../conversation/engine-ports.ts';
import type { WriteResult } from '../db/database-dialect.ts';
import { allowedRows } from '../db/write-batch.ts';
import type { StatementClass } from '../safety/verdict.ts';

const number = new Intl.NumberFormat('en-US');

/** What the cards read of a dry run: the live result, or the copy a request stores. */
export interface ImpactView {
  performed: boolean;
  affectedRows?: number;
  reason?: string;
  note?: string;
  unrunnable?: string;
  statements: {
    type: string;
    verdict: StatementClass;
    affectedRows?: number;
    estimatedRows?: number;
    notMeasured?: string;
  }[];
}

const CLASS_WORDS: Record<StatementClass, string> = {
  read: 'reads data',
  write: 'changes data',
  ddl: 'changes the schema',
  other: 'is neither a plain read nor a plain write',
};

function rows(n: number): string {
  return `${number.format(n)} ${n === 1 ? 'row' : 'rows'}`;
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

function when(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "Ann", "Ann and Bob", "Ann, Bob and Cy". */
export function names(list: readonly string[]): string {
  if (list.length <= 1) return list[0] ?? 'nobody';
  return `${list.slice(0, -1).join(', ')} and ${list.at(-1)}`;
}

/** One line for the dry run as a whole: what it measured (or could not), and EXPLAIN's estimate. */
export function impactSummary(impact: ImpactView): string {
  if (impact.unrunnable) return `⚠️ cannot run as written: ${impact.unrunnable}`;
  const measured = impact.statements.filter((s) => s.affectedRows !== undefined);
  const parts: string[] = [];
  if (measured.length === 0) parts.push('dry run: not measured');
  else {
    const total = rows(impact.affectedRows ?? 0);
    parts.push(
      impact.performed
        ? `dry run: would change ${total}`
        : `dry run: would change ${total} in the statements it could measure`,
    );
  }
  const estimates = impact.statements.filter((s) => s.estimatedRows !== undefined);
  if (estimates.length === 1 && impact.statements.length === 1)
    parts.push(`EXPLAIN estimates ~${number.format(estimates[0]!.estimatedRows!)} rows`);
  return parts.join(' · ');
}

/** Per-statement lines for a batch, and the reason a statement was not measured (for one statement too). */
export function impactDetails(impact: ImpactView): string[] {
  const lines: string[] = [];
  if (impact.statements.length > 1) {
    impact.statements.forEach((s, i) => {
      const what =
        s.affectedRows !== undefined
          ? rows(s.affectedRows) +
            (s.estimatedRows !== undefined ? ` (EXPLAIN ~${number.format(s.estimatedRows)})` : '')
          : `not measured: ${s.notMeasured ?? 'unknown'}`;
      lines.push(`${i + 1}. ${s.type}: ${what}`);
    });
  } else if (impact.statements[0]?.notMeasured && !impact.unrunnable) {
    lines.push(impact.statements[0].notMeasured);
  }
  if (impact.note) lines.push(impact.note);
  return lines;
}

export interface WriteCardInput {
  confirmation: Confirmation;
  impact?: ImpactView;
  /** Why the dry run itself failed (a constraint, a syntax error): then there is nothing to approve. */
  dryRunError?: string;
  language: 'sql' | 'json';
  usage?: LlmUsage;
}

/** The write card: the statement, its class, the measured dry run, and Request approval / Edit SQL / Cancel. */
export function writeCardReply(input: WriteCardInput): Reply {
  const { confirmation, impact } = input;
  const verdict = confirmation.verdict;
  const context = [`connection *${confirmation.connectionName}*`, verdict];
  if (impact) context.push(impactSummary(impact));
  if (input.usage)
    context.push(
      `LLM ${ms(input.usage.llmMs)}, ${number.format(input.usage.inputTokens + input.usage.outputTokens)} tokens`,
    );
  const parts: ReplyPart[] = [
    { type: 'text', text: confirmation.explanation || 'Here is the statement:' },
    { type: 'code', code: confirmation.sql, language: input.language },
    { type: 'context', text: context.join(' · ') },
  ];
  for (const line of impact ? impactDetails(impact) : []) parts.push({ type: 'context', text: line });
  const approvable = impact !== undefined && !impact.unrunnable && input.dryRunError === undefined;
  if (input.dryRunError) parts.push({ type: 'text', text: `❌ The dry run failed: ${input.dryRunError}` });
  parts.push({
    type: 'text',
    text: approvable
      ? `⚠️ This ${CLASS_WORDS[verdict]}, so it runs only after an approver approves it.`
      : '⚠️ This cannot be approved as it is; edit it or cancel.',
  });
  const buttons: Button[] = [
    ...(approvable
      ? [
          {
            action: 'approval_request',
            label: 'Request approval',
            style: 'primary' as const,
            value: confirmation.id,
          },
        ]
      : []),
    { action: 'edit', label: 'Edit SQL', value: confirmation.id },
    { action: 'cancel', label: 'Cancel', style: 'danger', value: confirmation.id },
  ];
  parts.push({ type: 'buttons', buttons });
  const summary = impact ? impactSummary(impact) : 'not measured';
  return {
    parts,
    fallback: `Needs approval on ${confirmation.connectionName} (${verdict}, ${summary}): ${confirmation.sql}`,
  };
}

/** Where an approval card stands. */
export type ApprovalCardState =
  | { kind: 'pending'; approvedBy: string[] }
  | { kind: 'running'; approvedBy: string[] }
  | { kind: 'executed'; result: WriteResult }
  | { kind: 'failed'; message: string; drift: boolean }
  | { kind: 'rejected'; by: string; reason: string | null; withdrawn: boolean }
  | { kind: 'expired' }
  | { kind: 'superseded'; by: string };

/** The approval card: who asks, the exact statement, the measured impact, and Approve / Reject / Edit SQL while pending. */
export function approvalCardReply(
  request: ApprovalRequestFields,
  state: ApprovalCardState,
  options: { language: 'sql' | 'json'; mentions?: string[] },
): Reply {
  const impact = request.impact as unknown as ImpactView | null;
  const requester = request.requesterName ?? request.requester.split(':').at(-1) ?? request.requester;
  const needed = request.approvalsRequired;
  const parts: ReplyPart[] = [
    {
      type: 'text',
      text:
        state.kind === 'pending'
          ? `🔐 *Approval needed*: ${requester} asks to run this ${request.verdict} statement on *${request.connectionName}*. It needs ${needed} ${needed === 1 ? 'approval' : 'approvals'} from an approver other than ${requester}.`
          : `🔐 *Change request* by ${requester}: this ${request.verdict} statement on *${request.connectionName}*.`,
    },
    { type: 'code', code: request.statement, language: options.language },
  ];
  if (impact) {
    parts.push({ type: 'context', text: impactSummary(impact) });
    for (const line of impactDetails(impact)) parts.push({ type: 'context', text: line });
  }
  const guard =
    request.expectedRows !== null
      ? `drift guard: not applied if it would change more than ${rows(allowedRows(request.expectedRows, request.driftTolerance))} (${Math.round(request.driftTolerance * 1000) / 10}% over the dry run)`
      : 'drift guard: nothing measured to compare with';
  parts.push({ type: 'context', text: `${guard} · expires ${when(request.expiresAt)}` });
  parts.push({ type: 'context', text: stateLine(request, state) });
  if (state.kind === 'pending') {
    const id = String(request._id);
    parts.push({
      type: 'buttons',
      buttons: [
        { action: 'approve', label: 'Approve', style: 'primary', value: id },
        { action: 'reject', label: 'Reject', style: 'danger', value: id },
        { action: 'approval_edit', label: 'Edit SQL', value: id },
      ],
    });
  }
  const fallback =
    state.kind === 'pending'
      ? `Approval needed: ${requester} asks to run a ${request.verdict} statement on ${request.connectionName}: ${request.statement.slice(0, 200)}`
      : `${stateLine(request, state)} (${request.connectionName}: ${request.statement.slice(0, 200)})`;
  return {
    parts,
    fallback,
    ...(state.kind === 'pending' && options.mentions?.length ? { mentions: options.mentions } : {}),
  };
}

function stateLine(request: ApprovalRequestFields, state: ApprovalCardState): string {
  const needed = request.approvalsRequired;
  switch (state.kind) {
    case 'pending':
      return state.approvedBy.length
        ? `⏳ approved by ${names(state.approvedBy)} (${state.approvedBy.length} of ${needed}); waiting for ${needed - state.approvedBy.length} more`
        : `⏳ waiting for ${needed} ${needed === 1 ? 'approval' : 'approvals'}`;
    case 'running':
      return `✅ approved by ${names(state.approvedBy)} · running…`;
    case 'executed':
      return `✅ executed: ${rows(state.result.affectedRows)} affected in ${ms(state.result.durationMs)} · approved by ${names(request.approvedByNames)}`;
    case 'failed':
      return state.drift
        ? '❌ not applied: the data changed since the dry run; a new request is needed'
        : `❌ not applied: ${state.message}`;
    case 'rejected':
      return state.withdrawn
        ? `🚫 withdrawn by ${state.by}`
        : `🚫 rejected by ${state.by}${state.reason ? `: ${state.reason}` : ''}`;
    case 'expired':
      return '⌛ expired: nobody approved it in time; request a new approval';
    case 'superseded':
      return `✏️ superseded: ${state.by} edited the statement; the new request is below`;
  }
}

/** The thread's answer once an approved statement ran: rows affected, time, who requested and who approved. */
export function executionReply(request: ApprovalRequestFields, result: WriteResult): Reply {
  const requester = request.requesterName ?? request.requester;
  const parts: ReplyPart[] = [
    {
      type: 'text',
      text: `✅ *Executed* on *${request.connectionName}*: ${rows(result.affectedRows)} affected in ${ms(result.durationMs)}.`,
    },
    {
      type: 'context',
      text: `requested by ${requester} · approved by ${names(request.approvedByNames)}${result.atomic ? ' · in one transaction' : ''}`,
    },
  ];
  if (result.statements.length > 1) {
    parts.push({
      type: 'context',
      text: result.statements.map((s, i) => `${i + 1}. ${s.type}: ${rows(s.affectedRows)}`).join(' · '),
    });
  }
  if (result.note) parts.push({ type: 'context', text: result.note });
  return {
    parts,
    fallback: `Executed on ${request.connectionName}: ${rows(result.affectedRows)} affected (requested by ${requester}, approved by ${names(request.approvedByNames)}).`,
  };
}

/** The thread's answer when an approved statement did not apply. */
export function executionFailedReply(request: ApprovalRequestFields, message: string, drift: boolean): Reply {
  const requester = request.requesterName ?? request.requester;
  const headline = drift
    ? `❌ *Not applied* on *${request.connectionName}*: the data changed since the dry run, so nothing was changed. A new request (with a new dry run) is needed.`
    : `❌ *Not applied* on *${request.connectionName}*.`;
  return {
    parts: [
      { type: 'text', text: headline },
      { type: 'text', text: message },
      {
        type: 'context',
        text: `requested by ${requester} · approved by ${names(request.approvedByNames)}`,
      },
    ],
    fallback: `Not applied on ${request.connectionName}: ${message}`,
  };
}

/** The `approvals` answer: the pending requests the user may decide, with links to their threads. */
export function pendingListReply(
  items: { request: ApprovalRequestFields; approvals: number; link?: string }[],
  approver: boolean,
): Reply {
  if (!approver) {
    const text = 'You are not an approver here, so there is nothing for you to decide.';
    return { parts: [{ type: 'text', text }], fallback: text };
  }
  if (items.length === 0) {
    const text = 'No pending approvals for you: nothing is waiting on your decision.';
    return { parts: [{ type: 'text', text }], fallback: text };
  }
  const lines = items.map(({ request, approvals, link }) => {
    const first = request.statement.replace(/\s+/g, ' ').trim();
    const statement = first.length > 80 ? `${first.slice(0, 79)}…` : first;
    const impact = request.expectedRows !== null ? rows(request.expectedRows) : 'not measured';
    const where = link ?? 'in its thread';
    return `• ${request.verdict} on *${request.connectionName}* by ${request.requesterName ?? request.requester}: \`${statement}\` (${impact}; ${approvals} of ${request.approvalsRequired} approvals; expires ${when(request.expiresAt)}) ${where}`;
  });
  const text = `*Pending approvals you can decide* (${items.length}):\n${lines.join('\n')}`;
  return { parts: [{ type: 'text', text }], fallback: text };
}
