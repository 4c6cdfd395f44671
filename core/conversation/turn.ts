/**
 * One turn of a conversation: who acted, where, on which platform, and the helpers every flow uses to answer,
 * record and fail readably. A turn is made by the engine for each message, click and modal submit.
 */
import { randomBytes } from 'node:crypto';
import { InterruptedError, ThreadqlError, toUserMessage } from '../errors.ts';
import type { ThreadqlMetrics } from '../metrics/threadql-metrics.ts';
import { dependencyOf } from '../resilience/dependency-errors.ts';
import type { Logger } from '../logger.ts';
import { errorReply, progressReply, textReply } from './build-replies.ts';
import {
  threadKey,
  userKey,
  type ChatPlatform,
  type ModalSpec,
  type PostedMessage,
  type Reply,
  type ThreadRef,
  type UserRef,
} from './chat-platform.ts';
import type { EngineSettings, HistoryEntryInput, SessionInfo, SessionStore } from './engine-ports.ts';

/** What every turn can reach, whatever the flow. */
export interface TurnServices {
  sessions: SessionStore;
  settings: EngineSettings;
  logger: Logger;
  /** Aborted when threadql shuts down: Claude calls and queries of the turn stop, and cards say so. */
  signal?: AbortSignal;
  metrics?: ThreadqlMetrics;
}

/** Longest user input a history entry keeps (QueryHistory.userInput's limit). */
const HISTORY_INPUT_MAX = 20_000;

/** Input as a history entry keeps it: whole, or cut with its length when it is over the store's limit. */
function recordable(input: string): string {
  if (input.length <= HISTORY_INPUT_MAX) return input;
  const note = `… (${input.length.toLocaleString('en-US')} characters)`;
  return input.slice(0, HISTORY_INPUT_MAX - note.length) + note;
}

/** A user-safe error description for history entries and audit events. */
export function describeError(error: unknown): { code: string; message: string } {
  return error instanceof ThreadqlError
    ? { code: error.code, message: error.message }
    : { code: 'internal', message: 'unexpected error' };
}

export class Turn {
  readonly platform: ChatPlatform;
  readonly thread: ThreadRef;
  readonly user: UserRef;
  readonly services: TurnServices;
  /** Short id on every log line of this turn. */
  readonly id = randomBytes(6).toString('hex');
  /** How the turn ended, for the metrics: `ok`, or the error code it failed with. */
  outcome = 'ok';
  #logger: Logger | undefined;

  constructor(platform: ChatPlatform, thread: ThreadRef, user: UserRef, services: TurnServices) {
    this.platform = platform;
    this.thread = thread;
    this.user = user;
    this.services = services;
  }

  /** Aborted when threadql shuts down (never aborted when no signal was given). */
  get signal(): AbortSignal | undefined {
    return this.services.signal;
  }

  /** True once a shutdown has begun: work in flight is being cancelled. */
  get interrupted(): boolean {
    return this.services.signal?.aborted === true;
  }

  get threadKey(): string {
    return threadKey(this.thread);
  }

  get userKey(): string {
    return userKey(this.user);
  }

  /** The acting user's name as cards show it. */
  get who(): string {
    return this.user.displayName ?? this.user.user;
  }

  get settings(): EngineSettings {
    return this.services.settings;
  }

