import type { DialectCapabilities, SchemaSnapshot } from '../db/database-dialect.ts';
import { InterruptedError, LlmError } from '../errors.ts';
import { clipText, type Logger } from '../logger.ts';
import { buildPrompt, type HistoryTurn, type ReviewedExample } from './build-prompt.ts';
import { addResponseUsage, emptyUsage, type GenerationUsage } from './generation-usage.ts';
import type { LlmClient, LlmContentBlock, LlmMessage, LlmToolUseBlock } from './llm-client.ts';
import {
  buildTools,
  CLARIFY_TOOL,
  PROPOSE_MIGRATION_TOOL,
  RUN_QUERY_TOOL,
  type ChartSuggestion,
} from './llm-tools.ts';
import { checkToolCall, clip, ERROR_FEEDBACK_MAX } from './check-tool-call.ts';
import { selectSchemaContext, type SchemaContextOptions } from './select-schema-context.ts';

/**
 * One question to answer. Shaped so the conversation engine's own request (question, schema, dialectName,
 * queryLanguage, history of session turns) is accepted as is; the optional fields add context when known.
 */
export interface GenerationRequest {
  question: string;
  schema: Pick<SchemaSnapshot, 'tables' | 'relationships'>;
  /** DialectCapabilities.displayName, e.g. "PostgreSQL 16". */
  dialectName: string;
  queryLanguage: DialectCapabilities['queryLanguage'];
  /** DialectCapabilities.identifierQuote; `"` when not given. */
  identifierQuote?: DialectCapabilities['identifierQuote'];
  /** The thread's earlier turns, oldest first; only the newest few are sent. */
  history?: readonly HistoryTurn[];
  /** Reviewed question/query pairs saved for this connection. */
  examples?: readonly ReviewedExample[];
  /** Ask for a chart suggestion (default true). */
  chartHintAllowed?: boolean;
  connectionName?: string;
  signal?: AbortSignal;
  /** Logs for this request (the turn's logger); default the generator's. */
  logger?: Pick<Logger, 'warn'>;
}

/**
 * The caller's check of a candidate (parse, classify, execute or EXPLAIN): undefined when it is fine, else the
 * error text, which goes back to the model. Throwing aborts the generation with that error.
 */
export type CandidateValidator = (
  query: string,
  context: { language: 'sql' | 'mongo'; attempt: number },
) => Promise<string | undefined>;

export interface QueryAnswer {
  kind: 'query';
  /** SQL text, or for MongoDB the canonical JSON text of the query shape (core/safety/mongo-query.ts). */
  query: string;
  language: 'sql' | 'mongo';
  explanation: string;
  chart?: ChartSuggestion;
  title?: string;
  /** Model answers it took (1 = first try). */
  attempts: number;
  usage: GenerationUsage;
  /** The tables the model was shown (all of them for small schemas). */
  schemaTables: string[];
}

export interface ClarifyAnswer {
  kind: 'clarify';
  question: string;
  options?: string[];
  attempts: number;
  usage: GenerationUsage;
  schemaTables: string[];
}

/** A schema change Claude proposed as a migration (SQL dialects only). */
export interface MigrationAnswer {
  kind: 'migration';
  description: string;
  name?: string;
  up: string;
  down: string;
  attempts: number;
  usage: GenerationUsage;
  schemaTables: string[];
}

export type GenerationResult = QueryAnswer | ClarifyAnswer | MigrationAnswer;

export interface SqlGeneratorOptions {
  /** Model answers per question, repairs included. Default 3. */
  maxAttempts?: number;
  maxTokens?: number;
  /** LIMIT the prompt asks for on listings. Default 100. */
  defaultLimit?: number;
  /** Newest earlier turns sent as context. Default 10. */
  maxHistoryTurns?: number;
  schemaContext?: Pick<SchemaContextOptions, 'maxChars' | 'maxTables'>;
  /**
   * Force a tool call (`tool_choice: any`). Off by default: models with thinking on (Claude Sonnet 5.5, the
   * default) reject forced tool use with a 400, so the prompt steers instead and a text-only answer is repaired.
   */
  forceToolUse?: boolean;
  clock?: () => Date;
  /**
   * One overall budget per question, across the SDK's retries and the repair rounds (`llm.turnBudgetMs`, default
   * 90 s; 0 turns it off): when it runs out the call in flight is aborted and the user is told.
   */
  turnBudgetMs?: number;
  /** Makes the budget's signal; default AbortSignal.timeout. Tests pass one they abort themselves. */
  budgetSignal?: (ms: number) => AbortSignal;
  /** Aborted when threadql shuts down: the call in flight is cancelled rather than waited for. */
  signal?: AbortSignal;
  /** Where answers Claude got wrong (no tool call, malformed tool input) are logged with a short excerpt. */
  logger?: Pick<Logger, 'warn'>;
}

