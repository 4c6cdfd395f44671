/**
 * The QuerySession state machine: message → plan → confirm → run → result, one thread at a time.
 * Every step is persisted (QueryHistory, AuditEvent) and every failure becomes a readable reply.
 */
import { ConfirmationError, LlmError, PermissionError, ThreadqlError, toUserMessage } from '../errors.ts';
import type { QueryResult } from '../db/database-dialect.ts';
import type { Logger } from '../logger.ts';
import type { Verdict } from '../safety/verdict.ts';
import {
  chartReply,
  confirmCardReply,
  errorReply,
  HELP_TEXT,
  needsApprovalReply,
  progressReply,
  resultReply,
  settledCardReply,
  textReply,
} from './build-replies.ts';
import {
  threadKey,
  userKey,
  type ButtonClick,
  type ChatPlatform,
  type IncomingMessage,
  type ModalSubmit,
  type PlatformHandlers,
  type PostedMessage,
  type ThreadRef,
  type UserRef,
} from './chat-platform.ts';
import type { Confirmation, ConfirmationStore } from './confirmation-store.ts';
import type {
  ConnectionProvider,
  EngineSettings,
  Generation,
  LlmUsage,
  QueryGenerator,
  ResultRenderers,
  SessionInfo,
  SessionStore,
} from './engine-ports.ts';
import { extractSql } from './extract-sql.ts';
import { parseChatCommand } from './parse-chat-command.ts';
import { ThreadQueue } from './thread-queue.ts';

export interface EngineDeps {
  sessions: SessionStore;
  connections: ConnectionProvider;
  /** Undefined when no LLM is configured: questions get a message saying how to configure one. */
  generator: QueryGenerator | undefined;
  confirmations: ConfirmationStore;
  renderers: ResultRenderers;
  settings: EngineSettings;
  /** True the first time a key is seen (Redis SET NX): a retried event is answered once. */
  firstSeen(key: string): Promise<boolean>;
  logger: Logger;
}

/** True when the classifier could not parse the text (so a keyword-led message is really a question). */
function unparseable(verdict: Verdict): boolean {
  return verdict.statements.length === 0 || verdict.statements.some((s) => s.unparsed);
}

const NOT_YOURS = 'Only the person who asked (or an approver) can use these buttons.';
const GONE = 'This confirmation has expired or was already used. Ask again to get a fresh one.';

export class ConversationEngine {
  private readonly deps: EngineDeps;
  private readonly queue = new ThreadQueue();

  constructor(deps: EngineDeps) {
    this.deps = deps;
  }

  /** The event handlers a platform adapter calls, bound to that platform for replies. */
  handlersFor(platform: ChatPlatform): PlatformHandlers {
    return {
      onMessage: (message) => this.onMessage(platform, message),
      onButton: (click) => this.onButton(platform, click),
      onModalSubmit: (submit) => this.onModalSubmit(platform, submit),
    };
  }

  /** Whether threadql already holds a session in this thread (adapters answer follow-ups without a mention). */
  async isActiveThread(thread: ThreadRef): Promise<boolean> {
    return (await this.deps.sessions.findSession(thread)) !== undefined;
  }