  /** The turn's logger: every line carries the turn id, the thread and the platform. */
  get logger(): Logger {
    this.#logger ??= this.services.logger.child({
      turn: this.id,
      thread: this.threadKey,
      platform: this.platform.name,
    });
    return this.#logger;
  }

  /** Is the acting user a configured approver on their platform? */
  isApprover(): boolean {
    return this.settings.isApprover(this.user);
  }

  /** Is the acting user a configured admin on their platform? */
  isAdmin(): boolean {
    return this.settings.isAdmin(this.user);
  }

  /** Posts a reply into the thread. */
  post(reply: Reply): Promise<PostedMessage> {
    return this.platform.post(this.thread, reply);
  }

  /** Posts plain text into the thread. */
  say(text: string): Promise<PostedMessage> {
    return this.post(textReply(text));
  }

  /** Replaces a message the bot posted. */
  update(message: PostedMessage, reply: Reply): Promise<void> {
    return this.platform.update(message, reply);
  }

  /** A "working…" message that later becomes the answer. */
  progress(step: string): Promise<PostedMessage> {
    return this.post(progressReply(step));
  }

  /** Text only the acting user sees. */
  privately(text: string): Promise<void> {
    return this.platform.postEphemeral(this.thread, this.user, text);
  }

  /**
   * Opens a modal from a click where the platform has modals; elsewhere (the shell, a platform without them) tells
   * the user privately how to do the same in the thread (`otherwise`).
   */
  async openModal(trigger: unknown, modal: ModalSpec, otherwise: string): Promise<void> {
    if (this.platform.capabilities.modals && this.platform.openModal)
      await this.platform.openModal(trigger, modal);
    else await this.privately(otherwise);
  }

  /** The thread's session, if threadql has one here. */
  session(): Promise<SessionInfo | undefined> {
    return this.services.sessions.findSession(this.thread);
  }

  /** Appends a history entry for the acting user; returns its sequence number. */
  history(sessionId: string, entry: Omit<HistoryEntryInput, 'userKey'>): Promise<number> {
    return this.services.sessions.appendHistory(sessionId, { ...entry, userKey: this.userKey });
  }

  /** Records an audit event by the acting user in this thread. */
  audit(action: string, detail?: Record<string, unknown>, sqlHash?: string): Promise<void> {
    return this.services.sessions.audit({
      action,
      actorKey: this.userKey,
      threadKey: this.threadKey,
      ...(sqlHash ? { sqlHash } : {}),
      ...(detail ? { detail } : {}),
    });
  }

  /**
   * A failed turn as the user sees it: the progress message (or a new one) shows the error; the history (when
   * the thread has a session) and the audit log record it. Errors that are not ThreadqlErrors are logged.
   */
  async fail(
    error: unknown,
    options: {
      progress?: PostedMessage;
      input: string;
      sessionId?: string;
      type?: HistoryEntryInput['type'];
      /** The connection the thread would use, so a late write can open its session (store outages). */
      connectionName?: string;
      /** What failed: a question (the default; the reply says whether it was kept) or a click on a card. */
      kind?: 'question' | 'click';
    },
  ): Promise<void> {
    if (!(error instanceof ThreadqlError)) this.logger.error({ err: error }, 'unexpected failure in a turn');
    else this.logger.info({ code: error.code }, 'turn failed');
    this.outcome = error instanceof ThreadqlError ? error.code : 'internal';
    // Recorded first, so the reply can say whether the input was kept, and a crash after it loses nothing.
    const kept = await this.recordFailure(error, options).catch((err: unknown) => {
      this.logger.warn({ err }, 'could not record a failed turn');
      return false;
    });
    let text = toUserMessage(error);
    const question = (options.kind ?? 'question') === 'question';
    if (question && kept && dependencyOf(error) !== undefined && !(error instanceof InterruptedError))
      text += '\nYour question was not lost: it is recorded in this thread’s history.';
    const reply = errorReply(text);
    if (options.progress) await this.update(options.progress, reply).catch(() => this.post(reply));
    else await this.post(reply);
  }

  /**
   * History (when the thread has a session, or the store is down and the session can be opened later) and audit of
   * a failed turn; true when the input is recorded, now or durably for later.
   */
  private async recordFailure(
    error: unknown,
    options: { input: string; sessionId?: string; type?: HistoryEntryInput['type']; connectionName?: string },
  ): Promise<boolean> {
    const { sessions } = this.services;
    const entry: HistoryEntryInput = {
      type: options.type ?? 'query',
      userInput: recordable(options.input),
      userKey: this.userKey,
      status: 'error',
      error: describeError(error),
    };
    let kept = false;
    if (options.sessionId) {
      await sessions.appendHistory(options.sessionId, entry);
      kept = true;
    } else if (dependencyOf(error) === 'store' && sessions.recordHistory) {
      // The session could not even be read: keep the question for the thread's session, opened on replay.
      await sessions.recordHistory(this.threadKey, entry, {
        thread: this.thread,
        user: this.user,
        connectionName: options.connectionName ?? '',
        question: recordable(options.input).slice(0, 200),
      });
      kept = true;
    }
    await this.audit('turn.failed', describeError(error));
    return kept;
  }
}
