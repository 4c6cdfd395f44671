/**
 * The Slack adapter: a Bolt app (HTTP Events API or Socket Mode, one seam, chosen by the options) that turns
 * mentions, DMs, replies in active threads and `/threadql` into IncomingMessages, clicks and modal submits into
 * ButtonClick / ModalSubmit, and neutral Replies into Block Kit. Every listener acknowledges first and hands the
 * work to the handlers afterwards, so Slack's 3-second ack deadline never depends on the LLM or a database.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type Logger, type webApi } from '@slack/bolt';
import type {
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
import { ConfigError, PlatformError, toUserMessage } from '../../core/errors.ts';
import { memoryOnce, type OnceFn } from './event-dedupe.ts';
import { modalSubmitFromView, modalView, type ViewSubmissionBody } from './modal-view.ts';
import {
  replyToBlocks,
  type PendingFile,
  type ReplyToBlocksOptions,
  type SlackTableRenderers,
} from './reply-to-blocks.ts';
import { registerSlackAssistant, type SlackAssistantOptions } from './slack-assistant.ts';
import { SlackDirectory, type SlackDirectoryOptions } from './slack-directory.ts';
import { slackTableRenderers } from './slack-tables.ts';
import { toPlatformError } from './slack-api-error.ts';
import { channelInfoFrom, channelInfoFromError, type SlackConversation } from './slack-channel-info.ts';
import {
  buttonClickFromAction,
  incomingFromEvent,
  routeMessage,
  slackThread,
  slackUser,
  type BlockActionsBody,
  type ButtonAction,
  type SlackMessageEvent,
  type SlackModalTrigger,
} from './slack-incoming.ts';
import { commandRootText, parseSlashCommand, slashHelpText } from './slash-command.ts';
import { helpText } from '../../core/conversation/chat-grammar.ts';

export interface SlackPlatformOptions {
  /** SLACK_BOT_TOKEN (xoxb-…). */
  botToken: string;
  /** SLACK_SIGNING_SECRET; required in HTTP mode. */
  signingSecret?: string;
  /** SLACK_APP_TOKEN (xapp-…); required in Socket Mode. */
  appToken?: string;
  /** Default: `socket` when an app token is given, else `http`. */
  mode?: 'http' | 'socket';
  /** HTTP mode: port to listen on (0 = any free port); default 3000. */
  port?: number;
  /** HTTP mode: interface to listen on; default all. */
  host?: string;
  /** HTTP mode: path for events, interactivity and the slash command; default `/slack/events`. */
  path?: string;
  /** HTTP mode: answer Slack only after the listener returned (FaaS, deterministic tests); default false. */
  processBeforeResponse?: boolean;
  /** SLACK_API_URL: Web API base (must end with `/`); default Slack's. */
  apiUrl?: string;
  /** The WebClient's retry policy (p-retry options); Slack's default retries for ~30 minutes. */
  retryConfig?: webApi.RetryOptions;
  /** Fail at once on HTTP 429 instead of waiting Retry-After and retrying. */
  rejectRateLimitedCalls?: boolean;
  /** Whether threadql is already in a thread, so a reply there needs no mention. */
  isActiveThread(thread: ThreadRef): Promise<boolean>;
  /** Event dedupe (see redisOnce); default an in-process map, enough for one replica. */
  once?: OnceFn;
  /** How tables become text or table blocks; default the renderers module's tables. */
  tables?: SlackTableRenderers;
  /** Use Slack table blocks where a table fits; default true. */
  tableBlocks?: boolean;
  /** Slash command name; default `/threadql`. */
  commandName?: string;
  /** The help text for `/threadql help` (the engine's, generated from its grammar); default every command. */
  helpText?: () => string;
  /** Slack's AI-app surface (assistant threads); off unless given. */
  assistant?: SlackAssistantOptions;
  /**
   * Where the 👍/👎 on results use Slack's native feedback buttons (context_actions) instead of plain buttons:
   * `assistant-threads` (default: the AI-app surface they were made for), `everywhere`, or `never`.
   */
  nativeFeedback?: 'assistant-threads' | 'everywhere' | 'never';
  /**
   * Approver ids from threadql.yml (approvers.slack): the user-group ids (S…) among them are resolved with
   * usergroups.users.list, and a member gets the group id in UserRef.roles. User ids (U…) need no lookup.
   */
  userGroups?: string[];
  /** Fill UserRef.displayName from users.info (needs users:read); default true. */
  displayNames?: boolean;
  /** Cache and wait limits for the users.info / usergroups.users.list lookups. */
  directory?: Pick<SlackDirectoryOptions, 'ttlMs' | 'failureTtlMs' | 'timeoutMs' | 'maxEntries'>;
  /** HTTP mode: extra GET routes served next to the events endpoint (the operator's /healthz, /readyz, /metrics). */
  routes?: { path: string; handler: (req: IncomingMessage, res: ServerResponse) => void }[];
  logger?: Logger;
  logLevel?: LogLevel;
  now?: () => Date;
}

