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
import type { ThreadRef } from '../core/conversation/chat-platform.ts';
import { threadRefSchema } from './thread-ref-schema.ts';
import { modelOn } from './model-on.ts';

/**
 * pending → applied | failed; applied → rolled_back; failed → pending (retry after a fix);
 * rolled_back → pending: a rolled-back migration may be re-applied, but only through a fresh pending state, so
 * it needs a new approval like any other change. `applied` is never re-entered directly.
 * pending | failed → cancelled: the proposer (or anyone) drops a migration that never ran; final.
 */
export const migrationStatus = defineStateMachine({
  entity: 'Migration',
  table: {
    pending: ['applied', 'failed', 'cancelled'],
    applied: ['rolled_back'],
    failed: ['pending', 'cancelled'],
    rolled_back: ['pending'],
    cancelled: [],
  },
  initial: ['pending'],
  stamps: {
    applied: 'appliedAt',
    rolled_back: 'rolledBackAt',
    failed: 'failedAt',
    cancelled: 'cancelledAt',
  },
});
export type MigrationStatus = (typeof migrationStatus.states)[number];

/** What verification found (core/migrations/verify-migration.ts); stored so the card can be redrawn. */
export interface MigrationVerification {
  /** `failed` blocks approval until the scripts are fixed; `unverified` says plainly why it could not run. */
  status: 'passed' | 'failed' | 'unverified';
  where: 'shadow' | 'transaction' | 'none';
  /** Why it failed or could not verify, in words ("down leaves index orders_customer_id_idx behind"). */
  problems: string[];
  /** What up does to the schema, in words ("adds index orders_customer_id_idx on orders (customer_id)"). */
  upChanges: string[];
  /** Other findings worth showing (data writes, shadow fidelity). */
  notes: string[];
  /** Classifier verdict of each script, e.g. `ddl (CREATE INDEX)`. */
  upClass: string;
  downClass: string;
  /** Checksums of the scripts verified; a result for other scripts is stale. */
  upChecksum: string;
  downChecksum: string;
  checkedAt: Date;
  durationMs: number;
}

