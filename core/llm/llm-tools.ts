import { z } from 'zod';
import type { LlmTool } from './llm-client.ts';

/**
 * The two tools the model answers with: `run_query` (a query, a one-line explanation, a chart suggestion) and
 * `ask_clarifying_question`. One zod schema per tool is both the JSON Schema sent to the API and the validator
 * of what comes back, so the two cannot drift apart.
 */

export const RUN_QUERY_TOOL = 'run_query';
export const CLARIFY_TOOL = 'ask_clarifying_question';

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

const jsonObject = z.record(z.string(), z.unknown());
const mongoInput = z.object({
  collection: z.string().min(1).describe('the collection to query'),
  pipeline: z
    .array(jsonObject)
    .optional()
    .describe('an aggregation pipeline; use this OR filter/projection/sort/limit'),
  filter: jsonObject.optional().describe('a find filter'),
  projection: jsonObject.optional(),
  sort: jsonObject.optional(),
  limit: z.number().int().min(1).max(1_000_000).optional(),
  ...common,
  chart: chartSchema.optional(),
});

const clarifyInput = z.object({
  question: z.string().min(1).max(500).describe('one question that resolves the ambiguity'),
  options: z
    .array(z.string().min(1).max(80))
    .max(5)
    .optional()
    .describe('up to 5 likely answers, if there are obvious ones'),
});

export type SqlToolInput = z.infer<typeof sqlInput>;
export type MongoToolInput = z.infer<typeof mongoInput>;
export type ClarifyToolInput = z.infer<typeof clarifyInput>;

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return rest;
}

export interface ToolSet {
  tools: LlmTool[];
  runQuery: z.ZodType<SqlToolInput> | z.ZodType<MongoToolInput>;
  clarify: z.ZodType<ClarifyToolInput>;
}

/** The tool definitions for one dialect's query language; `chart` is left out when charts are not wanted. */
export function buildTools(
  queryLanguage: 'sql' | 'mongo',
  dialectName: string,
  chartHintAllowed: boolean,
): ToolSet {
  const runQuery: z.ZodType =
    queryLanguage === 'sql'
      ? chartHintAllowed
        ? sqlInput
        : sqlInput.omit({ chart: true })
      : chartHintAllowed
        ? mongoInput
        : mongoInput.omit({ chart: true });
  const what =
    queryLanguage === 'sql' ? `one read-only ${dialectName} SQL query` : `one read-only MongoDB query`;
  return {
    runQuery: runQuery as ToolSet['runQuery'],
    clarify: clarifyInput,
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
    ],
  };
}

/** The JSON text the MongoDB dialect receives: `{collection, pipeline}` or `{collection, filter, projection, sort, limit}`. */
export function mongoQueryText(input: MongoToolInput): string {
  const query: Record<string, unknown> = { collection: input.collection };
  if (input.pipeline) query.pipeline = input.pipeline;
  else {
    query.filter = input.filter ?? {};
    if (input.projection) query.projection = input.projection;
    if (input.sort) query.sort = input.sort;
    if (input.limit !== undefined) query.limit = input.limit;
  }
  return JSON.stringify(query);
}
