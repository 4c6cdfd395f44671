/**
 * The conversation engine: a dispatcher. Each message is parsed by the one grammar (chat-grammar.ts) and handed
 * to the flow that answers its command; each click and modal submit goes to the flow that made the button or
 * modal. Events are answered once (a retried event is dropped), and a thread's turns run one at a time.
 */
import { textReply } from './build-replies.ts';
import { helpText, type CommandName } from './chat-grammar.ts';
import { parseChatMessage } from './chat-grammar.ts';
import {
  threadKey,
  type ButtonClick,
  type ChatPlatform,
  type IncomingMessage,
  type ModalSubmit,
  type PlatformHandlers,
  type PlatformName,
  type ThreadRef,
} from './chat-platform.ts';
import type { ButtonHandler, CommandHandler, Flow, ModalHandler } from './flow.ts';
import { dependencyOf } from '../resilience/dependency-errors.ts';
import { ThreadQueue } from './thread-queue.ts';
import { Turn, type TurnServices } from './turn.ts';

export interface EngineOptions extends TurnServices {
  flows: readonly Flow[];
  /** True the first time a key is seen (Redis SET NX): a retried event is answered once. */
  firstSeen(key: string): Promise<boolean>;
}

const KNOWN_THREADS_MAX = 10_000;

function register<T>(into: Map<string, T>, entries: Readonly<Record<string, T>> | undefined, what: string) {
  for (const [key, value] of Object.entries(entries ?? {})) {
    if (value === undefined) continue;
    if (into.has(key)) throw new Error(`two flows answer the ${what} "${key}"`);
    into.set(key, value);
  }
}

export class ConversationEngine {
  private readonly options: EngineOptions;
  private readonly queue = new ThreadQueue();
  private readonly commands = new Map<string, CommandHandler<CommandName>>();
  private readonly buttons = new Map<string, ButtonHandler>();
  private readonly modals = new Map<string, ModalHandler>();
  private readonly platforms = new Map<PlatformName, ChatPlatform>();
  private readonly knownThreads = new Set<string>();

  constructor(options: EngineOptions) {
    this.options = options;
    for (const flow of options.flows) {
      register(this.commands, flow.commands as Record<string, CommandHandler<CommandName>>, 'command');
      register(this.buttons, flow.buttons, 'button');
      register(this.modals, flow.modals, 'modal');
    }
    if (!this.commands.has('question')) throw new Error('no flow answers questions');
    if (!this.commands.has('help')) {
      this.commands.set('help', (turn) =>
        turn.post(textReply(this.helpText(turn.platform.name))).then(() => {}),
      );
    }
  }

  /** The event handlers a platform adapter calls, bound to that platform for replies. */
  handlersFor(platform: ChatPlatform): PlatformHandlers {
    this.platforms.set(platform.name, platform);
    return {
      onMessage: (message) => this.onMessage(platform, message),
      onButton: (click) => this.onButton(platform, click),
      onModalSubmit: (submit) => this.onModalSubmit(platform, submit),
    };
  }

  /** The running adapter of a platform (for work outside a turn, e.g. updating an expired approval card). */
  platformFor(name: PlatformName): ChatPlatform | undefined {
    return this.platforms.get(name);
  }

  /** Help for a platform: the grammar's commands that some flow answers. */
  helpText(platform?: PlatformName): string {
    return helpText(platform, (name) => this.commands.has(name));
  }

  /**
   * Whether threadql already holds a session in this thread (adapters answer follow-ups without a mention). While
   * the store cannot say, the threads this process has served count, so a follow-up is answered (with the outage
   * named) rather than ignored.
   */
  async isActiveThread(thread: ThreadRef): Promise<boolean> {
    try {
      const active = (await this.options.sessions.findSession(thread)) !== undefined;
      if (active) this.remember(threadKey(thread));
      return active;
    } catch (error) {
      if (dependencyOf(error) !== 'store') throw error;
      return this.knownThreads.has(threadKey(thread));
    }
  }

  /** Resolves when every queued turn has finished and the session store has written what they recorded. */
  async idle(): Promise<void> {
    await this.queue.idle();
    await this.options.sessions.idle?.();
  }

  private turn(platform: ChatPlatform, thread: ThreadRef, user: ButtonClick['user']): Turn {
    return new Turn(platform, thread, user, this.options);
  }

  private async onMessage(platform: ChatPlatform, message: IncomingMessage): Promise<void> {
    const key = threadKey(message.thread);
    if (!(await this.options.firstSeen(`message:${key}:${message.id}`))) return;
    this.remember(key);
    await this.queue.run(key, async () => {
      const turn = this.turn(platform, message.thread, message.user);
      await this.guarded(turn, message.text, 'question', async () => {
        const parsed = parseChatMessage(message.text, platform.name);
        const handler = parsed.kind === 'command' ? this.commands.get(parsed.name) : undefined;
        if (parsed.kind === 'invalid') {
          await turn.say(`${parsed.problem}\nUsage: \`${parsed.usage}\``);
        } else if (handler) {
          await handler(turn, parsed.args, message);
        } else {
          // A command whose flow is not part of this build: the words go to the question flow.
          await this.commands.get('question')!(turn, { text: message.text }, message);
        }
      });
      this.options.metrics?.turns.inc({ platform: platform.name, outcome: turn.outcome });
    });
  }

  private async onButton(platform: ChatPlatform, click: ButtonClick): Promise<void> {
    if (!(await this.options.firstSeen(`click:${click.id}`))) return;
    const handler = this.buttons.get(click.action);
    const turn = this.turn(platform, click.thread, click.user);
    if (!handler) {
      await turn.privately(`Unknown action "${click.action}".`);
      return;
    }
    const handle = async () => {
      await this.guarded(turn, `(${click.action})`, 'click', () => handler.handle(turn, click));
      this.options.metrics?.clicks.inc({ action: click.action, outcome: turn.outcome });
    };
    if (handler.queued) await this.queue.run(threadKey(click.thread), handle);
    else await handle();
  }

  private async onModalSubmit(platform: ChatPlatform, submit: ModalSubmit): Promise<void> {
    const handler = this.modals.get(submit.modalId);
    if (!handler) return;
    if (!(await this.options.firstSeen(`modal:${submit.id}`))) return;
    const turn = this.turn(platform, submit.thread, submit.user);
    const handle = () =>
      this.guarded(turn, `(${submit.modalId})`, 'click', () => handler.handle(turn, submit));
    if (handler.queued) await this.queue.run(threadKey(submit.thread), handle);
    else await handle();
  }

  /**
   * The engine's last word: a handler that throws (a dependency down where the flow does not expect it) still
   * gets a readable reply in the thread and a record, never silence.
   */
  private async guarded(
    turn: Turn,
    input: string,
    kind: 'question' | 'click',
    work: () => Promise<void>,
  ): Promise<void> {
    try {
      await work();
    } catch (error) {
      await turn
        .fail(error, { input, kind })
        .catch((err: unknown) => turn.logger.error({ err }, 'could not even report a failed turn'));
    }
  }

  /** Threads this process served, for isActiveThread while the store cannot answer (bounded). */
  private remember(key: string): void {
    if (this.knownThreads.size >= KNOWN_THREADS_MAX) this.knownThreads.clear();
    this.knownThreads.add(key);
  }
}