/** One schema change with its up and down scripts; `checksum` is SHA-256 (hex) of `upScript`. */
export interface MigrationFields extends StatusFields<MigrationStatus> {
  _id: Types.ObjectId;
  schemaDefinition: Types.ObjectId;
  connection: Types.ObjectId | null;
  /** Connection name as configured, for messages and exports. */
  connectionName: string | null;
  /** Unique per schema and per connection, sortable: `20261128093000_add_orders_customer_index`. */
  version: string;
  /** The slug after the timestamp (`add_orders_customer_index`), as Flyway file names use it. */
  name: string | null;
  description: string;
  upScript: string;
  downScript: string;
  /** SHA-256 hex of upScript. */
  checksum: string;
  /** SHA-256 hex of downScript. */
  downChecksum: string;
  /** `pasted` (`migrate …` with two code blocks) or `llm` (proposed by Claude through its migration tool). */
  source: 'pasted' | 'llm';
  /** Thread it was proposed in (where `rollback` alone refers to it). */
  thread: ThreadRef | null;
  /** Message id of its card, to update it. */
  cardMessageId: string | null;
  verification: MigrationVerification | null;
  appliedAt: Date | null;
  rolledBackAt: Date | null;
  failedAt: Date | null;
  cancelledAt: Date | null;
  /** User-safe error of the last failed apply or rollback. */
  error: string | null;
  approval: Types.ObjectId | null;
  approvedBy: string[];
  /** Approval of the roll back, when one was asked for. */
  rollbackApproval: Types.ObjectId | null;
  /** User key of who proposed it (`slack:T1:U1`), and the name shown for it. */
  proposedBy: string | null;
  proposedByName: string | null;
  appliedBy: string | null;
  rolledBackBy: string | null;
  /** Milliseconds the up script took when applied. */
  executionMs: number | null;
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

const checksumPath = {
  type: String,
  required: true,
  match: [/^[0-9a-f]{64}$/, 'expected a SHA-256 hex digest'] as [RegExp, string],
};

const verificationSchema = new Schema<MigrationVerification>(
  {
    status: { type: String, enum: ['passed', 'failed', 'unverified'], required: true },
    where: { type: String, enum: ['shadow', 'transaction', 'none'], required: true },
    problems: { type: [String], default: [] },
    upChanges: { type: [String], default: [] },
    notes: { type: [String], default: [] },
    upClass: { type: String, required: true },
    downClass: { type: String, required: true },
    upChecksum: checksumPath,
    downChecksum: checksumPath,
    checkedAt: { type: Date, required: true },
    durationMs: { type: Number, required: true, min: 0 },
  },
  { _id: false },
);

export const migrationSchema = new Schema<MigrationFields>(
  {
    schemaDefinition: { type: Schema.Types.ObjectId, ref: 'SchemaDefinition', required: true },
    connection: { type: Schema.Types.ObjectId, ref: 'DatabaseConnection', default: null },
    connectionName: { type: String, default: null },
    version: {
      type: String,
      required: true,
      trim: true,
      match: [/^[\w.-]{1,64}$/, 'expected letters, digits, _ . -'],
    },
    name: { type: String, default: null, maxlength: 64 },
    description: { type: String, required: true, trim: true, maxlength: 500 },
    upScript: script,
    downScript: script,
    checksum: checksumPath,
    downChecksum: checksumPath,
    source: { type: String, enum: ['pasted', 'llm'], default: 'pasted' },
    thread: { type: threadRefSchema, default: null },
    cardMessageId: { type: String, default: null },
    verification: { type: verificationSchema, default: null },
    ...statusPaths(migrationStatus),
    appliedAt: { type: Date, default: null },
    rolledBackAt: { type: Date, default: null },
    failedAt: { type: Date, default: null },
    cancelledAt: { type: Date, default: null },
    error: { type: String, default: null, maxlength: 2000 },
    approval: { type: Schema.Types.ObjectId, ref: 'ApprovalRequest', default: null },
    approvedBy: { type: [String], default: [] },
    rollbackApproval: { type: Schema.Types.ObjectId, ref: 'ApprovalRequest', default: null },
    proposedBy: { type: String, default: null },
    proposedByName: { type: String, default: null, maxlength: 200 },
    appliedBy: { type: String, default: null },
    rolledBackBy: { type: String, default: null },
    executionMs: { type: Number, default: null, min: 0 },
  },
  { collection: 'migrations', timestamps: true, versionKey: false },
);
migrationSchema.index({ schemaDefinition: 1, version: 1 }, { unique: true });
// Unique per connection through its SchemaDefinition (one per connection); this one serves listing by connection.
migrationSchema.index({ connection: 1, version: 1 });
migrationSchema.pre('validate', function () {
  for (const [scriptPath, sumPath] of [
    ['upScript', 'checksum'],
    ['downScript', 'downChecksum'],
  ] as const) {
    if (typeof this[scriptPath] !== 'string') continue;
    const expected = scriptChecksum(this[scriptPath]);
    if (!this[sumPath]) this[sumPath] = expected;
    else if (this[sumPath] !== expected) this.invalidate(sumPath, `${sumPath} does not match ${scriptPath}`);
  }
});
// The checksums certify what was verified and approved: scripts change only through editing a loaded document
// (its save() re-checks both checksums), never through an update query that could slip past them.
migrationSchema.pre(['updateOne', 'updateMany', 'findOneAndUpdate'], function () {
  const update = JSON.stringify(this.getUpdate() ?? {});
  if (/"(upScript|downScript|checksum|downChecksum)"/.test(update)) {
    throw new ValidationError(
      'Migration scripts and checksums are immutable to update queries; edit the migration instead (which voids its approval)',
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
