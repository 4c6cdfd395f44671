/**
 * One turn of a conversation: who acted, where, on which platform, and the helpers every flow uses to answer,
 * record and fail readably. A turn is made by the engine for each message, click and modal submit.
 */
import { ThreadqlError, toUserMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { errorReply, progressReply, textReply } from './build-replies.ts';
import {
  threadKey,
  userKey,
  type ChatPlatform,
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

  constructor(platform: ChatPlatform, thread: ThreadRef, user: UserRef, services: TurnServices) {
    this.platform = platform;
    this.thread = thread;
    this.user = user;
    this.services = services;
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

  get logger(): Logger {
    return this.services.logger;
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
    },
  ): Promise<void> {
    if (!(error instanceof ThreadqlError)) this.logger.error({ err: error }, 'unexpected failure in a turn');
    const reply = errorReply(toUserMessage(error));
    if (options.progress) await this.update(options.progress, reply).catch(() => this.post(reply));
    else await this.post(reply);
    if (options.sessionId) {
      await this.history(options.sessionId, {
        type: options.type ?? 'query',
        userInput: options.input,
        status: 'error',
        error: describeError(error),
      });
    }
    await this.audit('turn.failed', describeError(error));
  }
}
