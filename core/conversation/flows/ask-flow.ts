/**
 * A message in a thread that is not a command: pasted SQL (or a MongoDB query) is offered as written, a question
 * goes to Claude (with a repair loop that feeds parse and EXPLAIN errors back), and a message that could be
 * either gets a card asking which (Run as SQL / Ask as a question). What a message is, is decided by
 * message-intent.ts. The session keeps the thread's turns, so a follow-up refines the same conversation.
 */
import { LlmError, PermissionError, ValidationError } from '../../errors.ts';
import { dependencyOf } from '../../resilience/dependency-errors.ts';
import type { Governance } from '../../governance/governance.ts';
import type { Verdict } from '../../safety/verdict.ts';
import { intentChoiceReply, progressReply, settledChoiceReply, textReply } from '../build-replies.ts';
import type { ButtonClick, PostedMessage } from '../chat-platform.ts';
import type { CommandArgs } from '../chat-grammar.ts';
import { readConnectionIntent } from '../connection-intent.ts';
import type {
  ConnectionProvider,
  EngineSettings,
  QueryGenerator,
  ResolvedConnection,
  SessionInfo,
} from '../engine-ports.ts';
import type { Flow } from '../flow.ts';
import { checkInputLength } from '../input-limits.ts';
import type { IntentChoice, IntentChoiceStore } from '../intent-choice-store.ts';
import type { Turn } from '../turn.ts';
import type { ConfirmFlow } from './confirm-flow.ts';
import { mayQuery } from './query-gate.ts';
import type { MigrationFlow } from './migration-flow.ts';
import type { QueryGeneration } from './statement-proposal.ts';
import { threadSession } from './thread-session.ts';

export interface AskFlowDeps {
  connections: ConnectionProvider;
  /** Undefined when no LLM is configured: questions get a message saying how to configure one. */
  generator: QueryGenerator | undefined;
  confirm: ConfirmFlow;
  /** Messages waiting for their author to say "SQL" or "question". */
  choices: IntentChoiceStore;
  settings: EngineSettings;
  governance: Governance;
  /** Where a schema change Claude proposes goes (migration-flow.ts); absent: it is refused with a message. */
  migrations?: Pick<MigrationFlow, 'propose'>;
}

/** True when the classifier could not parse the text. */
function unparseable(verdict: Verdict): boolean {
  return verdict.statements.length === 0 || verdict.statements.some((s) => s.unparsed);
}

const NOT_YOURS = 'Only the person who wrote the message (or an approver) can choose.';
const GONE = 'This choice has expired or was already made. Send the message again to get a fresh one.';

/** Where a turn of the ask flow stands: its thread's session and connection, and the message it answers in. */
interface Asking {
  turn: Turn;
  progress: PostedMessage;
  session: SessionInfo;
  connection: ResolvedConnection;
  text: string;
}

export class AskFlow implements Flow {
  private readonly deps: AskFlowDeps;

  readonly commands = {
    question: (turn: Turn, args: CommandArgs['question']) => this.answer(turn, args.text),
  };

  readonly buttons = {
    intent_sql: { queued: true, handle: (turn: Turn, click: ButtonClick) => this.choose(turn, click, 'sql') },
    intent_question: {
      queued: true,
      handle: (turn: Turn, click: ButtonClick) => this.choose(turn, click, 'question'),
    },
  };

  constructor(deps: AskFlowDeps) {
    this.deps = deps;
  }

