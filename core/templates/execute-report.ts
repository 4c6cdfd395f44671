/**
 * The report of one scheduled run: check the channel may still get this connection's results, bind the template's
 * values, classify the statement again, run it, render the CSV (and a chart when one fits) and post it through the
 * ReportSink. Anything retrying cannot fix is a FinalFailure.
 */
import type { Limits } from '../../config/config-file.ts';
import type { QueryTemplateFields, TemplateSchedule } from '../../models/query-template.ts';
import type { ChannelRef, FileAttachment } from '../conversation/chat-platform.ts';
import type { ConnectionProvider, ResultRenderers } from '../conversation/engine-ports.ts';
import type { Logger } from '../logger.ts';
import { bindTemplate } from './bind-template.ts';
import { reportReply, type ReportContext } from './compose-report.ts';
import { FinalFailure } from './final-failure.ts';
import type { ParameterValue } from './parameter-values.ts';
import type { ReportSink } from './report-sink.ts';

export interface ExecuteReportDeps {
  connections: Pick<ConnectionProvider, 'resolveByName' | 'classify' | 'allowedFor'>;
  renderers: Pick<ResultRenderers, 'csv' | 'chart'>;
  sink: ReportSink;
  limits: Limits;
  /**
   * Checked before each run: why a report of `connectionName` may not go into `channel` now (the bot was removed,
   * the channel went public for a sensitive connection), or undefined when it may.
   */
  reportCheck?: (connectionName: string, channel: ChannelRef) => Promise<string | undefined>;
  logger: Logger;
}

/** One run's template, schedule and bound values, with whether it is late and when it started. */
export interface ReportRun {
  template: QueryTemplateFields;
  schedule: TemplateSchedule;
  context: ReportContext;
  values: Record<string, ParameterValue>;
  late: boolean;
  now: Date;
}

/** Runs the template and posts the report; returns the row count and the statement's duration. */
export async function executeReport(
  deps: ExecuteReportDeps,
  run: ReportRun,
): Promise<{ rows: number; durationMs: number }> {
  const { connections, renderers, limits, sink } = deps;
  const { template, schedule, context, values, late, now } = run;
  const channel: ChannelRef = schedule.target;
  const allowed = connections.allowedFor({ ...channel, thread: '' });
  if (!allowed.some((name) => name.toLowerCase() === template.connectionName.toLowerCase())) {
    throw new FinalFailure(
      'connection_not_allowed',
      `the channel may no longer use the connection "${template.connectionName}" (threadql.yml channel bindings).`,
    );
  }
  const refusal = await deps.reportCheck?.(template.connectionName, channel);
  if (refusal) throw new FinalFailure('permission_denied', refusal);
  const bound = await bindTemplate(template.databaseType, template.sql, template.parameters, values);
  // Classified again at every run: the classifier (or the template) may have changed since it was saved.
  const verdict = await connections.classify(template.connectionName, bound.query);
  if (verdict.verdict !== 'read' || verdict.statements.length !== 1) {
    throw new FinalFailure(
      'needs_approval',
      `the statement is now classified as ${verdict.verdict}, so it was not run (${verdict.reasons.join('; ') || 'not a single read'}).`,
    );
  }
  const { driver } = await connections.resolveByName(template.connectionName);
  const result = await driver.executeRead(bound.query, {
    timeoutMs: limits.statementTimeoutMs,
    maxRows: limits.maxRows,
    params: bound.params,
  });
  const base = `${template.name}-${new Date(context.tick).toISOString().slice(0, 16).replace(/[:T]/g, '-')}`;
  // A capped result is streamed again in full for the CSV, like a thread's result.
  const csv = await renderers.csv(
    result.truncated
      ? await driver.streamRead(bound.query, {
          timeoutMs: limits.statementTimeoutMs * 4,
          maxRows: Number.MAX_SAFE_INTEGER,
          params: bound.params,
        })
      : result,
    { filename: `${base}.csv`, maxBytes: limits.csvMaxBytes },
  );
  let chart: FileAttachment | undefined;
  try {
    const image = await renderers.chart(result, { title: template.question || template.name });
    if (image)
      chart = {
        filename: `${base}-chart.png`,
        mimeType: 'image/png',
        data: image.png,
        title: template.name,
      };
  } catch (error) {
    deps.logger.warn({ err: error, template: template.name }, 'report chart failed; posting without it');
  }
  await sink.postToChannel(
    channel,
    reportReply({
      ...context,
      result,
      previewRows: limits.previewRows,
      csv: csv.file,
      csvCapped: csv.capped,
      ...(chart ? { chart } : {}),
      late,
      ranAt: now,
    }),
  );
  return { rows: result.rowCount, durationMs: result.durationMs };
}
