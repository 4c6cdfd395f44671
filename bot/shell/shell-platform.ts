/**
 * The terminal adapter (`threadql shell`): the same flows as Slack and Discord on injected streams.
 * Buttons become numbered choices, modals become prompts, images and files are written to a folder and
 * their paths printed. One shell run is one thread.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type {
  Button,
  ChannelInfo,
  ChannelRef,
  ChatPlatform,
  FileAttachment,
  ModalSpec,
  PlatformCapabilities,
  PlatformHandlers,
  PostedMessage,
  Reply,
  ThreadRef,
  UserRef,
} from '../../core/conversation/chat-platform.ts';
import type { QueryResult } from '../../core/db/database-dialect.ts';
import { mrkdwnToTerminal } from './terminal-text.ts';

export interface ShellPlatformOptions {
  input: Readable;
  output: Writable;
  /** Where images and files are written. */
  outputDir: string;
  /** Renders a result table as monospaced text fitting `width` columns. */
  formatTable(result: QueryResult, previewRows: number, width: number): string;
  /** The local user's name (shown in cards and history). */
  userName?: string;
  /** Terminal width; defaults to 100. */
  width?: number;
  /** Thread id; a fresh one per run by default, pass the same id to continue a session. */
  threadId?: string;
  /** Style text with ANSI codes (a terminal); default false: the mrkdwn markers are dropped. */
  ansi?: boolean;
  /** Shown when threadql waits for a line (`you> ` on a terminal); default none (piped input). */
  prompt?: string;
}

interface PendingModal {
  spec: ModalSpec;
  /** Lines typed for the current field. */
  lines: string[];
  /** Index of the field being typed; the fields are asked one after another. */
  field: number;
  values: Record<string, string>;
}

const MODAL_END = '.';

export class ShellPlatform implements ChatPlatform {
  readonly name = 'shell' as const;
  readonly capabilities: PlatformCapabilities;
  readonly thread: ThreadRef;
  #user: UserRef;
  private readonly options: ShellPlatformOptions;
  private readline: Interface | undefined;
  private handlers: PlatformHandlers | undefined;
  private choices: { button: Button; message: PostedMessage }[] = [];
  private modal: PendingModal | undefined;
  private counter = 0;
  private done: Promise<void> = Promise.resolve();

  constructor(options: ShellPlatformOptions) {
    this.options = options;
    const width = options.width ?? 100;
    this.capabilities = {
      modals: true,
      ephemeral: true,
      tableBlocks: false,
      maxMessageChars: 1_000_000,
      codeBlockWidth: width,
    };
    this.thread = {
      platform: 'shell',
      workspace: 'local',
      channel: 'tty',
      thread: options.threadId ?? randomBytes(6).toString('hex'),
    };
    const name = options.userName ?? 'you';
    this.#user = { platform: 'shell', workspace: 'local', user: name, displayName: name };
  }

  /** Who is typing now (`as <name>` changes it). */
  get user(): UserRef {
    return this.#user;
  }

  /** `as <name>`: the terminal's next lines are typed by `name` (approvers.shell lists approver names). */
  actAs(name: string): UserRef {
    this.#user = { platform: 'shell', workspace: 'local', user: name, displayName: name };
    return this.#user;
  }

  /** The name itself: a terminal has no notifications, so a mention is plain. */
  mention(id: string): string {
    return id;
  }

  /** Starts reading lines; resolves at once. `finished()` resolves when the input ends and work is done. */
  async start(handlers: PlatformHandlers): Promise<void> {
    this.handlers = handlers;
    this.readline = createInterface({ input: this.options.input, terminal: false });
    this.done = (async () => {
      this.showPrompt();
      for await (const line of this.readline!) {
        await this.onLine(line);
        if (!this.modal) this.showPrompt();
      }
      // End the prompt's line so the shell's own prompt starts on a fresh one.
      if (this.options.prompt) this.options.output.write('\n');
    })();
  }

  /** Resolves when the input has ended and every line has been handled. */
  finished(): Promise<void> {
    return this.done;
  }

  async stop(): Promise<void> {
    this.readline?.close();
  }

  async post(_thread: ThreadRef, reply: Reply): Promise<PostedMessage> {
    const message = { thread: this.thread, messageId: `m${++this.counter}` };
    await this.print(message, reply, false);
    return message;
  }

  async update(message: PostedMessage, reply: Reply): Promise<void> {
    await this.print(message, reply, true);
  }

  async upload(_thread: ThreadRef, files: FileAttachment[], comment?: string): Promise<void> {
    if (comment) this.write(`threadql> ${this.text(comment)}`);
    for (const file of files) this.write(`  📎 ${await this.save(file)}`);
  }

  async postEphemeral(_thread: ThreadRef, _user: UserRef, text: string): Promise<void> {
    this.write(`threadql (only you)> ${this.text(text)}`);
  }

  /** A reply only the local user sees: printed like any other, marked as private. */
  async postPrivate(_thread: ThreadRef, _user: UserRef, reply: Reply): Promise<void> {
    const message = { thread: this.thread, messageId: `m${++this.counter}` };
    await this.print(message, reply, false, 'threadql (only you)> ');
  }

