/**
 * Runs a confirmed read and delivers its result: the table and CSV first, then the chart in a message of its own
 * (the thread never waits on drawing), then the full CSV when the preview was capped. Results come masked from the
 * connection's driver; where they go follows the connection's visibility: the thread, or only the asker (with a
 * note in the thread). The card says who ran it and what happened; history and audit record the outcome.
 */
import { toUserMessage } from '../../errors.ts';
import type { QueryResult } from '../../db/database-dialect.ts';
import { chartReply, errorReply, resultReply, settledCardReply } from '../build-replies.ts';
import {
  parseUserKey,
  type FileAttachment,
  type PostedMessage,
  type Reply,
  type UserRef,
} from '../chat-platform.ts';
import type { Confirmation } from '../confirmation-store.ts';
import type { ConnectionProvider, EngineSettings, ResultRenderers } from '../engine-ports.ts';
import { describeError, type Turn } from '../turn.ts';
import type { Governance } from '../../governance/governance.ts';
import { privateDeliveryNote } from '../../governance/delivery-policy.ts';
import { PlatformError } from '../../errors.ts';

export interface ReadRunnerDeps {
  connections: ConnectionProvider;
  governance: Governance;
  renderers: ResultRenderers;
  settings: EngineSettings;
}

export class ReadRunner {
  private readonly deps: ReadRunnerDeps;

  constructor(deps: ReadRunnerDeps) {
    this.deps = deps;
  }

  /** Runs the confirmed read (already taken from the store) and posts the outcome; never throws. */
  async run(turn: Turn, confirmation: Confirmation, card: PostedMessage): Promise<void> {
    const { connections, renderers, settings } = this.deps;
    const limits = settings.limits;
    const who = turn.who;
    await turn.update(card, settledCardReply(confirmation, `▶️ Running… (started by ${who})`));
    try {
      const outlet = await this.outlet(turn, confirmation);
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
      const rows = `${result.rowCount.toLocaleString('en-US')}${result.truncated ? '+' : ''} rows`;
      await turn.update(
        card,
        settledCardReply(confirmation, `✅ Run by ${who} · ${rows} in ${Math.round(result.durationMs)} ms`),
      );
      await turn.history(confirmation.sessionId, {
        type: 'query',
        userInput: confirmation.question,
        generatedSql: confirmation.sql,
        status: 'success',
        resultCount: result.rowCount,
        executionMs: result.durationMs,
      });
      await turn.audit('query.run', { rows: result.rowCount }, confirmation.sqlHash);
      await this.postChart(turn, outlet, confirmation, result, `${base}-chart.png`);
      if (result.truncated) await this.uploadFullCsv(turn, outlet, confirmation, base);
    } catch (error) {
      await turn.update(card, settledCardReply(confirmation, `❌ Failed (started by ${who})`));
      await turn.post(errorReply(toUserMessage(error)));
      await turn.history(confirmation.sessionId, {
        type: 'query',
        userInput: confirmation.question,
        generatedSql: confirmation.sql,
        status: 'error',
        error: describeError(error),
      });
      await turn.audit('query.failed', describeError(error), confirmation.sqlHash);
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
