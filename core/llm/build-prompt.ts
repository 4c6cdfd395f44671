import type { DialectCapabilities } from '../db/database-dialect.ts';
import type { LlmMessage, LlmTextBlock } from './llm-client.ts';
import { CLARIFY_TOOL, PROPOSE_MIGRATION_TOOL, RUN_QUERY_TOOL } from './llm-tools.ts';
import { describeMongoOperations } from '../safety/mongo-query.ts';
import type { SchemaContext } from './select-schema-context.ts';

/** One earlier turn of the thread, oldest first (the engine's SessionTurn fits this shape). */
export interface HistoryTurn {
  question: string;
  /** The query that turn produced (SQL, or MongoDB JSON text), if any. */
  sql?: string;
  /** What came of it in words: "ran, 1,284 rows", the clarifying question asked, … */
  summary?: string;
  /** The turn's history status (success, error, cancelled, clarification, …), used when there is no summary. */
  status?: string;
  resultCount?: number;
}

/** A question with a query a person reviewed and saved for this connection. */
export interface ReviewedExample {
  question: string;
  sql: string;
}

export interface PromptInput {
  question: string;
  dialect: Pick<DialectCapabilities, 'displayName' | 'queryLanguage' | 'identifierQuote'>;
  schemaContext: SchemaContext;
  history: readonly HistoryTurn[];
  examples: readonly ReviewedExample[];
  chartHintAllowed: boolean;
  connectionName?: string;
  /** Rows a listing should be limited to unless the user asks otherwise. */
  defaultLimit: number;
  today: Date;
}

export interface Prompt {
  /** Rules, reviewed examples, then the schema block; the schema block carries the cache breakpoint. */
  system: LlmTextBlock[];
  messages: LlmMessage[];
}

function sqlRules(input: PromptInput): string {
  const { displayName, identifierQuote } = input.dialect;
  const q = identifierQuote || '"';
  return [
    `You are threadql, a careful data analyst. You turn questions asked in a chat thread into one ${displayName} query.`,
    `Answer only by calling exactly one tool: ${RUN_QUERY_TOOL} with the query, ${PROPOSE_MIGRATION_TOOL} when the user asks to change the schema, or ${CLARIFY_TOOL} when you must ask. Never answer in plain text.`,
    '',
    `Schema changes (add or drop an index, a column, a constraint or a table; make a column unique) are migrations: call ${PROPOSE_MIGRATION_TOOL} with a one-sentence description, the up script, and the down script that exactly undoes it (after down the schema must be as before up). Use plain ${displayName} DDL without transaction control; name new indexes and constraints explicitly.`,
    '',
    'Rules for the query:',
    '- Read-only by default: a single SELECT (WITH … SELECT is fine). Write INSERT/UPDATE/DELETE or DDL only when the user explicitly asks to change data or the schema; such statements go to a human approver and a dry run, they never run directly.',
    '- One statement only; no transaction control, SET, or session commands.',
    `- Use ${displayName} syntax, functions and date handling exactly.`,
    `- Use table and column names exactly as in the schema. Quote an identifier with ${q}…${q} only when it needs it (mixed case, reserved word, special characters)${input.schemaContext.qualifiedNames ? '; use the schema-qualified table names shown' : ''}.`,
    `- Row listings get LIMIT ${input.defaultLimit} unless the user asks for all rows or a number; aggregates need no LIMIT. Order listings and time series meaningfully.`,
    "- Relative periods ('this quarter', 'last 7 days') are computed from the database's current date/time functions, not from a literal date. Bucket time (day, week, month) with the dialect's own functions and return the bucket as a date or timestamp column.",
    '- Select only the columns the answer needs, with short readable snake_case aliases (they become table headers and chart axes).',
    '- Join along the foreign keys shown (FK→table.column). Prefer explicit JOIN … ON.',
    '- Never select secrets (password hashes, tokens, API keys) unless explicitly asked.',
  ].join('\n');
}

function mongoRules(input: PromptInput): string {
  return [
    `You are threadql, a careful data analyst. You turn questions asked in a chat thread into one read-only ${input.dialect.displayName} query.`,
    `Answer only by calling exactly one tool: ${RUN_QUERY_TOOL} with the query, or ${CLARIFY_TOOL} when you must ask. Never answer in plain text.`,
    '',
    'Rules for the query:',
    `- Give the collection and the operation with its fields (${describeMongoOperations()}), or the same read as a database command in \`command\`.`,
    '- Read-only: never $out or $merge, no server-side JavaScript ($where, $function, $accumulator).',
    '- Prefer simple stages ($match, $group, $sort, $project, $addFields, $unwind, $count, $limit); avoid $lookup unless the question cannot be answered without it.',
    `- Listings end with a $limit of ${input.defaultLimit} (or limit: ${input.defaultLimit} in a find) unless the user asks otherwise.`,
    '- Write dates as {"$date": "2024-01-31T00:00:00Z"}; relative periods may use "$$NOW" in expressions.',
    '- Field names exactly as in the schema (inferred from sampled documents; types are best guesses).',
    '- Name output fields with short readable snake_case names (they become table headers and chart axes).',
  ].join('\n');
}

