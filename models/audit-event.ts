import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { refuseUpdates } from './refuse-updates.ts';
import { modelOn } from './model-on.ts';

/** Who did what, where, with which SQL hash. Append-only: updates are refused. Never holds secrets or results. */
export interface AuditEventFields {
  _id: Types.ObjectId;
  at: Date;
  /** User key, or `system` for jobs. */
  actor: string;
  /** Dotted verb, e.g. `query.run`, `approval.approve`, `migration.apply`, `connection.create`. */
  action: string;
  outcome: 'success' | 'failure' | 'denied';
  workspace: string | null;
  thread: string | null;
  connection: Types.ObjectId | null;
  sqlHash: string | null;
  /** The entity acted on, e.g. `ApprovalRequest:66f…`. */
  target: string | null;
  /** Non-secret structured detail (row counts, durations, error codes). */
  detail: Record<string, unknown>;
}

export type AuditEventModel = Model<AuditEventFields>;

export const auditEventSchema = new Schema<AuditEventFields>(
  {
    at: { type: Date, required: true, default: () => new Date() },
    actor: { type: String, required: true },
    action: {
      type: String,
      required: true,
      match: [/^[a-z_]+(\.[a-z_]+)+$/, 'expected a dotted verb like query.run'],
    },
    outcome: { type: String, enum: ['success', 'failure', 'denied'], required: true },
    workspace: { type: String, default: null },
    thread: { type: String, default: null },
    connection: { type: Schema.Types.ObjectId, ref: 'DatabaseConnection', default: null },
    sqlHash: { type: String, default: null, match: [/^[0-9a-f]{64}$/, 'expected a SHA-256 hex digest'] },
    target: { type: String, default: null },
    detail: { type: Schema.Types.Mixed, default: () => ({}) },
  },
  { collection: 'auditevents', versionKey: false, minimize: false },
);
auditEventSchema.index({ workspace: 1, at: -1 });
auditEventSchema.index({ actor: 1, at: -1 });
auditEventSchema.index({ sqlHash: 1 });
refuseUpdates(auditEventSchema, 'AuditEvent');

/** The AuditEvent model on a given connection. */
export function auditEventModel(connection: Connection): AuditEventModel {
  return modelOn<AuditEventFields>(connection, 'AuditEvent', auditEventSchema);
}