  private async answer(turn: Turn, text: string): Promise<void> {
    const { connections, governance } = this.deps;
    // The thread's default connection, for a late write that must open the session (the store was down).
    const fallbackConnection = connections.allowedFor(turn.thread)[0] ?? '';
    // Who may ask is checked before anything shows in the thread or a session opens for them; over-long input
    // is refused before anything reads it (the limit of each kind is checked once the message is read).
    let connectionName: string;
    let known: { session: SessionInfo | undefined };
    try {
      checkInputLength(text, 'message', this.deps.settings.limits);
      known = { session: await turn.session() };
      connectionName = (await connections.resolve(turn.thread, known.session?.connectionName)).name;
    } catch (error) {
      await turn.fail(error, { input: text, connectionName: fallbackConnection });
      return;
    }
    if (!(await mayQuery(turn, governance, connectionName))) return;
    const progress = await turn.progress('Reading schema…');
    let sessionId: string | undefined;
    try {
      const { session, connection } = await threadSession(turn, connections, text, known);
      sessionId = session.id;
      const asking: Asking = { turn, progress, session, connection, text };
      const intent = await readConnectionIntent(text, connection, () => connections.schema(connection.name));
      turn.logger.debug({ intent: intent.kind, reason: intent.reason }, 'message intent');
      switch (intent.kind) {
        case 'query':
          await this.offerTyped(asking, intent.query);
          return;
        case 'question':
          await this.ask(asking);
          return;
        case 'ambiguous':
          await this.askWhich(asking, intent.reason);
          return;
      }
    } catch (error) {
      await turn.fail(error, {
        progress,
        input: text,
        ...(sessionId ? { sessionId } : {}),
        connectionName: fallbackConnection,
      });
    }
  }

  /** A query the user wrote: classified and offered as is; one the dialect cannot parse is explained. */
  private async offerTyped(asking: Asking, query: string): Promise<void> {
    const { turn, progress, session, connection, text } = asking;
    checkInputLength(query, 'sql', this.deps.settings.limits);
    const verdict = await this.deps.connections.classify(connection.name, query);
    if (unparseable(verdict)) {
      const language = connection.driver.dialect.capabilities.displayName;
      throw new ValidationError(
        `This does not parse as ${language}: ${verdict.reasons.join('; ') || 'syntax error'}`,
        {
          hint: this.deps.generator
            ? 'Fix it and send it again, or ask in plain words and I will write the query.'
            : 'Fix it and send it again.',
        },
      );
    }
    await this.deps.confirm.offer({
      turn,
      card: progress,
      sessionId: session.id,
      connectionName: connection.name,
      question: text,
      sql: query,
      verdict,
    });
  }

  /** A question: Claude writes the query (or asks back); without an LLM, says how to configure one. */
  private async ask(asking: Asking): Promise<void> {
    const { turn, progress, session, connection, text } = asking;
    checkInputLength(text, 'question', this.deps.settings.limits);
    const capabilities = connection.driver.dialect.capabilities;
    if (!this.deps.generator) throw notConfigured(capabilities.queryLanguage);
    const { connections, governance } = this.deps;
    // The model sees every column, masked ones marked, and never a value of them.
    const schema = governance.schemaForModel(connection.name, await connections.schema(connection.name));
    await turn.update(
      progress,
      progressReply(capabilities.queryLanguage === 'sql' ? 'Writing SQL…' : 'Writing the query…'),
    );
    const answer = await this.deps.generator.generate(
      {
        question: text,
        schema,
        dialectName: capabilities.displayName,
        queryLanguage: capabilities.queryLanguage,
        history: session.recentTurns,
        ...(turn.signal ? { signal: turn.signal } : {}),
        logger: turn.logger,
      },
      (candidate) => this.validateCandidate(connection.name, candidate),
    );
    if (answer.kind === 'clarify') {
      await turn.update(progress, textReply(`🤔 ${answer.question}`));
      await turn.history(session.id, {
        type: 'clarification',
        userInput: text,
        status: 'clarification',
        explanation: answer.question,
        tokenCount: answer.usage.inputTokens + answer.usage.outputTokens,
        llmMs: answer.usage.llmMs,
      });
      return;
    }
    if (answer.kind === 'migration') {
      if (!this.deps.migrations) {
        throw new ValidationError('Claude proposed a schema migration, but migrations are not enabled here.');
      }
      await this.deps.migrations.propose(
        turn,
        {
          description: answer.description,
          ...(answer.name ? { name: answer.name } : {}),
          up: answer.up,
          down: answer.down,
          source: 'llm',
          input: text,
          usage: answer.usage,
        },
        progress,
      );
      return;
    }
    const generation: QueryGeneration = answer;
    await this.deps.confirm.offer({
      turn,
      card: progress,
      sessionId: session.id,
      connectionName: connection.name,
      question: text,
      sql: answer.query,
      verdict: await connections.classify(connection.name, answer.query),
      generation,
    });
  }

