import { z } from 'zod';
import {
  describeMongoQueryShapes,
  describeMongoShapeIssue,
  formatMongoQuery,
  mongoToolQueryFields,
  readMongoToolQuery,
} from '../safety/mongo-query.ts';
import type { LlmTool } from './llm-client.ts';

/**
 * The two tools the model answers with: `run_query` (a query, a one-line explanation, a chart suggestion) and
 * `ask_clarifying_question`. One zod schema per tool is both the JSON Schema sent to the API and the validator
 * of what comes back, so the two cannot drift apart.
 */

export const RUN_QUERY_TOOL = 'run_query';
export const CLARIFY_TOOL = 'ask_clarifying_question';
export const PROPOSE_MIGRATION_TOOL = 'propose_migration';

export const CHART_TYPES = ['line', 'bar', 'area', 'scatter', 'pie', 'big_number', 'table'] as const;

const chartSchema = z.object({
  type: z
    .enum(CHART_TYPES)
    .describe('line for time × measure, bar for category × measure, big_number for one value'),
  x: z.string().min(1).optional().describe('result column for the x axis (time or category)'),
  y: z.string().min(1).optional().describe('result column holding the measure'),
  series: z.string().min(1).optional().describe('result column that splits the data into series, if any'),
  title: z.string().min(1).max(120).optional(),
});

export type ChartSuggestion = z.infer<typeof chartSchema>;

const common = {
  explanation: z
    .string()
    .min(1)
    .max(400)
    .describe('one short sentence, for the person who asked, saying what the query returns'),
  title: z
    .string()
    .min(1)
    .max(80)
    .optional()
    .describe('a short title for this question, e.g. "Weekly signups by country"'),
};

const sqlInput = z.object({
  sql: z.string().min(1).describe('exactly one read-only SQL statement (no trailing semicolon needed)'),
  ...common,
  chart: chartSchema.optional(),
});

// The query fields come from the MongoDB dialect's own shape definition (core/safety/mongo-query.ts).
// Strict, so a stray key (a command name at the top level, a write option) is named back to the model.
const mongoInput = z
  .object({
    ...mongoToolQueryFields,
    ...common,
    chart: chartSchema.optional(),
  })
  .strict();

const clarifyInput = z.object({
  question: z.string().min(1).max(500).describe('one question that resolves the ambiguity'),
  options: z
    .array(z.string().min(1).max(80))
    .max(5)
    .optional()
    .describe('up to 5 likely answers, if there are obvious ones'),
});

const migrationInput = z.object({
  description: z
    .string()
    .min(1)
    .max(300)
    .describe('one sentence saying what the migration changes, e.g. "Add an index on orders(customer_id)"'),
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_]{0,47}$/)
    .optional()
    .describe('a short snake_case name for the version, e.g. add_orders_customer_index'),
  up: z.string().min(1).describe('the up script: the DDL that makes the change (one or more statements)'),
  down: z
    .string()
    .min(1)
    .describe('the down script: DDL that exactly undoes the up script, restoring the schema as it was'),
});

export type SqlToolInput = z.infer<typeof sqlInput>;
export type MigrationToolInput = z.infer<typeof migrationInput>;
export type MongoToolInput = z.infer<typeof mongoInput>;
export type ClarifyToolInput = z.infer<typeof clarifyInput>;

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return rest;
}

/** A run_query call read into the query text the dialect receives, or what is wrong with it for the model. */
export type RunQueryReading =
  | {
      ok: true;
      query: string;
      explanation: string;
      title?: string;
      chart?: ChartSuggestion;
    }
  | { ok: false; problem: string };

export interface ToolSet {
  tools: LlmTool[];
  /** Validates a run_query input and turns it into the dialect's query text (SQL, or canonical MongoDB JSON). */
  readRunQuery(input: unknown): RunQueryReading;
  clarify: z.ZodType<ClarifyToolInput>;
  /** Present for SQL dialects: a schema change proposed as a migration (up and down scripts). */
  migration?: z.ZodType<MigrationToolInput>;
}

/** Zod issues as one line for Claude: `path: message; …`. */
export function issuesText(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues.map((i) => `${i.path.map(String).join('.') || 'input'}: ${i.message}`).join('; ');
}

