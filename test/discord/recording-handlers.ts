import type {
  ButtonClick,
  IncomingMessage,
  ModalSubmit,
  PlatformHandlers,
} from '../../core/conversation/chat-platform.ts';

/** The seam under test: a PlatformHandlers that records what the adapter delivers and can act in between. */
export class RecordingHandlers implements PlatformHandlers {
  readonly messages: IncomingMessage[] = [];
  readonly clicks: ButtonClick[] = [];
  readonly submits: ModalSubmit[] = [];
  /** Runs inside onButton before it returns (e.g. open a modal, post an ephemeral message). */
  onClick: ((click: ButtonClick) => Promise<void>) | undefined;
  readonly #waiters: (() => void)[] = [];

  async onMessage(message: IncomingMessage): Promise<void> {
    this.messages.push(message);
    this.#notify();
  }

  async onButton(click: ButtonClick): Promise<void> {
    this.clicks.push(click);
    await this.onClick?.(click);
    this.#notify();
  }

  async onModalSubmit(submit: ModalSubmit): Promise<void> {
    this.submits.push(submit);
    this.#notify();
  }

  #notify(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves when `check` holds (re-checked after every delivery). */
  async until(check: () => boolean, label: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
}