/** True when some column in the context is masked by policy. */
function hasMasked(ctx: SchemaContext): boolean {
  return ctx.tables.some((t) => t.columns.some((c) => c.masked));
}

function commonRules(input: PromptInput): string {
  const lines = [
    '',
    'How to work:',
    "- Earlier turns of this thread are context: a follow-up such as 'only Germany, and monthly' refines the previous query.",
    `- Ask with ${CLARIFY_TOOL} only when a sensible analyst could not pick a reasonable reading; otherwise make the reasonable choice and say so in the explanation.`,
    `- If the question needs a table or field that is not in the schema shown, ask with ${CLARIFY_TOOL} rather than inventing names.`,
    `- When a ${RUN_QUERY_TOOL} result reports an error, read it, fix the query and call ${RUN_QUERY_TOOL} again.`,
    '- The explanation is one short plain sentence for the person who asked (no SQL in it).',
  ];
  if (hasMasked(input.schemaContext)) {
    lines.push(
      '- Columns marked MASKED are masked by policy: their values are never shown to anyone (nor to you). Filter, join, group and count on them freely, but do not select them for display unless the user asks for that column; never try to reveal them through other expressions.',
    );
  }
  if (input.chartHintAllowed) {
    lines.push(
      '- Suggest a chart that suits the result: line for time × measure, bar for category × measure, big_number for a single value, table when nothing fits. x, y and series name result columns by their aliases.',
    );
  }
  return lines.join('\n');
}

function examplesBlock(examples: readonly ReviewedExample[], language: 'sql' | 'mongo'): string {
  const label = language === 'sql' ? 'SQL' : 'Query';
  const body = examples.map((e) => `Question: ${e.question.trim()}\n${label}:\n${e.sql.trim()}`).join('\n\n');
  return `Reviewed examples for this connection (questions with queries a person checked; follow their conventions):\n<examples>\n${body}\n</examples>`;
}

function schemaBlock(input: PromptInput): string {
  const ctx = input.schemaContext;
  const where = input.connectionName ? ` of connection "${input.connectionName}"` : '';
  const kind = input.dialect.queryLanguage === 'sql' ? 'tables' : 'collections';
  const scope = ctx.complete
    ? `all ${ctx.totalTables} ${kind}`
    : `the ${ctx.tables.length} ${kind} most relevant to the question, of ${ctx.totalTables}; ${ctx.omittedTables} more exist but are not shown`;
  return [
    `Database schema${where} (${input.dialect.displayName}): ${scope}.`,
    'Format: name(column type [PK] [FK→table.column] [MASKED] ["comment"], …) [~row estimate] [-- comment]',
    '<schema>',
    ctx.text,
    '</schema>',
  ].join('\n');
}

function historyMessages(history: readonly HistoryTurn[], language: 'sql' | 'mongo'): LlmMessage[] {
  const fence = language === 'sql' ? 'sql' : 'json';
  const out: LlmMessage[] = [];
  for (const turn of history) {
    out.push({ role: 'user', content: turn.question });
    const parts: string[] = [];
    if (turn.sql) parts.push(`\`\`\`${fence}\n${turn.sql.trim()}\n\`\`\``);
    if (turn.summary) parts.push(turn.summary);
    else if (turn.status) {
      const rows = turn.resultCount === undefined ? '' : `, ${turn.resultCount} rows`;
      parts.push(`(status: ${turn.status}${rows})`);
    }
    out.push({ role: 'assistant', content: parts.length ? parts.join('\n') : '(no query for this turn)' });
  }
  return out;
}

/** Builds the system blocks and messages for one question; the schema block is marked for prompt caching. */
export function buildPrompt(input: PromptInput): Prompt {
  const language = input.dialect.queryLanguage;
  const rules = (language === 'sql' ? sqlRules(input) : mongoRules(input)) + '\n' + commonRules(input);
  const system: LlmTextBlock[] = [{ type: 'text', text: rules }];
  if (input.examples.length) system.push({ type: 'text', text: examplesBlock(input.examples, language) });
  system.push({ type: 'text', text: schemaBlock(input), cacheControl: { type: 'ephemeral' } });

  // The date goes in the last user message, not the system prompt, so the cached prefix stays stable across days.
  const day = input.today.toISOString().slice(0, 10);
  const messages: LlmMessage[] = [
    ...historyMessages(input.history, language),
    { role: 'user', content: `${input.question.trim()}\n\n(Today is ${day}.)` },
  ];
  return { system, messages };
}
