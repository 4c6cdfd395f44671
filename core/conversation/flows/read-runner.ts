/**
 * Runs a confirmed read and delivers its result: the table and CSV first, then the chart in a message of its own
 * (the thread never waits on drawing), then the full CSV when the preview was capped. Results come masked from the
 * connection's driver; where they go follows the connection's visibility: the thread, or only the asker (with a
 * note in the thread). The card says who ran it and what happened; history and audit record the outcome.
 */
import { toUserMessage } from '../../errors.ts';
import type { QueryResult } from '../../db/database-dialect.ts';
import { chartReply, confirmCardReply, errorReply, resultReply, settledCardReply } from '../build-replies.ts';
import {
  parseUserKey,
  type FileAttachment,
  type PostedMessage,
  type Reply,
  type UserRef,
} from '../chat-platform.ts';
import type { Confirmation, ConfirmationStore } from '../confirmation-store.ts';
import type {
  ConnectionProvider,
  EngineSettings,
  HistoryEntryInput,
  ResultRenderers,
} from '../engine-ports.ts';
import { describeError, type Turn } from '../turn.ts';
import type { Governance } from '../../governance/governance.ts';
import { privateDeliveryNote } from '../../governance/delivery-policy.ts';
import { PlatformError } from '../../errors.ts';

export interface ReadRunnerDeps {
  connections: ConnectionProvider;
  governance: Governance;
  renderers: ResultRenderers;
  settings: EngineSettings;
  /** Fresh tokens for cards a shutdown interrupted (Run again); without it such cards ask to try again. */
  confirmations?: ConfirmationStore;
  /** Counts a template's use when a run of it succeeds (templates keep usageCount and lastUsedAt). */
  templateUses?: { record(templateId: string, actorKey: string, at: Date): Promise<void> };
}

export class ReadRunner {
  private readonly deps: ReadRunnerDeps;

  constructor(deps: ReadRunnerDeps) {
    this.deps = deps;
  }

  /**
   * Runs the confirmed read (already taken from the store) and posts the outcome; never throws. The outcome is
   * recorded (history and audit, kept in the outbox while the store is down) as soon as it is known, before the
   * result is delivered, so the record and the card agree with what happened on the database whatever fails later.
   */
  async run(turn: Turn, confirmation: Confirmation, card: PostedMessage): Promise<void> {
    const { connections, settings } = this.deps;
    const limits = settings.limits;
    await turn
      .update(card, settledCardReply(confirmation, `▶️ Running… (started by ${turn.who})`))
      .catch((err: unknown) => turn.logger.warn({ err }, 'could not mark the card running'));
    let result: QueryResult;
    let outlet: Outlet;
    try {
      outlet = await this.outlet(turn, confirmation);
      const { driver } = await connections.resolveByName(confirmation.connectionName);
      result = await driver.executeRead(confirmation.sql, {
        timeoutMs: limits.statementTimeoutMs,
        maxRows: limits.maxRows,
        ...(turn.signal ? { signal: turn.signal } : {}),
        ...(confirmation.params ? { params: confirmation.params } : {}),
      });
    } catch (error) {
      if (turn.interrupted) await this.interrupted(turn, confirmation, card, error);
      else await this.failed(turn, confirmation, card, error);
      return;
    }
    await this.record(turn, confirmation, 'query.run', {
      status: 'success',
      resultCount: result.rowCount,
      executionMs: result.durationMs,
    });
    if (confirmation.template) {
      await this.deps.templateUses
        ?.record(confirmation.template.id, turn.userKey, settings.now())
        .catch((error: unknown) => turn.logger.warn({ err: error }, 'could not count a template use'));
    }
    await this.deliver(turn, outlet, confirmation, card, result);
  }

