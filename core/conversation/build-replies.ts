/** The engine's replies, as neutral Reply values that each adapter renders natively. */
import type { QueryResult } from '../db/database-dialect.ts';
import { maskingNote } from '../governance/mask-result.ts';
import type { Verdict } from '../safety/verdict.ts';
import type { Button, FileAttachment, Reply, ReplyPart } from './chat-platform.ts';
import type { Confirmation } from './confirmation-store.ts';
import type { IntentChoice } from './intent-choice-store.ts';
import type { LlmUsage } from './engine-ports.ts';

const number = new Intl.NumberFormat('en-US');

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

/** "Reading schema…" and friends: the message that later becomes the confirm card. */
export function progressReply(step: string): Reply {
  return { parts: [{ type: 'context', text: `⏳ ${step}` }], fallback: step };
}

export interface ConfirmCardInput {
  confirmation: Confirmation;
  estimatedRows?: number;
  usage?: LlmUsage;
}

/** The confirm card: explanation, the exact SQL, connection and impact, and Run / Edit SQL / Cancel. */
export function confirmCardReply({ confirmation, estimatedRows, usage }: ConfirmCardInput): Reply {
  const impact = [`connection *${confirmation.connectionName}*`, confirmation.verdict];
  if (estimatedRows !== undefined) impact.push(`EXPLAIN estimates ~${number.format(estimatedRows)} rows`);
  if (usage)
    impact.push(`LLM ${ms(usage.llmMs)}, ${number.format(usage.inputTokens + usage.outputTokens)} tokens`);
  // A template run shows the template's own text (placeholders, not $1) and no Edit: edits belong to the template.
  const template = confirmation.template;
  const buttons: Button[] = [{ action: 'run', label: 'Run', style: 'primary', value: confirmation.id }];
  if (!template) buttons.push({ action: 'edit', label: 'Edit SQL', value: confirmation.id });
  buttons.push({ action: 'cancel', label: 'Cancel', style: 'danger', value: confirmation.id });
  return {
    parts: [
      { type: 'text', text: confirmation.explanation || 'Here is the query I would run:' },
      { type: 'code', code: template?.sql ?? confirmation.sql, language: 'sql' },
      { type: 'context', text: impact.join(' · ') },
      { type: 'buttons', buttons },
    ],
    fallback: `Run this query on ${confirmation.connectionName}? ${template?.name ?? confirmation.sql}`,
  };
}

/** A statement that is not a read: shown with its classification; never runnable from a confirm card. */
export function needsApprovalReply(sql: string, verdict: Verdict, connectionName: string): Reply {
  const reasons = verdict.reasons.length ? verdict.reasons : verdict.statements.flatMap((s) => s.reasons);
  return {
    parts: [
      {
        type: 'text',
        text:
          `⚠️ This is classified as *${verdict.verdict}*, so I will not run it from here. ` +
          'Writes, schema changes and other statements need an approval from a configured approver, ' +
          'and the approval flow is not enabled on this workspace yet.',
      },
      { type: 'code', code: sql, language: 'sql' },
      { type: 'context', text: [`connection *${connectionName}*`, ...reasons].join(' · ') },
    ],
    fallback: `Not run: the statement is classified as ${verdict.verdict} and needs approval.`,
  };
}

/** The card after a click: the SQL stays visible, the buttons go, a line says what happened. */
export function settledCardReply(confirmation: Confirmation, outcome: string): Reply {
  return {
    parts: [
      { type: 'text', text: confirmation.explanation || 'Query' },
      { type: 'code', code: confirmation.template?.sql ?? confirmation.sql, language: 'sql' },
      { type: 'context', text: outcome },
    ],
    fallback: outcome,
  };
}

export interface ResultReplyInput {
  confirmation: Confirmation;
  result: QueryResult;
  previewRows: number;
  csv?: FileAttachment;
  usage?: LlmUsage;
  turn: number;
}

/** Results: the table preview and CSV, a provenance footer and feedback buttons (the chart follows on its own). */
export function resultReply(input: ResultReplyInput): Reply {
  const { confirmation, result } = input;
  const rows = result.truncated
    ? `${number.format(result.rowCount)}+ rows (capped)`
    : `${number.format(result.rowCount)} row${result.rowCount === 1 ? '' : 's'}`;
  const footer = [`${confirmation.connectionName}`, rows, `query ${ms(result.durationMs)}`];
  if (input.usage) {
    footer.push(
      `LLM ${ms(input.usage.llmMs)}`,
      `${number.format(input.usage.inputTokens + input.usage.outputTokens)} tokens`,
    );
  }
  const parts: ReplyPart[] = [];
  if (result.columns.length === 0 && result.masking) {
    parts.push({ type: 'text', text: 'Every column of this result is hidden by policy.' });
  } else if (result.columns.length === 0) {
    parts.push({ type: 'text', text: 'The query ran and returned no columns.' });
  } else if (result.rowCount === 0) {
    parts.push({ type: 'text', text: 'No rows matched.' });
  } else {
    parts.push({ type: 'table', result, previewRows: input.previewRows, title: confirmation.question });
  }
  if (input.csv) parts.push({ type: 'file', file: input.csv });
  parts.push({ type: 'context', text: footer.join(' · ') });
  const masked = result.masking && maskingNote(result.masking.columns);
  if (masked) parts.push({ type: 'context', text: masked });
  parts.push({
    type: 'buttons',
    buttons: [
      { action: 'feedback_up', label: '👍', value: `${confirmation.sessionId}:${input.turn}` },
      { action: 'feedback_down', label: '👎', value: `${confirmation.sessionId}:${input.turn}` },
    ],
  });
  return { parts, fallback: `${rows} from ${confirmation.connectionName}` };
}

/** The chart of a result, posted after the table. */
export function chartReply(image: FileAttachment, question: string): Reply {
  const alt = question.trim() ? `Chart: ${question}` : 'Chart of the result';
  return { parts: [{ type: 'image', image, alt }], fallback: alt };
}

/** A failure as the user sees it; the message comes from toUserMessage. */
export function errorReply(message: string): Reply {
  return { parts: [{ type: 'text', text: `❌ ${message}` }], fallback: message };
}

/** Plain text. */
export function textReply(text: string): Reply {
  return { parts: [{ type: 'text', text }], fallback: text };
}

/** A message that could be SQL or a question: it is shown as SQL with the reason, and the asker picks. */
export function intentChoiceReply(choice: IntentChoice): Reply {
  return {
    parts: [
      { type: 'text', text: `Did you mean this as SQL to run, or as a question for me? (${choice.reason})` },
      { type: 'code', code: choice.text, language: 'sql' },
      {
        type: 'buttons',
        buttons: [
          { action: 'intent_sql', label: 'Run as SQL', style: 'primary', value: choice.id },
          { action: 'intent_question', label: 'Ask as a question', value: choice.id },
        ],
      },
    ],
    fallback: `Run as SQL, or ask as a question? ${choice.text}`,
  };
}

/** The choice card once picked: the message stays, the buttons go. */
export function settledChoiceReply(choice: IntentChoice, outcome: string): Reply {
  return {
    parts: [
      { type: 'code', code: choice.text, language: 'sql' },
      { type: 'context', text: outcome },
    ],
    fallback: outcome,
  };
}
