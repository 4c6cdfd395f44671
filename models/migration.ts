import { createHash } from 'node:crypto';
import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { ValidationError } from '../core/errors.ts';
import {
  defineStateMachine,
  guardStatus,
  statusPaths,
  transition,
  type StatusFields,
  type TransitionOptions,
} from './state-machine.ts';
import type { StateTransitionModel } from './state-transition.ts';
import { modelOn } from './model-on.ts';

/**
 * pending → applied | failed; applied → rolled_back; failed → pending (retry after a fix);
 * rolled_back → pending: a rolled-back migration may be re-applied, but only through a fresh pending state, so
 * it needs a new approval like any other change. `applied` is never re-entered directly.
 */
export const migrationStatus = defineStateMachine({
  entity: 'Migration',
  table: {
    pending: ['applied', 'failed'],
    applied: ['rolled_back'],
    failed: ['pending'],
    rolled_back: ['pending'],
  },
  initial: ['pending'],
  stamps: { applied: 'appliedAt', rolled_back: 'rolledBackAt', failed: 'failedAt' },
});
export type MigrationStatus = (typeof migrationStatus.states)[number];

/** One schema change with its up and down scripts; `checksum` is SHA-256 (hex) of `upScript`. */
export interface MigrationFields extends StatusFields<MigrationStatus> {
  _id: Types.ObjectId;
  schemaDefinition: Types.ObjectId;
  connection: Types.ObjectId | null;
  /** Unique per schema, e.g. `20250101_001` or `V3`. */
  version: string;
  description: string;
  upScript: string;
  downScript: string;
  checksum: string;
  appliedAt: Date | null;
  rolledBackAt: Date | null;
  failedAt: Date | null;
  /** User-safe error of the last failed apply or rollback. */
  error: string | null;
  approval: Types.ObjectId | null;
  approvedBy: string[];
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type MigrationModel = Model<MigrationFields>;

/** SHA-256 hex of a script, as Migration.checksum stores it. */
export function scriptChecksum(script: string): string {
  return createHash('sha256').update(script, 'utf8').digest('hex');
}

const script = {
  type: String,
  required: true,
  validate: { validator: (v: string) => v.trim().length > 0, message: 'must not be empty' },
};

export const migrationSchema = new Schema<MigrationFields>(
  {
    schemaDefinition: { type: Schema.Types.ObjectId, ref: 'SchemaDefinition', required: true },
    connection: { type: Schema.Types.ObjectId, ref: 'DatabaseConnection', default: null },
    version: {
      type: String,
      required: true,
      trim: true,
      match: [/^[\w.-]{1,64}$/, 'expected letters, digits, _ . -'],
    },
    description: { type: String, required: true, trim: true, maxlength: 500 },
    upScript: script,
    downScript: script,
    checksum: { type: String, required: true, match: [/^[0-9a-f]{64}$/, 'expected a SHA-256 hex digest'] },
    ...statusPaths(migrationStatus),
    appliedAt: { type: Date, default: null },
    rolledBackAt: { type: Date, default: null },
    failedAt: { type: Date, default: null },
    error: { type: String, default: null, maxlength: 2000 },
    approval: { type: Schema.Types.ObjectId, ref: 'ApprovalRequest', default: null },
    approvedBy: { type: [String], default: [] },
    createdBy: { type: String, default: null },
  },
  { collection: 'migrations', timestamps: true, versionKey: false },
);
migrationSchema.index({ schemaDefinition: 1, version: 1 }, { unique: true });
migrationSchema.pre('validate', function () {
  if (typeof this.upScript !== 'string') return;
  const expected = scriptChecksum(this.upScript);
  if (!this.checksum) this.checksum = expected;
  else if (this.checksum !== expected) this.invalidate('checksum', 'checksum does not match upScript');
});
// The checksum certifies what was approved; scripts change only by creating a new migration.
migrationSchema.pre(['updateOne', 'updateMany', 'findOneAndUpdate'], function () {
  const update = JSON.stringify(this.getUpdate() ?? {});
  if (/"(upScript|downScript|checksum)"/.test(update)) {
    throw new ValidationError(
      'Migration scripts and checksum are immutable; create a new migration version instead',
    );
  }
});
guardStatus(migrationSchema, migrationStatus);

/** The Migration model on a given connection. */
export function migrationModel(connection: Connection): MigrationModel {
  return modelOn<MigrationFields>(connection, 'Migration', migrationSchema);
}

/** Moves a migration through its lifecycle; atomic, see transition(). */
export function transitionMigration(
  models: { Migration: MigrationModel; StateTransition: StateTransitionModel },
  id: Types.ObjectId | string,
  to: MigrationStatus,
  options: TransitionOptions<MigrationStatus> = {},
): Promise<MigrationFields> {
  const set = to === 'applied' || to === 'pending' ? { error: null, ...options.set } : options.set;
  return transition(models.Migration, models.StateTransition, migrationStatus, id as Types.ObjectId, to, {
    ...options,
    set,
  });
}
