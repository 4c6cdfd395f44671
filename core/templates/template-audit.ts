import { createHash } from 'node:crypto';
import type { AuditEventModel } from '../../models/audit-event.ts';

export interface TemplateAuditEvent {
  /** Dotted verb: `template.save`, `schedule.pause`, `schedule.run`, … */
  action: string;
  /** User key, or `system` / `schedule:<id>` for the scheduler. */
  actor: string;
  outcome?: 'success' | 'failure' | 'denied';
  workspace: string;
  thread?: string | null;
  /** The statement the event concerns; only its SHA-256 is stored. */
  sql?: string;
  /** `QueryTemplate:<id>` or `Schedule:<id>`. */
  target: string;
  detail?: Record<string, unknown>;
}

/** Appends one AuditEvent for a template or schedule change or run (never the SQL itself, never a result). */
export async function auditTemplateEvent(
  AuditEvent: AuditEventModel,
  event: TemplateAuditEvent,
  at: Date,
): Promise<void> {
  await AuditEvent.create({
    at,
    actor: event.actor,
    action: event.action,
    outcome: event.outcome ?? 'success',
    workspace: event.workspace,
    thread: event.thread ?? null,
    sqlHash: event.sql ? createHash('sha256').update(event.sql, 'utf8').digest('hex') : null,
    target: event.target,
    detail: event.detail ?? {},
  });
}