  /** Records a run's outcome; a store outage never loses it (outbox) and never changes what the card says. */
  private async record(
    turn: Turn,
    confirmation: Confirmation,
    action: string,
    outcome: Pick<HistoryEntryInput, 'status' | 'resultCount' | 'executionMs' | 'error'>,
  ): Promise<void> {
    const entry: HistoryEntryInput = {
      type: 'query',
      userInput: confirmation.question,
      userKey: turn.userKey,
      generatedSql: confirmation.sql,
      ...outcome,
    };
    try {
      // Handed to the session store before the result goes out: written behind the reply, kept in the durable
      // outbox while the store is down.
      await turn.services.sessions.appendHistory(confirmation.sessionId, entry);
      const detail =
        outcome.status === 'success'
          ? {
              rows: outcome.resultCount,
              ...(confirmation.template ? { template: confirmation.template.name } : {}),
            }
          : (outcome.error ?? { code: 'internal' });
      await turn.audit(action, detail, confirmation.sqlHash);
    } catch (err) {
      turn.logger.error({ err, action }, 'could not record the outcome of a run');
    }
  }

  /** The result where it goes: table and CSV, the card settled, then chart and the full CSV. */
  private async deliver(
    turn: Turn,
    outlet: Outlet,
    confirmation: Confirmation,
    card: PostedMessage,
    result: QueryResult,
  ) {
    const { renderers, settings } = this.deps;
    const limits = settings.limits;
    const rows = `${result.rowCount.toLocaleString('en-US')}${result.truncated ? '+' : ''} rows`;
    const ran = `✅ Run by ${turn.who} · ${rows} in ${Math.round(result.durationMs)} ms`;
    const base = `threadql-${new Date(settings.now()).toISOString().slice(0, 10)}-${confirmation.turn}`;
    try {
      // Small results: the CSV comes from the rows in hand. Capped results: streamed again in full, after the preview.
      const csv = result.truncated
        ? undefined
        : await renderers.csv(result, { filename: `${base}.csv`, maxBytes: limits.csvMaxBytes });
      await outlet.post(
        resultReply({
          confirmation,
          result,
          previewRows: limits.previewRows,
          ...(csv ? { csv: csv.file } : {}),
          turn: confirmation.turn,
        }),
      );
      if (outlet.note) await turn.say(outlet.note);
      await turn.update(card, settledCardReply(confirmation, ran));
    } catch (error) {
      // The query ran and is recorded: the card says so, and the thread hears what went wrong showing it.
      turn.outcome = 'delivery_failed';
      await turn
        .update(card, settledCardReply(confirmation, `${ran} · the result could not be shown`))
        .catch(() => undefined);
      await turn
        .post(errorReply(`The query ran, but I could not show its result: ${toUserMessage(error)}`))
        .catch((err: unknown) => turn.logger.warn({ err }, 'could not report a delivery failure'));
      return;
    }
    await this.postChart(turn, outlet, confirmation, result, `${base}-chart.png`);
    if (result.truncated) await this.uploadFullCsv(turn, outlet, confirmation, base);
  }

  /** The read failed on the database (or could not be delivered where it must go): card and thread say why. */
  private async failed(turn: Turn, confirmation: Confirmation, card: PostedMessage, error: unknown) {
    turn.outcome = describeError(error).code;
    await this.record(turn, confirmation, 'query.failed', { status: 'error', error: describeError(error) });
    await turn
      .update(card, settledCardReply(confirmation, `❌ Failed (started by ${turn.who})`))
      .catch((err: unknown) => turn.logger.warn({ err }, 'could not settle the card'));
    await turn
      .post(errorReply(toUserMessage(error)))
      .catch((err: unknown) => turn.logger.warn({ err }, 'could not report a failed run'));
  }

