/**
 * A flow is one job of the conversation (ask and run, schema, approvals, templates…). It answers commands of the
 * grammar (core/conversation/chat-grammar.ts), clicks on the buttons it put on its cards, and submits of the
 * modals it opened. The engine routes each event to the one flow that registered it.
 */
import type { CommandArgs, CommandName } from './chat-grammar.ts';
import type { ButtonClick, IncomingMessage, ModalSubmit } from './chat-platform.ts';
import type { Turn } from './turn.ts';

export type CommandHandler<K extends CommandName> = (
  turn: Turn,
  args: CommandArgs[K],
  message: IncomingMessage,
) => Promise<void>;

export interface ButtonHandler {
  /** Run behind the thread's other work (turns that change the thread's state); default false (answers at once). */
  queued?: boolean;
  handle(turn: Turn, click: ButtonClick): Promise<void>;
}

export interface ModalHandler {
  queued?: boolean;
  handle(turn: Turn, submit: ModalSubmit): Promise<void>;
}

export interface Flow {
  /** Grammar commands this flow answers. */
  readonly commands?: { [K in CommandName]?: CommandHandler<K> };
  /** Button actions (the `action` of a Button on this flow's cards) this flow answers. */
  readonly buttons?: Readonly<Record<string, ButtonHandler>>;
  /** Modal ids (ModalSpec.id) this flow answers. */
  readonly modals?: Readonly<Record<string, ModalHandler>>;
}