  /** A scheduled report (or notice) for a channel, printed as it fires with the channel's name shown. */
  async postToChannel(channel: ChannelRef, reply: Reply): Promise<PostedMessage> {
    const message = {
      thread: { ...channel, thread: `m${this.counter + 1}` },
      messageId: `m${++this.counter}`,
    };
    await this.print(message, reply, false, `threadql → #${channel.channel} (${message.messageId})> `);
    return message;
  }

  /** A direct message to the local user. */
  async postDirect(_user: UserRef, reply: Reply): Promise<void> {
    const message = { thread: this.thread, messageId: `m${++this.counter}` };
    await this.print(message, reply, false, `threadql (to you, ${message.messageId})> `);
  }

  /** The terminal can print into any channel name; only the person at it reads it. */
  async describeChannel(channel: ChannelRef): Promise<ChannelInfo> {
    return { canPost: true, audience: 'private', name: channel.channel };
  }

  async openModal(_trigger: unknown, modal: ModalSpec): Promise<void> {
    this.write(`── ${modal.title} ──`);
    this.modal = { spec: modal, lines: [], field: 0, values: {} };
    this.promptField();
  }

  /** Shows the current field of the open modal: its label and value; one field after another. */
  private promptField(): void {
    const field = this.modal?.spec.fields[this.modal.field];
    if (!field) return;
    this.write(
      `${field.label} (current value below). Type the new value; end with a line holding only "${MODAL_END}":`,
    );
    this.write(field.value);
  }

  private async onLine(raw: string): Promise<void> {
    const handlers = this.handlers!;
    const line = raw.replace(/\r$/, '');
    if (this.modal) {
      if (line.trim() !== MODAL_END) {
        this.modal.lines.push(line);
        return;
      }
      const pending = this.modal;
      const field = pending.spec.fields[pending.field];
      if (field) pending.values[field.id] = pending.lines.join('\n');
      pending.lines = [];
      pending.field += 1;
      if (pending.field < pending.spec.fields.length) {
        this.promptField();
        return;
      }
      this.modal = undefined;
      await handlers.onModalSubmit({
        id: `${this.thread.thread}-modal-${++this.counter}`,
        thread: this.thread,
        user: this.user,
        modalId: pending.spec.id,
        value: pending.spec.value,
        fields: pending.values,
      });
      return;
    }
    const text = line.trim();
    if (!text) return;
    const choice = /^\[?(\d{1,2})\]?$/.exec(text);
    if (choice && this.choices.length) {
      const picked = this.choices[Number(choice[1]) - 1];
      if (!picked) {
        this.write(`threadql (only you)> There is no choice ${choice[1]}.`);
        return;
      }
      await handlers.onButton({
        id: `${this.thread.thread}-click-${++this.counter}`,
        thread: this.thread,
        message: picked.message,
        user: this.user,
        action: picked.button.action,
        value: picked.button.value,
      });
      return;
    }
    await handlers.onMessage({
      id: `${this.thread.thread}-in-${++this.counter}`,
      thread: this.thread,
      user: this.user,
      text,
      receivedAt: new Date(),
    });
  }

  private async print(
    message: PostedMessage,
    reply: Reply,
    updated: boolean,
    prefix?: string,
  ): Promise<void> {
    const width = this.capabilities.codeBlockWidth;
    const out: string[] = [];
    const buttons: Button[] = [];
    if (reply.mentions?.length) out.push(`🔔 ${reply.mentions.map((id) => this.mention(id)).join(', ')}`);
    for (const part of reply.parts) {
      switch (part.type) {
        case 'text':
          out.push(this.text(part.text));
          break;
        case 'context':
          out.push(`  ${this.text(part.text)}`);
          break;
        case 'code':
          out.push(
            part.code
              .split('\n')
              .map((l) => `    ${l}`)
              .join('\n'),
          );
          break;
        case 'table':
          out.push(this.options.formatTable(part.result, part.previewRows, width));
          break;
        case 'image':
          out.push(`  🖼  ${part.alt}: ${await this.save(part.image)}`);
          break;
        case 'file':
          out.push(`  📎 ${await this.save(part.file)}`);
          break;
        case 'buttons':
          buttons.push(...part.buttons);
          break;
      }
    }
    const label =
      prefix ??
      (updated ? `threadql (${message.messageId}, updated)> ` : `threadql (${message.messageId})> `);
    this.write(label + out.join('\n'));
    if (buttons.length) {
      this.choices = buttons.map((button) => ({ button, message }));
      this.write(buttons.map((b, i) => `[${i + 1}] ${b.label}`).join('  '));
    } else if (this.choices.some((c) => c.message.messageId === message.messageId)) {
      this.choices = [];
    }
  }

  private async save(file: FileAttachment): Promise<string> {
    await mkdir(this.options.outputDir, { recursive: true });
    const path = join(this.options.outputDir, `${this.thread.thread}-${++this.counter}-${file.filename}`);
    await writeFile(path, file.data);
    return path;
  }

  private write(text: string): void {
    this.options.output.write(`${text}\n`);
  }

  private text(mrkdwn: string): string {
    return mrkdwnToTerminal(mrkdwn, { ansi: this.options.ansi === true });
  }

  private showPrompt(): void {
    if (this.options.prompt) this.options.output.write(this.options.prompt);
  }
}
