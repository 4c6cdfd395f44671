/**
 * A question (or pasted SQL) in a thread: read the schema, write the query with Claude (with a repair loop that
 * feeds parse and EXPLAIN errors back), and offer it on a card. Pasted SQL skips Claude. The session keeps the
 * thread's turns, so a follow-up refines the same conversation.
 */
import { LlmError } from '../../errors.ts';
import type { Verdict } from '../../safety/verdict.ts';
import { progressReply, textReply } from '../build-replies.ts';
import type { CommandArgs } from '../chat-grammar.ts';
import type { ConnectionProvider, EngineSettings, QueryGenerator } from '../engine-ports.ts';
import { extractSql } from '../extract-sql.ts';
import type { Flow } from '../flow.ts';
import type { Turn } from '../turn.ts';
import type { ConfirmFlow } from './confirm-flow.ts';
import type { QueryGeneration } from './statement-proposal.ts';
import { threadSession } from './thread-session.ts';

export interface AskFlowDeps {
  connections: ConnectionProvider;
  /** Undefined when no LLM is configured: questions get a message saying how to configure one. */
  generator: QueryGenerator | undefined;
  confirm: ConfirmFlow;
  settings: EngineSettings;
}

/** True when the classifier could not parse the text (so a keyword-led message is really a question). */
function unparseable(verdict: Verdict): boolean {
  return verdict.statements.length === 0 || verdict.statements.some((s) => s.unparsed);
}

export class AskFlow implements Flow {
  private readonly deps: AskFlowDeps;

  readonly commands = {
    question: (turn: Turn, args: CommandArgs['question']) => this.answer(turn, args.text),
  };

  constructor(deps: AskFlowDeps) {
    this.deps = deps;
  }

  private async answer(turn: Turn, question: string): Promise<void> {
    const { connections } = this.deps;
    const progress = await turn.progress('Reading schema…');
    let sessionId: string | undefined;
    try {
      const { session, connection } = await threadSession(turn, connections, question);
      sessionId = session.id;
      const capabilities = connection.driver.dialect.capabilities;

      let query: string | undefined;
      let verdict: Verdict | undefined;
      let generation: QueryGeneration | undefined;
      const typed = extractSql(question);
      if (typed) {
        verdict = await connections.classify(connection.name, typed.query);
        if (typed.certain || !unparseable(verdict)) query = typed.query;
      }
      if (query === undefined) {
        if (!this.deps.generator) {
          throw new LlmError('llm_not_configured', 'No LLM is configured, so I can only run SQL you paste.', {
            hint: 'Set ANTHROPIC_API_KEY (and optionally THREADQL_MODEL) and restart threadql, or send SQL in a ```sql block.',
          });
        }
        const schema = await connections.schema(connection.name);
        await turn.update(progress, progressReply('Writing SQL…'));
        const answer = await this.deps.generator.generate(
          {
            question,
            schema,
            dialectName: capabilities.displayName,
            queryLanguage: capabilities.queryLanguage,
            history: session.recentTurns,
          },
          (candidate) => this.validateCandidate(connection.name, candidate),
        );
        if (answer.kind === 'clarify') {
          await turn.update(progress, textReply(`🤔 ${answer.question}`));
          await turn.history(session.id, {
            type: 'clarification',
            userInput: question,
            status: 'clarification',
            explanation: answer.question,
            tokenCount: answer.usage.inputTokens + answer.usage.outputTokens,
            llmMs: answer.usage.llmMs,
          });
          return;
        }
        generation = answer;
        query = answer.query;
        verdict = await connections.classify(connection.name, query);
      }
      await this.deps.confirm.offer({
        turn,
        card: progress,
        sessionId: session.id,
        connectionName: connection.name,
        question,
        sql: query,
        verdict: verdict!,
        ...(generation ? { generation } : {}),
      });
    } catch (error) {
      await turn.fail(error, { progress, input: question, ...(sessionId ? { sessionId } : {}) });
    }
  }

  /** Repair-loop check for a candidate from Claude: parse errors and EXPLAIN errors go back to the model. */
  private async validateCandidate(connectionName: string, candidate: string): Promise<string | undefined> {
    const verdict = await this.deps.connections.classify(connectionName, candidate);
    if (unparseable(verdict))
      return `The query does not parse: ${verdict.reasons.join('; ') || 'syntax error'}`;
    if (verdict.verdict !== 'read') return undefined;
    const { driver } = await this.deps.connections.resolveByName(connectionName);
    try {
      await driver.explain(candidate, { timeoutMs: this.deps.settings.limits.statementTimeoutMs });
      return undefined;
    } catch (error) {
      return `The database rejected the query: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
}