/** Requests stamped further ahead than this are refused (Bolt refuses only those too far in the past). */
const MAX_FUTURE_SKEW_SECONDS = 5 * 60;

const DEFAULT_PATH = '/slack/events';
/** Assistant threads remembered for native feedback; past this the set starts over (plain buttons still work). */
const MAX_ASSISTANT_THREADS = 5000;

/** ChatPlatform for Slack on Bolt. Construct, then `start(handlers)`; `stop()` drains in-flight work. */
export class SlackPlatform implements ChatPlatform {
  readonly name = 'slack' as const;
  readonly capabilities: PlatformCapabilities = {
    modals: true,
    ephemeral: true,
    ephemeralScope: 'anywhere',
    tableBlocks: true,
    maxMessageChars: 40_000,
    codeBlockWidth: 80,
  };
  readonly mode: 'http' | 'socket';
  private readonly app: App;
  private readonly options: SlackPlatformOptions;
  private readonly once: OnceFn;
  private readonly tables: SlackTableRenderers;
  private readonly now: () => Date;
  private readonly inflight = new Set<Promise<void>>();
  private readonly receiver: HTTPReceiver | SocketModeReceiver;
  private readonly directory: SlackDirectory;
  private readonly assistantThreads = new Set<string>();
  private handlers: PlatformHandlers | undefined;
  private server: Server | undefined;
  private socketClosed = false;

  constructor(options: SlackPlatformOptions) {
    this.options = options;
    this.mode = options.mode ?? (options.appToken ? 'socket' : 'http');
    const problems: string[] = [];
    if (!options.botToken) problems.push('SLACK_BOT_TOKEN is required for Slack (the bot token, xoxb-…)');
    if (this.mode === 'http' && !options.signingSecret) {
      problems.push(
        'SLACK_SIGNING_SECRET is required for Slack HTTP mode (or set SLACK_APP_TOKEN to use Socket Mode)',
      );
    }
    if (this.mode === 'socket' && !options.appToken) {
      problems.push('SLACK_APP_TOKEN (xapp-…, with connections:write) is required for Slack Socket Mode');
    }
    if (problems.length) throw new ConfigError(problems);
    this.once = options.once ?? memoryOnce();
    this.tables = options.tables ?? slackTableRenderers(this.capabilities.codeBlockWidth);
    this.now = options.now ?? (() => new Date());

    const clientOptions: webApi.WebClientOptions = {};
    if (options.apiUrl) clientOptions.slackApiUrl = options.apiUrl;
    if (options.retryConfig) clientOptions.retryConfig = options.retryConfig;
    if (options.rejectRateLimitedCalls !== undefined)
      clientOptions.rejectRateLimitedCalls = options.rejectRateLimitedCalls;
    const logLevel = options.logLevel ?? LogLevel.INFO;
    const logging = { ...(options.logger ? { logger: options.logger } : {}), logLevel };
    // The receiver is the one seam between transports; holding it lets stop() wait for the socket to close.
    this.receiver =
      this.mode === 'socket'
        ? new SocketModeReceiver({
            appToken: options.appToken as string,
            installerOptions: { clientOptions },
            ...logging,
          })
        : new HTTPReceiver({
            signingSecret: options.signingSecret as string,
            endpoints: options.path ?? DEFAULT_PATH,
            processBeforeResponse: options.processBeforeResponse ?? false,
            customRoutes: (options.routes ?? []).map((r) => ({ ...r, method: ['GET'] })),
            ...logging,
          });
    if (this.receiver instanceof HTTPReceiver) this.refuseFutureRequests(this.receiver);
    this.app = new App({
      token: options.botToken,
      receiver: this.receiver,
      // No I/O in the constructor: auth.test runs in start(), where its failure can be reported properly.
      deferInitialization: true,
      clientOptions,
      ...logging,
    });
    this.directory = new SlackDirectory({
      client: this.app.client,
      ...(options.userGroups ? { userGroups: options.userGroups } : {}),
      ...(options.displayNames !== undefined ? { displayNames: options.displayNames } : {}),
      ...options.directory,
      warn: (message) => this.logger.warn(message),
    });
    this.registerListeners();
    if (options.assistant) {
      registerSlackAssistant(this.app, options.assistant, {
        deliver: (event, team, botUserId, prepare) =>
          this.acceptMessage(event, team, botUserId, 'dm', prepare),
        assistantThread: (channel, threadTs) => {
          if (this.assistantThreads.size >= MAX_ASSISTANT_THREADS) this.assistantThreads.clear();
          this.assistantThreads.add(`${channel}:${threadTs}`);
        },
      });
    }
  }

