/**
 * A proposed migration becomes a Migration document: a new version for its connection, both scripts with their
 * SHA-256 checksums, status `pending`, who proposed it and where, and its verification. Also the other ways a
 * pending migration changes before it runs: its scripts edited (which voids any approval and re-verifies), or it
 * is cancelled.
 */
import type { MigrationFields, MigrationVerification } from '../../models/migration.ts';
import { scriptChecksum, transitionMigration } from '../../models/migration.ts';
import { isDuplicateKeyError } from '../../models/state-machine.ts';
import type { ThreadRef } from '../conversation/chat-platform.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { ensureSchemaDefinition } from '../schema/schema-definition-sync.ts';
import { connectionLock, type MigrationContext } from './migration-context.ts';
import { migrationSlug, nextMigrationVersion } from './migration-version.ts';
import type { VerificationOutcome } from './verify-migration.ts';

export interface Proposal {
  /** The name after `migrate`, or a slug from the description; becomes the version's suffix. */
  name?: string;
  description?: string;
  up: string;
  down: string;
  source: 'pasted' | 'llm';
  proposedBy: string;
  proposedByName?: string;
  thread?: ThreadRef;
  verification: VerificationOutcome;
}

const ATTEMPTS = 5;

/** The stored part of a verification outcome (the snapshots are for the ERD only). */
export function storedVerification(outcome: VerificationOutcome): MigrationVerification {
  const { before: _before, after: _after, ...stored } = outcome;
  return stored;
}

function describe(proposal: Proposal): string {
  const given = proposal.description?.trim();
  if (given) return given.slice(0, 500);
  if (proposal.name?.trim()) return proposal.name.trim().replace(/[_-]+/g, ' ').slice(0, 500);
  const first = proposal.verification.upChanges[0];
  return first ? first.charAt(0).toUpperCase() + first.slice(1) : 'Schema change';
}

/** Stores a proposal as a pending Migration with the connection's next version. */
export async function proposeMigration(ctx: MigrationContext, proposal: Proposal): Promise<MigrationFields> {
  const { models, target } = ctx;
  const now = ctx.now();
  const live = proposal.verification.before ?? (await target.driver.introspect());
  const definition = await ensureSchemaDefinition(models, target, live, now);
  const name = migrationSlug(proposal.name ?? proposal.description);
  for (let attempt = 1; ; attempt++) {
    const existing = await models.Migration.find({ schemaDefinition: definition._id }, { version: 1 }).lean<
      Pick<MigrationFields, 'version'>[]
    >();
    const version = nextMigrationVersion({ now, name, existing: existing.map((m) => m.version) });
    try {
      const created = await models.Migration.create({
        schemaDefinition: definition._id,
        connection: target.id,
        connectionName: target.name,
        version,
        name,
        description: describe(proposal),
        upScript: proposal.up,
        downScript: proposal.down,
        source: proposal.source,
        thread: proposal.thread ?? null,
        verification: storedVerification(proposal.verification),
        proposedBy: proposal.proposedBy,
        proposedByName: proposal.proposedByName ?? null,
      });
      return created.toObject() as MigrationFields;
    } catch (error) {
      // Two proposals in the same second for one connection: the loser takes the next version.
      if (!isDuplicateKeyError(error) || attempt >= ATTEMPTS) throw error;
    }
  }
}

/** A migration by id, or a NotFoundError. */
export async function loadMigration(
  ctx: Pick<MigrationContext, 'models'>,
  id: unknown,
): Promise<MigrationFields> {
  const found = await ctx.models.Migration.findById(id).lean<MigrationFields>();
  if (!found) throw new NotFoundError('That migration no longer exists.');
  return found;
}

/**
 * Replaces both scripts of a migration that has not run (pending, failed or rolled back): new checksums, the new
 * verification, any approval dropped (an approval is for the scripts it saw), and back to `pending`.
 */
export async function editMigration(
  ctx: MigrationContext,
  id: unknown,
  edit: { up: string; down: string; actor: string; verification: VerificationOutcome },
): Promise<MigrationFields> {
  return ctx.lock.run(...connectionLock(ctx.target), async () => {
    const doc = await ctx.models.Migration.findById(id);
    if (!doc) throw new NotFoundError('That migration no longer exists.');
    if (!['pending', 'failed', 'rolled_back'].includes(doc.status)) {
      throw new ValidationError(
        `Migration ${doc.version} is ${doc.status.replace('_', ' ')}; only one that has not run can be edited.`,
        {
          hint: doc.status === 'applied' ? 'Roll it back first, or propose a new migration.' : undefined,
        },
      );
    }
    doc.upScript = edit.up;
    doc.downScript = edit.down;
    doc.checksum = scriptChecksum(edit.up);
    doc.downChecksum = scriptChecksum(edit.down);
    doc.verification = storedVerification(edit.verification);
    doc.approval = null;
    doc.approvedBy = [];
    await doc.save();
    if (doc.status !== 'pending') {
      return transitionMigration(ctx.models, doc._id, 'pending', { actor: edit.actor, now: ctx.now() });
    }
    return doc.toObject() as MigrationFields;
  });
}

/** Cancels a migration that never ran (pending or failed); final. */
export async function cancelMigration(
  ctx: MigrationContext,
  id: unknown,
  actor: string,
): Promise<MigrationFields> {
  return ctx.lock.run(...connectionLock(ctx.target), async () => {
    const found = await loadMigration(ctx, id);
    return transitionMigration(ctx.models, found._id, 'cancelled', { actor, now: ctx.now() });
  });
}

/** Puts a rolled-back migration back to `pending`, so it can be approved and applied again. */
export async function reopenMigration(
  ctx: MigrationContext,
  id: unknown,
  actor: string,
): Promise<MigrationFields> {
  return ctx.lock.run(...connectionLock(ctx.target), async () => {
    const found = await loadMigration(ctx, id);
    return transitionMigration(ctx.models, found._id, 'pending', {
      from: 'rolled_back',
      actor,
      now: ctx.now(),
      set: { approval: null, approvedBy: [], rollbackApproval: null },
    });
  });
}

/**
 * Throws unless approval may be requested for the migration as it is now: pending, and verified for exactly its
 * current scripts without failing (an `unverified` result may be approved; the card says why it is unverified).
 */
export function assertApprovable(migration: MigrationFields): void {
  if (migration.status !== 'pending') {
    throw new ValidationError(
      `Migration ${migration.version} is ${migration.status.replace('_', ' ')}; only a pending migration can be approved.`,
    );
  }
  const v = migration.verification;
  if (!v || v.upChecksum !== migration.checksum || v.downChecksum !== migration.downChecksum) {
    throw new ValidationError(`Migration ${migration.version} has not been verified as it is now.`, {
      hint: 'Edit it (even without changes) to have it verified again.',
    });
  }
  if (v.status === 'failed') {
    throw new ValidationError(
      `Migration ${migration.version} failed verification, so approval cannot be requested: ${v.problems.join('; ')}`,
      {
        hint: 'Fix the scripts with Edit; they are verified again.',
      },
    );
  }
}