  /** Could be SQL or a question: the card asks, and its buttons come back to `choose`. */
  private async askWhich(asking: Asking, reason: string): Promise<void> {
    const { turn, progress, session, connection, text } = asking;
    const choice = await this.deps.choices.create({
      threadKey: turn.threadKey,
      askerKey: turn.userKey,
      sessionId: session.id,
      connectionName: connection.name,
      text,
      reason,
      messageId: progress.messageId,
    });
    await turn.update(progress, intentChoiceReply(choice));
    await turn.audit('intent.ambiguous', { connection: connection.name, reason });
  }

  private async choose(turn: Turn, click: ButtonClick, as: 'sql' | 'question'): Promise<void> {
    const pending = await this.deps.choices.peek(click.value);
    if (!pending) {
      await turn.privately(GONE);
      return;
    }
    if (pending.askerKey !== turn.userKey && !turn.isApprover()) {
      await turn.privately(NOT_YOURS);
      await turn.audit('click.refused', {
        action: click.action,
        reason: new PermissionError(NOT_YOURS).code,
      });
      return;
    }
    // The atomic take: of two clicks (either button, or two replicas) exactly one proceeds.
    const choice = await this.deps.choices.take(click.value);
    if (!choice) {
      await turn.privately(GONE);
      return;
    }
    await this.settle(turn, click, choice, as);
    const progress = await turn.progress(as === 'sql' ? 'Checking the SQL…' : 'Reading schema…');
    try {
      const connection = await this.deps.connections.resolve(turn.thread, choice.connectionName);
      const session =
        (await turn.session()) ?? (await threadSession(turn, this.deps.connections, choice.text)).session;
      const asking: Asking = { turn, progress, session, connection, text: choice.text };
      if (as === 'sql') await this.offerTyped(asking, choice.text);
      else await this.ask(asking);
    } catch (error) {
      await turn.fail(error, { progress, input: choice.text, sessionId: choice.sessionId });
    }
  }

  private async settle(turn: Turn, click: ButtonClick, choice: IntentChoice, as: 'sql' | 'question') {
    const outcome =
      as === 'sql'
        ? `▶️ Run as SQL (chosen by ${turn.who})`
        : `💬 Asked as a question (chosen by ${turn.who})`;
    await turn.update(
      { thread: click.thread, messageId: choice.messageId || click.message.messageId },
      settledChoiceReply(choice, outcome),
    );
    await turn.audit('intent.chosen', { as, connection: choice.connectionName });
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
      // The database is down, not the query wrong: no repair round can help, so the turn stops and says so.
      if (dependencyOf(error) === 'database') throw error;
      return `The database rejected the query: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
}

/** No LLM: say how to configure Claude, and that pasted queries work meanwhile. */
function notConfigured(language: 'sql' | 'mongo'): LlmError {
  const paste =
    language === 'sql'
      ? 'Meanwhile, paste SQL (a statement such as SELECT … FROM …, or in a ```sql block) and I will offer to run it.'
      : 'Meanwhile, paste a MongoDB query as JSON (e.g. {"collection": "orders", "operation": "find", "filter": {…}}) and I will offer to run it.';
  return new LlmError(
    'llm_not_configured',
    'Claude is not configured here, so I cannot answer questions in plain words yet.',
    {
      hint: `To ask questions, set ANTHROPIC_API_KEY (and optionally THREADQL_MODEL) in the bot's environment and restart threadql. ${paste}`,
    },
  );
}