function readSql(schema: z.ZodType<Omit<SqlToolInput, 'chart'> & { chart?: ChartSuggestion }>) {
  return (input: unknown): RunQueryReading => {
    const parsed = schema.safeParse(input);
    if (!parsed.success) return { ok: false, problem: `Invalid input: ${issuesText(parsed.error.issues)}` };
    const { sql, explanation, title, chart } = parsed.data;
    return {
      ok: true,
      query: sql.trim(),
      explanation,
      ...(title ? { title } : {}),
      ...(chart ? { chart } : {}),
    };
  };
}

function readMongo(schema: z.ZodType<Omit<MongoToolInput, 'chart'> & { chart?: ChartSuggestion }>) {
  return (input: unknown): RunQueryReading => {
    const parsed = schema.safeParse(input);
    if (!parsed.success) {
      const problems = parsed.error.issues.map(describeMongoShapeIssue).join('; ');
      return { ok: false, problem: `Invalid input: ${problems}. ${describeMongoQueryShapes()}` };
    }
    const { explanation, title, chart, ...query } = parsed.data;
    try {
      const text = formatMongoQuery(readMongoToolQuery(query));
      return { ok: true, query: text, explanation, ...(title ? { title } : {}), ...(chart ? { chart } : {}) };
    } catch (error) {
      return { ok: false, problem: (error as Error).message };
    }
  };
}

/** Tool sets built so far, by language, dialect and chart choice: a few per process, and immutable. */
const toolSets = new Map<string, ToolSet>();

/**
 * The tool definitions for one dialect's query language; `chart` is left out when charts are not wanted. Built once
 * per combination: turning the zod schemas into JSON Schema took ~2.5 ms of the event loop on every question.
 */
export function buildTools(
  queryLanguage: 'sql' | 'mongo',
  dialectName: string,
  chartHintAllowed: boolean,
): ToolSet {
  const key = `${queryLanguage}\0${dialectName}\0${String(chartHintAllowed)}`;
  let built = toolSets.get(key);
  if (!built) toolSets.set(key, (built = createTools(queryLanguage, dialectName, chartHintAllowed)));
  return built;
}

function createTools(
  queryLanguage: 'sql' | 'mongo',
  dialectName: string,
  chartHintAllowed: boolean,
): ToolSet {
  const sql = chartHintAllowed ? sqlInput : sqlInput.omit({ chart: true });
  const mongo = chartHintAllowed ? mongoInput : mongoInput.omit({ chart: true });
  const runQuery: z.ZodType = queryLanguage === 'sql' ? sql : mongo;
  const what =
    queryLanguage === 'sql'
      ? `one read-only ${dialectName} SQL query`
      : 'one read-only MongoDB query: a collection and an operation (find, aggregate, count or distinct) with ' +
        'that operation’s fields, or the same read as a database command in `command`';
  const migrationTool = {
    name: PROPOSE_MIGRATION_TOOL,
    description:
      `Propose a ${dialectName} schema migration when the user asks to change the schema (add or drop an index, a ` +
      'column, a constraint or a table; make a column unique), instead of a query. threadql verifies it (up, down, ' +
      'up again), shows it with an ER diagram and applies it only after an approver approves.',
    inputSchema: jsonSchemaOf(migrationInput),
  };
  return {
    readRunQuery: queryLanguage === 'sql' ? readSql(sql) : readMongo(mongo),
    clarify: clarifyInput,
    ...(queryLanguage === 'sql' ? { migration: migrationInput } : {}),
    tools: [
      {
        name: RUN_QUERY_TOOL,
        description:
          `Propose ${what} that answers the user's question. The user sees it on a confirm card and runs it; ` +
          'if it fails to parse, classify or execute you get the error back and can correct it.' +
          (chartHintAllowed ? ' Suggest a chart when the result shape suits one.' : ''),
        inputSchema: jsonSchemaOf(runQuery),
      },
      {
        name: CLARIFY_TOOL,
        description:
          'Ask the user one clarifying question instead of guessing, when the question is ambiguous in a way the ' +
          'schema cannot settle (which metric, which table, which time range).',
        inputSchema: jsonSchemaOf(clarifyInput),
      },
      ...(queryLanguage === 'sql' ? [migrationTool] : []),
    ],
  };
}