  /**
   * A shutdown cancelled the read: recorded as interrupted, and the card offers Run again (a fresh token, so
   * another replica or the restarted one can run it); when no token can be made, the card asks to try again.
   */
  private async interrupted(turn: Turn, confirmation: Confirmation, card: PostedMessage, error: unknown) {
    turn.outcome = 'interrupted';
    const why = { code: 'interrupted', message: 'interrupted by a restart' };
    turn.logger.info({ err: error }, 'a run was interrupted by a shutdown');
    await this.record(turn, confirmation, 'query.interrupted', { status: 'error', error: why });
    const note = `⏹ Interrupted by a restart (started by ${turn.who}) — press Run again`;
    try {
      if (!this.deps.confirmations) throw new Error('no confirmation store to offer Run again');
      const { id: _id, sqlHash: _hash, expiresAt: _expires, ...same } = confirmation;
      const fresh = await this.deps.confirmations.create({ ...same, messageId: card.messageId });
      const reply = confirmCardReply({ confirmation: fresh });
      const buttons = reply.parts.at(-1)!;
      await turn.update(card, {
        ...reply,
        parts: [...reply.parts.slice(0, -1), { type: 'context', text: note }, buttons],
      });
    } catch {
      await turn
        .update(
          card,
          settledCardReply(confirmation, `⏹ Interrupted by a restart (started by ${turn.who}) — ask again`),
        )
        .catch((err: unknown) => turn.logger.warn({ err }, 'could not mark the card interrupted'));
    }
  }

  /** Draws the chart that suits the result (none when nothing suits) and posts it; a failure is logged, not shown. */
  private async postChart(
    turn: Turn,
    outlet: Outlet,
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
        await outlet.post(
          chartReply(
            { filename, mimeType: 'image/png', data: chart.png, title: confirmation.question },
            confirmation.question,
          ),
        );
    } catch (error) {
      turn.logger.warn({ err: error }, 'chart rendering failed');
    }
  }

  /** The preview was capped: stream the whole result into a CSV (itself size-capped) and attach it. */
  private async uploadFullCsv(turn: Turn, outlet: Outlet, confirmation: Confirmation, base: string) {
    const { connections, renderers, settings } = this.deps;
    try {
      const { driver } = await connections.resolveByName(confirmation.connectionName);
      const stream = await driver.streamRead(confirmation.sql, {
        ...(confirmation.params ? { params: confirmation.params } : {}),
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
      await outlet.upload([csv.file], note);
    } catch (error) {
      await turn.post(errorReply(`The full CSV could not be produced: ${toUserMessage(error)}`));
    }
  }

  /**
   * Where this run's results go: the thread, or (visibility `requester`, or `auto` for a sensitive connection in
   * a public or shared channel) only the person who asked, with a note left in the thread.
   */
  private async outlet(turn: Turn, confirmation: Confirmation): Promise<Outlet> {
    const delivery = await this.deps.governance.delivery(
      turn.platform,
      turn.thread,
      confirmation.connectionName,
    );
    if (delivery.to === 'thread') {
      return {
        post: async (reply) => void (await turn.post(reply)),
        upload: (files, note) => turn.platform.upload(turn.thread, files, note),
      };
    }
    const { platform, thread } = turn;
    if (!platform.postPrivate) {
      throw new PlatformError(
        'platform_failed',
        `Results of *${confirmation.connectionName}* go only to the person who asked, and this platform cannot send them privately.`,
      );
    }
    const asker: UserRef =
      turn.userKey === confirmation.askerKey ? turn.user : parseUserKey(confirmation.askerKey);
    const send = (reply: Reply) => platform.postPrivate!(thread, asker, reply);
    const name = asker.displayName ?? (asker === turn.user ? turn.who : 'the person who asked');
    return {
      post: send,
      upload: (files, note) => send(filesReply(files, note)),
      note: privateDeliveryNote(delivery, name),
    };
  }
}

/** Where a run's replies go. */
interface Outlet {
  post(reply: Reply): Promise<void>;
  upload(files: FileAttachment[], note: string): Promise<void>;
  /** Said in the thread once the result went elsewhere. */
  note?: string;
}

function filesReply(files: FileAttachment[], note: string): Reply {
  return {
    parts: [{ type: 'text', text: note }, ...files.map((file) => ({ type: 'file' as const, file }))],
    fallback: note,
  };
}