/** How much of a malformed answer the log shows. */
const LOG_EXCERPT_CHARS = 300;

/** Turns a question into a query (or a clarifying question) with Claude, repairing failed candidates. */
export class SqlGenerator {
  readonly #client: LlmClient;
  readonly #maxAttempts: number;
  readonly #maxTokens: number;
  readonly #defaultLimit: number;
  readonly #maxHistoryTurns: number;
  readonly #schemaOptions: SqlGeneratorOptions['schemaContext'];
  readonly #forceToolUse: boolean;
  readonly #clock: () => Date;
  readonly #turnBudgetMs: number;
  readonly #budgetSignal: (ms: number) => AbortSignal;
  readonly #signal: AbortSignal | undefined;
  readonly #logger: SqlGeneratorOptions['logger'];

  constructor(client: LlmClient, options: SqlGeneratorOptions = {}) {
    this.#client = client;
    this.#maxAttempts = options.maxAttempts ?? 3;
    this.#maxTokens = options.maxTokens ?? 8_192;
    this.#defaultLimit = options.defaultLimit ?? 100;
    this.#maxHistoryTurns = options.maxHistoryTurns ?? 10;
    this.#schemaOptions = options.schemaContext;
    this.#forceToolUse = options.forceToolUse ?? false;
    this.#clock = options.clock ?? (() => new Date());
    this.#turnBudgetMs = options.turnBudgetMs ?? 90_000;
    this.#budgetSignal = options.budgetSignal ?? ((ms) => AbortSignal.timeout(ms));
    this.#signal = options.signal;
    this.#logger = options.logger;
  }