  /** The Bolt logger (the adapter logs through it, so one logger configuration covers both). */
  get logger(): Logger {
    return this.app.logger;
  }

  /** HTTP mode, after start: where the receiver listens (for tests and benches using port 0). */
  get httpAddress(): { host: string; port: number; url: string } | undefined {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) return undefined;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return {
      host: address.address,
      port: address.port,
      url: `http://${host}:${address.port}${this.options.path ?? DEFAULT_PATH}`,
    };
  }

  async start(handlers: PlatformHandlers): Promise<void> {
    this.handlers = handlers;
    try {
      await this.app.init();
    } catch (error) {
      throw toPlatformError('auth.test', error);
    }
    if (this.mode === 'http') {
      const listen = this.options.host
        ? { port: this.options.port ?? 3000, host: this.options.host }
        : (this.options.port ?? 3000);
      this.server = (await this.app.start(listen)) as Server;
    } else {
      try {
        await this.app.start();
      } catch (error) {
        throw toPlatformError('apps.connections.open', error);
      }
    }
  }

  /** True while Slack can reach threadql: the HTTP server listens, or the Socket Mode connection is open. */
  isReady(): boolean {
    if (this.receiver instanceof SocketModeReceiver)
      return this.receiver.client.websocket?.isActive() === true;
    return this.server?.listening === true;
  }

  async stop(): Promise<void> {
    await this.stopAccepting();
    await this.idle();
  }

  /**
   * Stops taking events (closes the HTTP listener or the Socket Mode connection) while replies still go out:
   * the first step of a graceful shutdown, so a load balancer sends new events to another replica.
   */
  async stopAccepting(): Promise<void> {
    if (this.receiver instanceof SocketModeReceiver) {
      if (this.socketClosed) return;
      this.socketClosed = true;
      await this.receiver.client.disconnect();
    } else if (this.server) {
      this.server = undefined;
      await this.app.stop();
    }
  }

  /** Resolves once every piece of work handed to the handlers has settled (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  async post(thread: ThreadRef, reply: Reply): Promise<PostedMessage> {
    const message = replyToBlocks(reply, this.blockOptions(thread));
    const result = await this.call('chat.postMessage', () =>
      this.app.client.chat.postMessage({
        channel: thread.channel,
        thread_ts: thread.thread,
        text: message.text,
        // A reply with only files (a chart on its own) has no blocks; Slack shows the text instead.
        ...(message.blocks.length ? { blocks: message.blocks } : {}),
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    if (message.files.length) await this.uploadFiles(thread, message.files);
    return { thread, messageId: String(result.ts) };
  }

  async update(message: PostedMessage, reply: Reply): Promise<void> {
    const rendered = replyToBlocks(reply, this.blockOptions(message.thread));
    await this.call('chat.update', () =>
      this.app.client.chat.update({
        channel: message.thread.channel,
        ts: message.messageId,
        text: rendered.text,
        blocks: rendered.blocks,
      }),
    );
    // A message cannot gain files by update, so they go into the thread beside it.
    if (rendered.files.length) await this.uploadFiles(message.thread, rendered.files);
  }

  async upload(thread: ThreadRef, files: FileAttachment[], comment?: string): Promise<void> {
    await this.uploadFiles(thread, files, comment);
  }

  async postEphemeral(thread: ThreadRef, user: UserRef, text: string): Promise<void> {
    const rendered = replyToBlocks(
      { parts: [{ type: 'text', text }], fallback: text },
      this.blockOptions(thread),
    );
    await this.call('chat.postEphemeral', () =>
      this.app.client.chat.postEphemeral({
        channel: thread.channel,
        user: user.user,
        thread_ts: thread.thread,
        text: rendered.text,
        blocks: rendered.blocks,
      }),
    );
  }

  /**
   * A whole reply only `user` sees: an ephemeral message in the thread (tables as text: ephemeral messages take
   * no files), and the files (CSV, chart) in a direct message, since ephemeral messages are gone after a reload.
   * When Slack refuses the ephemeral message (the user is not in the channel), all of it goes by direct message.
   */
  async postPrivate(thread: ThreadRef, user: UserRef, reply: Reply): Promise<void> {
    const message = replyToBlocks(reply, { ...this.blockOptions(thread), tableBlocks: false });
    let dmAll = false;
    try {
      await this.call('chat.postEphemeral', () =>
        this.app.client.chat.postEphemeral({
          channel: thread.channel,
          user: user.user,
          thread_ts: thread.thread,
          text: message.text,
          blocks: message.blocks,
        }),
      );
    } catch (error) {
      if (!(error instanceof PlatformError)) throw error;
      this.logger.warn(`threadql: ephemeral reply refused (${error.message}); sending it by direct message`);
      dmAll = true;
    }
    if (!dmAll && message.files.length === 0) return;
    const dm = await this.openDirect(user);
    const where = `<#${thread.channel}>`;
    if (dmAll) {
      const note = `From your question in ${where} (only you see this):`;
      await this.call('chat.postMessage', () =>
        this.app.client.chat.postMessage({
          channel: dm,
          text: `${note} ${message.text}`,
          blocks: [{ type: 'context', elements: [{ type: 'mrkdwn', text: note }] }, ...message.blocks],
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
    }
    await this.uploadFiles(
      { ...thread, channel: dm, thread: '' },
      message.files,
      `Files of your result in ${where} (only you see them).`,
    );
  }

  /** The id of the bot's direct-message channel with `user` (conversations.open; needs im:write). */
  private async openDirect(user: UserRef): Promise<string> {
    const opened = await this.call('conversations.open', () =>
      this.app.client.conversations.open({ users: user.user }),
    );
    const id = opened.channel?.id;
    if (!id) throw new PlatformError('platform_failed', 'Slack did not open a direct message channel.');
    return id;
  }

  /** `<!subteam^S…>` for a user-group id, `<@U…>` for a user id, as threadql.yml lists them. */
  mention(id: string): string {
    return /^S[A-Z0-9]+$/.test(id) ? `<!subteam^${id}>` : `<@${id}>`;
  }

  /** The thread's permalink (chat.getPermalink). */
  async threadLink(thread: ThreadRef): Promise<string | undefined> {
    const result = await this.call('chat.getPermalink', () =>
      this.app.client.chat.getPermalink({ channel: thread.channel, message_ts: thread.thread }),
    );
    return typeof result.permalink === 'string' ? result.permalink : undefined;
  }

  async openModal(trigger: unknown, modal: ModalSpec): Promise<void> {
    const t = trigger as Partial<SlackModalTrigger> | undefined;
    if (!t || typeof t.triggerId !== 'string' || !t.thread) {
      throw new PlatformError(
        'platform_failed',
        'openModal needs the trigger of a Slack button click (ButtonClick.trigger)',
      );
    }
    const view = modalView(modal, t.thread);
    await this.call('views.open', () =>
      this.app.client.views.open({ trigger_id: t.triggerId as string, view }),
    );
  }

  /** A new top-level message in a channel (scheduled reports); files follow in the channel, not in a thread. */
  async postToChannel(channel: ChannelRef, reply: Reply): Promise<PostedMessage> {
    const message = replyToBlocks(reply, this.blockOptions({ ...channel, thread: '' }));
    const result = await this.call('chat.postMessage', () =>
      this.app.client.chat.postMessage({
        channel: channel.channel,
        text: message.text,
        ...(message.blocks.length ? { blocks: message.blocks } : {}),
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    const ts = String(result.ts);
    const thread: ThreadRef = { ...channel, platform: 'slack', thread: ts };
    if (message.files.length) await this.uploadFiles({ ...thread, thread: '' }, message.files);
    return { thread, messageId: ts };
  }

  /** A direct message (conversations.open, then the message and its files in that DM). */
  async postDirect(user: UserRef, reply: Reply): Promise<void> {
    const dm = await this.openDirect(user);
    const message = replyToBlocks(reply, this.blockOptions({ ...user, channel: dm, thread: '' }));
    await this.call('chat.postMessage', () =>
      this.app.client.chat.postMessage({
        channel: dm,
        text: message.text,
        ...(message.blocks.length ? { blocks: message.blocks } : {}),
        unfurl_links: false,
      }),
    );
    if (message.files.length) await this.uploadFiles({ ...user, channel: dm, thread: '' }, message.files);
  }

  /** Whether the bot can post into a channel and who reads it (conversations.info). */
  async describeChannel(channel: ChannelRef): Promise<ChannelInfo> {
    try {
      const info = await this.app.client.conversations.info({ channel: channel.channel });
      return channelInfoFrom((info.channel ?? {}) as SlackConversation);
    } catch (error) {
      const known = channelInfoFromError(error);
      if (known) return known;
      throw toPlatformError('conversations.info', error);
    }
  }

  // ---- incoming ----

  /**
   * Bolt checks the signed timestamp only against the past (replays of old requests); a request stamped more than
   * five minutes ahead is refused here too, so a captured signature cannot be held for later use.
   */
  private refuseFutureRequests(receiver: HTTPReceiver): void {
    const next = receiver.requestListener;
    receiver.requestListener = (req, res) => {
      const stamp = Number(req.headers['x-slack-request-timestamp']);
      const nowSeconds = Math.floor(this.now().getTime() / 1000);
      if (Number.isFinite(stamp) && stamp - nowSeconds > MAX_FUTURE_SKEW_SECONDS) {
        this.logger.warn(
          `threadql: refused a Slack request stamped ${stamp - nowSeconds} s in the future (${req.url ?? ''})`,
        );
        res.writeHead(401).end();
        return;
      }
      next(req, res);
    };
  }

  private registerListeners(): void {
    this.app.event('app_mention', async ({ event, body, context }) => {
      this.onMessageEvent(
        event as unknown as SlackMessageEvent,
        body.team_id,
        context.teamId,
        context.botUserId,
        context.retryNum,
      );
    });
    this.app.message(async ({ message, body, context }) => {
      this.onMessageEvent(
        message as unknown as SlackMessageEvent,
        body.team_id,
        context.teamId,
        context.botUserId,
        context.retryNum,
      );
    });
    this.app.action(/^threadql:/, async ({ ack, body, action }) => {
      await ack();
      if (body.type !== 'block_actions') return;
      const click = buttonClickFromAction(
        body as unknown as BlockActionsBody,
        action as unknown as ButtonAction,
      );
      if (click)
        this.track('button', async (h) =>
          h.onButton({ ...click, user: await this.directory.enrich(click.user) }),
        );
    });
    this.app.view({ callback_id: /^threadql:/, type: 'view_submission' }, async ({ ack, body }) => {
      await ack();
      const submit = modalSubmitFromView(body as unknown as ViewSubmissionBody);
      if (submit)
        this.track('modal', async (h) =>
          h.onModalSubmit({ ...submit, user: await this.directory.enrich(submit.user) }),
        );
      else this.logger.warn('threadql: ignored a modal submit without valid private_metadata');
    });
    const commandName = this.options.commandName ?? '/threadql';
    this.app.command(commandName, async ({ ack, command, respond, context }) => {
      const parsed = parseSlashCommand(command.text ?? '');
      if (parsed.kind === 'help') {
        await ack({
          response_type: 'ephemeral',
          text: slashHelpText(commandName, this.options.helpText?.() ?? helpText('slack')),
        });
        return;
      }
      await ack();
      const team = context.teamId ?? command.team_id;
      this.track('slash command', async (h) => {
        let rootTs: string;
        try {
          const root = await this.call('chat.postMessage', () =>
            this.app.client.chat.postMessage({
              channel: command.channel_id,
              text: commandRootText(parsed.text, command.user_id, commandName),
              unfurl_links: false,
            }),
          );
          rootTs = String(root.ts);
        } catch (error) {
          // The channel may not have the bot in it; the command's response_url still reaches the user privately.
          await respond({ response_type: 'ephemeral', text: toUserMessage(error) });
          throw error;
        }
        await h.onMessage({
          id: rootTs,
          thread: slackThread(team, command.channel_id, rootTs),
          user: await this.directory.enrich(slackUser(team, command.user_id, command.user_name)),
          text: parsed.text,
          receivedAt: this.now(),
        });
      });
    });
  }

  private onMessageEvent(
    event: SlackMessageEvent,
    bodyTeam: string | undefined,
    contextTeam: string | undefined,
    botUserId: string | undefined,
    retryNum: number | undefined,
  ): void {
    const route = routeMessage(event, botUserId);
    if (route.kind === 'ignore') {
      this.logger.debug(`threadql: ignored message ${event.ts}: ${route.reason}`);
      return;
    }
    if (retryNum) this.logger.debug(`threadql: Slack retry #${retryNum} of message ${event.ts}`);
    const team = contextTeam ?? bodyTeam ?? event.team ?? 'unknown';
    this.acceptMessage(event, team, botUserId, route.kind);
  }

  /** Dedupe, the active-thread check and the handler all run after the listener returned, i.e. after the ack. */
  private acceptMessage(
    event: SlackMessageEvent,
    team: string,
    botUserId: string | undefined,
    kind: string,
    prepare?: () => Promise<void>,
  ): void {
    const receivedAt = this.now();
    this.track('message', async (h) => {
      // Keyed by the message, not the event id: a retry repeats both, and the key also absorbs duplicates
      // across event types for the same message.
      if (!(await this.once(`${team}:${event.channel}:${event.ts}`))) return;
      const message = incomingFromEvent(event, team, botUserId, receivedAt);
      if (kind === 'thread_reply' && !(await this.isActive(message.thread))) return;
      const [user] = await Promise.all([this.directory.enrich(message.user), prepare?.()]);
      await h.onMessage({ ...message, user });
    });
  }

  private async isActive(thread: ThreadRef): Promise<boolean> {
    try {
      return await this.options.isActiveThread(thread);
    } catch (error) {
      this.logger.warn(`threadql: isActiveThread failed; treating the thread as inactive: ${String(error)}`);
      return false;
    }
  }

  private track(label: string, work: (handlers: PlatformHandlers) => Promise<void>): void {
    const handlers = this.handlers;
    if (!handlers) return;
    const task: Promise<void> = Promise.resolve()
      .then(() => work(handlers))
      .catch((error: unknown) => {
        // The adapter keeps serving: a failed turn is the handler's to report in its thread; here it is logged.
        this.logger.error(
          `threadql: ${label} handling failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      })
      .finally(() => this.inflight.delete(task));
    this.inflight.add(task);
  }

  // ---- outgoing helpers ----

  private blockOptions(thread: ThreadRef): ReplyToBlocksOptions {
    const feedback = this.options.nativeFeedback ?? 'assistant-threads';
    const nativeFeedback =
      feedback === 'everywhere' ||
      (feedback === 'assistant-threads' && this.assistantThreads.has(`${thread.channel}:${thread.thread}`));
    return {
      tables: this.tables,
      tableBlocks: this.options.tableBlocks ?? true,
      nativeFeedback,
      mention: (id) => this.mention(id),
    };
  }

  private async uploadFiles(thread: ThreadRef, files: PendingFile[], comment?: string): Promise<void> {
    if (files.length === 0) return;
    const uploads = files.map((f) => ({
      file: f.data,
      filename: f.filename,
      title: f.title ?? f.filename,
      ...(f.altText ? { alt_text: f.altText } : {}),
    }));
    await this.call('files.uploadV2', () =>
      this.app.client.filesUploadV2({
        channel_id: thread.channel,
        ...(thread.thread ? { thread_ts: thread.thread } : {}),
        ...(comment ? { initial_comment: comment } : {}),
        file_uploads: uploads,
      }),
    );
  }

  private async call<T>(method: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toPlatformError(method, error);
    }
  }
}