  /** Resolves when every queued turn has finished (for shutdown and tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private async onMessage(platform: ChatPlatform, message: IncomingMessage): Promise<void> {
    const key = threadKey(message.thread);
    if (!(await this.deps.firstSeen(`message:${key}:${message.id}`))) return;
    await this.queue.run(key, () => this.handleMessage(platform, message));
  }

  private async handleMessage(platform: ChatPlatform, message: IncomingMessage): Promise<void> {
    const command = parseChatCommand(message.text);
    switch (command.kind) {
      case 'help':
        await platform.post(message.thread, textReply(HELP_TEXT));
        return;
      case 'connections': {
        const names = this.deps.connections.allowedFor(message.thread);
        await platform.post(
          message.thread,
          textReply(
            names.length
              ? `Connections here: ${names.join(', ')}`
              : 'No connection may be used in this channel.',
          ),
        );
        return;
      }
      case 'schema':
        await this.answerSchema(platform, message, command.tables);
        return;
      case 'use':
        await this.switchConnection(platform, message, command.connection);
        return;
      case 'question':
        await this.answerQuestion(platform, message, command.text);
        return;
    }
  }

  private async answerQuestion(
    platform: ChatPlatform,
    message: IncomingMessage,
    question: string,
  ): Promise<void> {
    const { sessions, connections } = this.deps;
    const progress = await platform.post(message.thread, progressReply('Reading schema…'));
    let session: SessionInfo | undefined;
    try {
      const existing = await sessions.findSession(message.thread);
      const connection = await connections.resolve(message.thread, existing?.connectionName);
      session =
        existing ?? (await sessions.openSession(message.thread, message.user, connection.name, question));
      const capabilities = connection.driver.dialect.capabilities;

      let query: string | undefined;
      let verdict: Verdict | undefined;
      let generation: Extract<Generation, { kind: 'query' }> | undefined;
      const typed = extractSql(question);
      if (typed) {
        verdict = await connections.classify(connection.name, typed.query);
        if (typed.certain || !unparseable(verdict)) query = typed.query;
        else verdict = undefined;
      }
      if (query === undefined) {
        if (!this.deps.generator) {
          throw new LlmError('llm_not_configured', 'No LLM is configured, so I can only run SQL you paste.', {
            hint: 'Set ANTHROPIC_API_KEY (and optionally THREADQL_MODEL) and restart threadql, or send SQL in a ```sql block.',
          });
        }
        const schema = await connections.schema(connection.name);
        await platform.update(progress, progressReply('Writing SQL…'));
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
          await platform.update(progress, textReply(`🤔 ${answer.question}`));
          await sessions.appendHistory(session.id, {
            type: 'clarification',
            userInput: question,
            userKey: userKey(message.user),
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
      await this.offerToRun(
        platform,
        message,
        progress,
        session,
        connection.name,
        query,
        verdict!,
        generation,
      );
    } catch (error) {
      await this.reportFailure(platform, progress, message.thread, message.user, question, session, error);
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

  private async offerToRun(
    platform: ChatPlatform,
    message: IncomingMessage,
    progress: PostedMessage,
    session: SessionInfo,
    connectionName: string,
    query: string,
    verdict: Verdict,
    generation: Extract<Generation, { kind: 'query' }> | undefined,
  ): Promise<void> {
    const { sessions, confirmations } = this.deps;
    const usage: LlmUsage | undefined = generation?.usage;
    const base = {
      type: 'query' as const,
      userInput: message.text,
      userKey: userKey(message.user),
      generatedSql: query,
      explanation: generation?.explanation,
      tokenCount: usage ? usage.inputTokens + usage.outputTokens : undefined,
      llmMs: usage?.llmMs,
    };
    if (verdict.verdict !== 'read') {
      await platform.update(progress, needsApprovalReply(query, verdict, connectionName));
      await sessions.appendHistory(session.id, { ...base, status: 'needs_approval' });
      await sessions.audit({
        action: 'statement.needs_approval',
        actorKey: userKey(message.user),
        threadKey: threadKey(message.thread),
        detail: { verdict: verdict.verdict, connection: connectionName },
      });
      return;
    }
    const { driver } = await this.deps.connections.resolveByName(connectionName);
    const estimate = await driver
      .explain(query, { timeoutMs: this.deps.settings.limits.statementTimeoutMs })
      .catch(() => undefined);
    const turn = await sessions.appendHistory(session.id, { ...base, status: 'awaiting_confirmation' });
    const confirmation = await confirmations.create({
      sessionId: session.id,
      turn,
      threadKey: threadKey(message.thread),
      askerKey: userKey(message.user),
      connectionName,
      question: message.text,
      // Pasted SQL is no title; the generator's title or the question is.
      title: generation ? (generation.title ?? message.text) : '',
      sql: query,
      verdict: verdict.verdict,
      explanation: generation?.explanation ?? 'Your query:',
      ...(generation?.chart ? { chart: generation.chart } : {}),
      messageId: progress.messageId,
    });
    await platform.update(
      progress,
      confirmCardReply({ confirmation, estimatedRows: estimate?.estimatedRows, usage }),
    );
  }

  private async onButton(platform: ChatPlatform, click: ButtonClick): Promise<void> {
    if (!(await this.deps.firstSeen(`click:${click.id}`))) return;
    if (click.action === 'feedback_up' || click.action === 'feedback_down') {
      await this.recordFeedback(platform, click);
      return;
    }
    const confirmation = await this.deps.confirmations.peek(click.value);
    if (!confirmation) {
      await platform.postEphemeral(click.thread, click.user, GONE);
      return;
    }
    if (!this.mayAct(click.user, confirmation)) {
      await this.refuse(platform, click.thread, click.user, confirmation, click.action);
      return;
    }
    switch (click.action) {
      case 'run':
        await this.queue.run(threadKey(click.thread), () => this.run(platform, click));
        return;
      case 'edit':
        await this.openEditor(platform, click, confirmation);
        return;
      case 'cancel':
        await this.cancel(platform, click);
        return;
      default:
        await platform.postEphemeral(click.thread, click.user, `Unknown action "${click.action}".`);
    }
  }

  private mayAct(user: UserRef, confirmation: Confirmation): boolean {
    return userKey(user) === confirmation.askerKey || this.deps.settings.isApprover(user);
  }

  private async refuse(
    platform: ChatPlatform,
    thread: ThreadRef,
    user: UserRef,
    confirmation: Confirmation,
    action: string,
  ) {
    await platform.postEphemeral(thread, user, NOT_YOURS);
    await this.deps.sessions.audit({
      action: 'click.refused',
      actorKey: userKey(user),
      threadKey: threadKey(thread),
      sqlHash: confirmation.sqlHash,
      detail: { action, reason: new PermissionError(NOT_YOURS).code },
    });
  }

  private async run(platform: ChatPlatform, click: ButtonClick): Promise<void> {
    const { confirmations, sessions, connections, renderers, settings } = this.deps;
    // The atomic take: of two clicks (or two replicas) exactly one proceeds.
    const confirmation = await confirmations.consume(click.value);
    if (!confirmation) {
      await platform.postEphemeral(click.thread, click.user, GONE);
      return;
    }
    const card: PostedMessage = {
      thread: click.thread,
      messageId: confirmation.messageId ?? click.message.messageId,
    };
    const who = click.user.displayName ?? click.user.user;
    const actor = userKey(click.user);
    await platform.update(card, settledCardReply(confirmation, `▶️ Running… (started by ${who})`));
    const limits = settings.limits;
    try {
      const { driver } = await connections.resolveByName(confirmation.connectionName);
      const result = await driver.executeRead(confirmation.sql, {
        timeoutMs: limits.statementTimeoutMs,
        maxRows: limits.maxRows,
      });
      const base = `threadql-${new Date(settings.now()).toISOString().slice(0, 10)}-${confirmation.turn}`;
      // Small results: the CSV comes from the rows in hand. Capped results: streamed again in full, after the preview.
      const csv = result.truncated
        ? undefined
        : await renderers.csv(result, { filename: `${base}.csv`, maxBytes: limits.csvMaxBytes });
      // The table goes out first; the chart follows in its own message, so the thread never waits on drawing.
      await platform.post(
        click.thread,
        resultReply({
          confirmation,
          result,
          previewRows: limits.previewRows,
          ...(csv ? { csv: csv.file } : {}),
          turn: confirmation.turn,
        }),
      );
      const rows = `${result.rowCount.toLocaleString('en-US')}${result.truncated ? '+' : ''} rows`;
      await platform.update(
        card,
        settledCardReply(confirmation, `✅ Run by ${who} · ${rows} in ${Math.round(result.durationMs)} ms`),
      );
      await sessions.appendHistory(confirmation.sessionId, {
        type: 'query',
        userInput: confirmation.question,
        userKey: actor,
        generatedSql: confirmation.sql,
        status: 'success',
        resultCount: result.rowCount,
        executionMs: result.durationMs,
      });
      await sessions.audit({
        action: 'query.run',
        actorKey: actor,
        threadKey: confirmation.threadKey,
        sqlHash: confirmation.sqlHash,
        detail: { rows: result.rowCount },
      });
      await this.postChart(platform, click.thread, confirmation, result, `${base}-chart.png`);
      if (result.truncated) await this.uploadFullCsv(platform, click.thread, confirmation, base);
    } catch (error) {
      await platform.update(card, settledCardReply(confirmation, `❌ Failed (started by ${who})`));
      await platform.post(click.thread, errorReply(toUserMessage(error)));
      await sessions.appendHistory(confirmation.sessionId, {
        type: 'query',
        userInput: confirmation.question,
        userKey: actor,
        generatedSql: confirmation.sql,
        status: 'error',
        error: this.describe(error),
      });
      await sessions.audit({
        action: 'query.failed',
        actorKey: actor,
        threadKey: confirmation.threadKey,
        sqlHash: confirmation.sqlHash,
        detail: this.describe(error),
      });
    }
  }

  /** Draws the chart that suits the result (none when nothing suits) and posts it; a failure is logged, not shown. */
  private async postChart(
    platform: ChatPlatform,
    thread: ThreadRef,
    confirmation: Confirmation,
    result: QueryResult,
    filename: string,
  ) {
    try {
      const chart = await this.deps.renderers.chart(result, {
        title: confirmation.title,
        ...(confirmation.chart ? { hint: confirmation.chart } : {}),
      });
      if (chart)
        await platform.post(
          thread,
          chartReply(
            { filename, mimeType: 'image/png', data: chart.png, title: confirmation.question },
            confirmation.question,
          ),
        );
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'chart rendering failed');
    }
  }

  /** The preview was capped: stream the whole result into a CSV (itself size-capped) and attach it. */
  private async uploadFullCsv(
    platform: ChatPlatform,
    thread: ThreadRef,
    confirmation: Confirmation,
    base: string,
  ) {
    const { connections, renderers, settings } = this.deps;
    try {
      const { driver } = await connections.resolveByName(confirmation.connectionName);
      const stream = await driver.streamRead(confirmation.sql, {
        timeoutMs: settings.limits.statementTimeoutMs * 4,
        maxRows: Number.MAX_SAFE_INTEGER,
      });
      const csv = await renderers.csv(stream, {
        filename: `${base}.csv`,
        maxBytes: settings.limits.csvMaxBytes,
      });
      const note = csv.capped
        ? `Full result as CSV (cut at ${Math.round(settings.limits.csvMaxBytes / 1048576)} MB: ${csv.rows.toLocaleString('en-US')} rows).`
        : `Full result as CSV: ${csv.rows.toLocaleString('en-US')} rows.`;
      await platform.upload(thread, [csv.file], note);
    } catch (error) {
      await platform.post(thread, errorReply(`The full CSV could not be produced: ${toUserMessage(error)}`));
    }
  }

  private async openEditor(
    platform: ChatPlatform,
    click: ButtonClick,
    confirmation: Confirmation,
  ): Promise<void> {
    if (!platform.capabilities.modals || !platform.openModal) {
      await platform.postEphemeral(
        click.thread,
        click.user,
        'Reply in this thread with the edited SQL in a ```sql block.',
      );
      return;
    }
    await platform.openModal(click.trigger, {
      id: 'edit_sql',
      title: 'Edit SQL',
      submitLabel: 'Check',
      value: confirmation.id,
      fields: [
        {
          id: 'sql',
          label: `SQL for ${confirmation.connectionName}`,
          value: confirmation.sql,
          multiline: true,
        },
      ],
    });
  }

  private async onModalSubmit(platform: ChatPlatform, submit: ModalSubmit): Promise<void> {
    if (submit.modalId !== 'edit_sql') return;
    if (!(await this.deps.firstSeen(`modal:${submit.id}`))) return;
    await this.queue.run(threadKey(submit.thread), () => this.applyEdit(platform, submit));
  }

  private async applyEdit(platform: ChatPlatform, submit: ModalSubmit): Promise<void> {
    const { confirmations, connections, sessions } = this.deps;
    const previous = await confirmations.peek(submit.value);
    if (!previous) {
      await platform.postEphemeral(submit.thread, submit.user, GONE);
      return;
    }
    if (!this.mayAct(submit.user, previous)) {
      await this.refuse(platform, submit.thread, submit.user, previous, 'edit');
      return;
    }
    const sql = (submit.fields.sql ?? '').trim();
    const card: PostedMessage = { thread: submit.thread, messageId: previous.messageId ?? '' };
    // The old token dies with the old SQL: a confirmation is bound to the exact statement.
    if (!(await confirmations.consume(previous.id))) {
      await platform.postEphemeral(submit.thread, submit.user, GONE);
      return;
    }
    try {
      if (!sql) throw new ConfirmationError('The edited SQL is empty.');
      const verdict = await connections.classify(previous.connectionName, sql);
      const entry = {
        type: 'query' as const,
        userInput: `(edited) ${previous.question}`,
        userKey: userKey(submit.user),
        generatedSql: sql,
      };
      if (verdict.verdict !== 'read') {
        await platform.update(card, needsApprovalReply(sql, verdict, previous.connectionName));
        await sessions.appendHistory(previous.sessionId, { ...entry, status: 'needs_approval' });
        return;
      }
      const turn = await sessions.appendHistory(previous.sessionId, {
        ...entry,
        status: 'awaiting_confirmation',
      });
      const { chart: _chart, ...rest } = previous;
      const confirmation = await confirmations.create({
        ...rest,
        turn,
        sql,
        explanation: `Edited by ${submit.user.displayName ?? submit.user.user}:`,
      });
      await platform.update(card, confirmCardReply({ confirmation }));
    } catch (error) {
      await platform.post(submit.thread, errorReply(toUserMessage(error)));
    }
  }

  private async cancel(platform: ChatPlatform, click: ButtonClick): Promise<void> {
    const confirmation = await this.deps.confirmations.consume(click.value);
    if (!confirmation) {
      await platform.postEphemeral(click.thread, click.user, GONE);
      return;
    }
    const who = click.user.displayName ?? click.user.user;
    await platform.update(
      { thread: click.thread, messageId: confirmation.messageId ?? click.message.messageId },
      settledCardReply(confirmation, `🚫 Cancelled by ${who}`),
    );
    await this.deps.sessions.appendHistory(confirmation.sessionId, {
      type: 'query',
      userInput: confirmation.question,
      userKey: userKey(click.user),
      generatedSql: confirmation.sql,
      status: 'cancelled',
    });
  }

  private async recordFeedback(platform: ChatPlatform, click: ButtonClick): Promise<void> {
    // The value is `<session id>:<turn>`, and a session id (a thread key) has colons of its own.
    const cut = click.value.lastIndexOf(':');
    const sessionId = click.value.slice(0, cut);
    const turn = Number(click.value.slice(cut + 1));
    if (cut <= 0 || !Number.isInteger(turn)) return;
    await this.deps.sessions.recordFeedback({
      sessionId,
      turn,
      userKey: userKey(click.user),
      rating: click.action === 'feedback_up' ? 'up' : 'down',
    });
    await platform.postEphemeral(click.thread, click.user, 'Thanks for the feedback!');
  }

  private async answerSchema(
    platform: ChatPlatform,
    message: IncomingMessage,
    tables: string[],
  ): Promise<void> {
    const progress = await platform.post(message.thread, progressReply('Drawing the schema…'));
    try {
      const existing = await this.deps.sessions.findSession(message.thread);
      const connection = await this.deps.connections.resolve(message.thread, existing?.connectionName);
      const schema = await this.deps.connections.schema(connection.name);
      const erd = await this.deps.renderers.erd(schema, tables);
      const title = tables.length
        ? `Schema around ${tables.join(', ')} on *${connection.name}*`
        : `Schema of *${connection.name}*`;
      const parts = erd.png
        ? [
            { type: 'text' as const, text: title },
            {
              type: 'image' as const,
              image: { filename: 'schema.png', mimeType: 'image/png', data: erd.png },
              alt: title,
            },
          ]
        : [
            { type: 'text' as const, text: `${title}\n${erd.warning ?? ''}` },
            { type: 'code' as const, code: erd.mermaid, language: 'mermaid' },
          ];
      await platform.update(progress, { parts, fallback: title });
    } catch (error) {
      await this.reportFailure(
        platform,
        progress,
        message.thread,
        message.user,
        message.text,
        undefined,
        error,
      );
    }
  }

  private async switchConnection(
    platform: ChatPlatform,
    message: IncomingMessage,
    name: string,
  ): Promise<void> {
    try {
      const connection = await this.deps.connections.resolve(message.thread, name);
      const existing = await this.deps.sessions.findSession(message.thread);
      if (existing) await this.deps.sessions.setConnection(existing.id, connection.name);
      else
        await this.deps.sessions.openSession(
          message.thread,
          message.user,
          connection.name,
          `use ${connection.name}`,
        );
      await platform.post(message.thread, textReply(`This thread now uses *${connection.name}*.`));
    } catch (error) {
      await platform.post(message.thread, errorReply(toUserMessage(error)));
    }
  }

  private async reportFailure(
    platform: ChatPlatform,
    progress: PostedMessage,
    thread: ThreadRef,
    user: UserRef,
    input: string,
    session: SessionInfo | undefined,
    error: unknown,
  ): Promise<void> {
    if (!(error instanceof ThreadqlError))
      this.deps.logger.error({ err: error }, 'unexpected failure in a turn');
    await platform
      .update(progress, errorReply(toUserMessage(error)))
      .catch(() => platform.post(thread, errorReply(toUserMessage(error))));
    if (session) {
      await this.deps.sessions.appendHistory(session.id, {
        type: 'query',
        userInput: input,
        userKey: userKey(user),
        status: 'error',
        error: this.describe(error),
      });
    }
    await this.deps.sessions.audit({
      action: 'turn.failed',
      actorKey: userKey(user),
      threadKey: threadKey(thread),
      detail: this.describe(error),
    });
  }

  private describe(error: unknown): { code: string; message: string } {
    return error instanceof ThreadqlError
      ? { code: error.code, message: error.message }
      : { code: 'internal', message: 'unexpected error' };
  }
}
