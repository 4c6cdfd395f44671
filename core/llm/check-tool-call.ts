/**
 * Checks the tool call Claude answered with, for the generator's repair loop: the input's shape (zod), and for a
 * query or a migration script the caller's validator; a problem comes back with the feedback Claude gets next.
 */
import type { LlmToolUseBlock } from './llm-client.ts';
import {
  CLARIFY_TOOL,
  issuesText,
  PROPOSE_MIGRATION_TOOL,
  RUN_QUERY_TOOL,
  type ToolSet,
} from './llm-tools.ts';
import type { CandidateValidator, ClarifyAnswer, MigrationAnswer, QueryAnswer } from './sql-generator.ts';

/** How much of a validator's error goes back to Claude. */
export const ERROR_FEEDBACK_MAX = 2_000;

/** The text cut to `max` characters, saying so. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (truncated)` : text;
}

/** An answer before the generator adds its attempts, usage and schema tables. */
type Answer<A> = Omit<A, 'attempts' | 'usage' | 'schemaTables'>;

/** `ok` with the answer, or `retry` with what went wrong (`message`, logged) and what Claude is told (`feedback`). */
export type ToolCallCheck<A> =
  { kind: 'ok'; answer: A } | { kind: 'retry'; message: string; feedback: string; query?: string };

/** A tool input of the wrong shape: its zod issues, for the log and for Claude. */
function invalidInput(tool: string, issues: Parameters<typeof issuesText>[0]): ToolCallCheck<never> {
  const why = issuesText(issues);
  return { kind: 'retry', message: `invalid ${tool} input (${why})`, feedback: `Invalid input: ${why}` };
}

/** A propose_migration call: both scripts must parse (the validator's verdict); their errors go back to Claude. */
async function checkMigration(
  use: LlmToolUseBlock,
  schema: NonNullable<ToolSet['migration']>,
  language: 'sql' | 'mongo',
  attempt: number,
  validate: CandidateValidator,
): Promise<ToolCallCheck<Answer<MigrationAnswer>>> {
  const parsed = schema.safeParse(use.input);
  if (!parsed.success) return invalidInput(PROPOSE_MIGRATION_TOOL, parsed.error.issues);
  const { description, name, up, down } = parsed.data;
  for (const [label, script] of [
    ['up', up],
    ['down', down],
  ] as const) {
    const error = await validate(script.trim(), { language, attempt });
    if (error !== undefined) {
      const text = clip(error, ERROR_FEEDBACK_MAX);
      return {
        kind: 'retry',
        message: `${label} script: ${text}`,
        query: script,
        feedback: `The ${label} script failed: ${text}\nFix it and call ${PROPOSE_MIGRATION_TOOL} again.`,
      };
    }
  }
  return {
    kind: 'ok',
    answer: { kind: 'migration', description, ...(name ? { name } : {}), up: up.trim(), down: down.trim() },
  };
}

/**
 * Reads the tool call Claude chose: a clarifying question, a migration, or a query that must pass the validator
 * (parse, classify, dry compile); what is wrong goes back to Claude as the tool result (`retry`).
 */
export async function checkToolCall(
  use: LlmToolUseBlock,
  toolSet: ToolSet,
  language: 'sql' | 'mongo',
  attempt: number,
  validate: CandidateValidator,
): Promise<ToolCallCheck<Answer<QueryAnswer> | Answer<ClarifyAnswer> | Answer<MigrationAnswer>>> {
  if (use.name === PROPOSE_MIGRATION_TOOL && toolSet.migration) {
    return checkMigration(use, toolSet.migration, language, attempt, validate);
  }
  if (use.name === CLARIFY_TOOL) {
    const parsed = toolSet.clarify.safeParse(use.input);
    if (!parsed.success) return invalidInput(CLARIFY_TOOL, parsed.error.issues);
    const { question, options } = parsed.data;
    return { kind: 'ok', answer: { kind: 'clarify', question, ...(options?.length ? { options } : {}) } };
  }

  const input = toolSet.readRunQuery(use.input);
  if (!input.ok) {
    return {
      kind: 'retry',
      message: `invalid ${RUN_QUERY_TOOL} input (${clip(input.problem, 300)})`,
      feedback: `${clip(input.problem, ERROR_FEEDBACK_MAX)}\nFix the input and call ${RUN_QUERY_TOOL} again.`,
    };
  }
  const query = input.query;
  const error = await validate(query, { language, attempt });
  if (error !== undefined) {
    const text = clip(error, ERROR_FEEDBACK_MAX);
    return {
      kind: 'retry',
      message: text,
      query,
      feedback: `The query failed: ${text}\nFix the query and call ${RUN_QUERY_TOOL} again.`,
    };
  }
  return {
    kind: 'ok',
    answer: {
      kind: 'query',
      query,
      language,
      explanation: input.explanation,
      ...(input.title ? { title: input.title } : {}),
      ...(input.chart ? { chart: input.chart } : {}),
    },
  };
}