  /**
   * Asks the model for a query; each candidate goes through `validate`, and an error it returns goes back to the
   * model as a failed tool result, for at most maxAttempts answers in all. Throws LlmError (llm_* codes; after the
   * last failed attempt llm_no_answer with `detail.usage` and `detail.lastQuery`).
   */
  async generate(request: GenerationRequest, validate: CandidateValidator): Promise<GenerationResult> {
    const language = request.queryLanguage;
    const dialect = {
      displayName: request.dialectName,
      queryLanguage: language,
      identifierQuote: request.identifierQuote ?? (language === 'sql' ? '"' : ''),
    } as const;
    const chartHintAllowed = request.chartHintAllowed ?? true;
    const history = (request.history ?? []).slice(-this.#maxHistoryTurns);
    const schemaContext = selectSchemaContext(request.schema, request.question, {
      ...this.#schemaOptions,
      earlierQueries: history.flatMap((t) => (t.sql ? [t.sql] : [])),
      earlierQuestions: history.map((t) => t.question),
    });
    const schemaTables = schemaContext.tables.map((t) => (t.schema ? `${t.schema}.${t.name}` : t.name));
    const prompt = buildPrompt({
      question: request.question,
      dialect,
      schemaContext,
      history,
      examples: request.examples ?? [],
      chartHintAllowed,
      defaultLimit: this.#defaultLimit,
      today: this.#clock(),
      ...(request.connectionName ? { connectionName: request.connectionName } : {}),
    });
    const toolSet = buildTools(language, request.dialectName, chartHintAllowed);
    const messages: LlmMessage[] = [...prompt.messages];
    let usage = emptyUsage();
    let lastProblem = '';
    let lastQuery: string | undefined;

    const budget = this.#turnBudgetMs > 0 ? this.#budgetSignal(this.#turnBudgetMs) : undefined;
    const signals = [request.signal, this.#signal, budget].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    const stopped = (attempts: number, cause?: unknown) => this.#stopped(budget, usage, attempts, cause);

    for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
      if (signal?.aborted) throw stopped(attempt - 1) ?? signal.reason;
      let response;
      try {
        response = await this.#client.createMessage(
          {
            system: prompt.system,
            messages,
            tools: toolSet.tools,
            toolChoice: this.#forceToolUse ? 'any' : 'auto',
            maxTokens: this.#maxTokens,
          },
          signal ? { signal } : {},
        );
      } catch (error) {
        const why = stopped(attempt - 1, error);
        if (why) throw why;
        if (error instanceof LlmError) Object.assign(error.detail, { usage, attempts: attempt - 1 });
        throw error;
      }
      usage = addResponseUsage(usage, response);

      if (response.stopReason === 'refusal') {
        throw new LlmError('llm_no_answer', 'Claude declined to answer this question.', {
          hint: 'Rephrase the question, or ask about the data more specifically.',
          detail: { usage, attempts: attempt },
        });
      }

      const toolUses = response.content.filter((b): b is LlmToolUseBlock => b.type === 'tool_use');
      const assistant: LlmMessage = {
        role: 'assistant',
        content: response.content.length ? response.content : [{ type: 'text', text: '(no answer)' }],
      };
      const chosen = toolUses.find(
        (t) =>
          t.name === RUN_QUERY_TOOL ||
          t.name === CLARIFY_TOOL ||
          (t.name === PROPOSE_MIGRATION_TOOL && toolSet.migration !== undefined),
      );

      if (!chosen) {
        lastProblem =
          response.stopReason === 'max_tokens'
            ? 'the answer was cut off at the token limit'
            : 'the model answered in text instead of calling a tool';
        this.#logMalformed(request.logger, lastProblem, response.stopReason, response.content, attempt);
        messages.push(assistant);
        const extra = toolUses.map((t): LlmContentBlock => ({
          type: 'tool_result',
          toolUseId: t.id,
          content: `Unknown tool "${t.name}".`,
          isError: true,
        }));
        messages.push({
          role: 'user',
          content: [
            ...extra,
            {
              type: 'text',
              text: `Please answer by calling ${RUN_QUERY_TOOL} with the query${toolSet.migration ? ` (or ${PROPOSE_MIGRATION_TOOL} for a schema change)` : ''}, or ${CLARIFY_TOOL} if you must ask something. Keep it brief.`,
            },
          ],
        });
        continue;
      }

      const problem = await checkToolCall(chosen, toolSet, language, attempt, validate);
      if (problem.kind === 'ok') {
        const answer = problem.answer;
        return { ...answer, attempts: attempt, usage, schemaTables } as GenerationResult;
      }
      lastProblem = problem.message;
      if (problem.query !== undefined) lastQuery = problem.query;
      else this.#logMalformed(request.logger, problem.message, response.stopReason, [chosen], attempt);
      messages.push(assistant);
      messages.push({
        role: 'user',
        content: toolUses.map((t): LlmContentBlock => ({
          type: 'tool_result',
          toolUseId: t.id,
          content: t === chosen ? problem.feedback : 'Not used: answer with one tool call at a time.',
          isError: true,
        })),
      });
    }

    throw new LlmError(
      'llm_no_answer',
      `I could not write a working query in ${this.#maxAttempts} tries. The last problem: ${clip(lastProblem, 300)}`,
      {
        hint: 'Try rephrasing the question, naming the tables or columns you mean, or edit the SQL yourself.',
        detail: {
          usage,
          attempts: this.#maxAttempts,
          lastQuery,
          lastProblem: clip(lastProblem, ERROR_FEEDBACK_MAX),
        },
      },
    );
  }

  /** Why the turn must stop now: its budget ran out, or threadql is shutting down; undefined otherwise. */
  #stopped(
    budget: AbortSignal | undefined,
    usage: GenerationUsage,
    attempts: number,
    cause?: unknown,
  ): LlmError | InterruptedError | undefined {
    if (this.#signal?.aborted) {
      return new InterruptedError('threadql is restarting, so I stopped writing this query.', {
        cause,
        hint: 'Ask again in a moment.',
        detail: { usage, attempts },
      });
    }
    if (budget?.aborted) {
      const seconds = Math.round(this.#turnBudgetMs / 1000);
      return new LlmError('llm_timeout', `Claude did not come up with a query within ${seconds} s.`, {
        cause,
        hint: 'Please try again; a shorter or more specific question also helps.',
        detail: { usage, attempts, budgetMs: this.#turnBudgetMs },
      });
    }
    return undefined;
  }

  #logMalformed(
    logger: Pick<Logger, 'warn'> | undefined,
    problem: string,
    stopReason: string | null,
    content: unknown,
    attempt: number,
  ): void {
    (logger ?? this.#logger)?.warn(
      {
        problem,
        stopReason,
        attempt,
        excerpt: clipText(JSON.stringify(content) ?? '', LOG_EXCERPT_CHARS),
      },
      'Claude answered without a usable tool call; asking it again',
    );
  }
}
