/**
 * Rolling back (issue 10 §5): only the newest applied migration of a connection, newest first, as Flyway's undo
 * and the QueryNL draft require. Refused, naming them, while newer migrations are applied (in threadql's store or
 * in the target's schema history). The down script must still match its checksum and the approved one; it runs
 * with an UNDO_SQL history row, the Migration becomes `rolled_back`, and the SchemaDefinition is synced.
 */
import type { Types } from 'mongoose';
import type { MigrationFields } from '../../models/migration.ts';
import { transitionMigration } from '../../models/migration.ts';
import type { SchemaSnapshot } from '../db/database-dialect.ts';
import { ValidationError } from '../errors.ts';
import { ensureSchemaDefinition, syncSchemaDefinition } from '../schema/schema-definition-sync.ts';
import { assertChecksums, newerInHistory } from './apply-migration.ts';
import { connectionLock, type MigrationContext } from './migration-context.ts';
import { loadMigration } from './propose-migration.ts';
import { runMigrationScript } from './run-migration-script.ts';
import { appliedInHistory } from './schema-history.ts';

export interface RollbackInput {
  migrationId: unknown;
  actor: string;
  approval?: Types.ObjectId | null;
  /** The down script's checksum the roll back was approved for. */
  approvedDownChecksum: string;
}

export type RollbackResult =
  | { outcome: 'rolled_back'; migration: MigrationFields; executionMs: number; after: SchemaSnapshot }
  | { outcome: 'failed'; migration: MigrationFields; error: string };

/** The applied migrations of the connection newer than `version` (what must be rolled back first). */
export async function newerApplied(ctx: MigrationContext, version: string): Promise<string[]> {
  const newer = await ctx.models.Migration.find(
    { connection: ctx.target.id, status: 'applied', version: { $gt: version } },
    { version: 1 },
  ).lean<Pick<MigrationFields, 'version'>[]>();
  return newer.map((m) => m.version).sort();
}

/** Checks a roll back may be asked for at all (applied, newest); throws a readable refusal otherwise. */
export async function assertRollbackAllowed(
  ctx: MigrationContext,
  migration: MigrationFields,
): Promise<void> {
  if (migration.status !== 'applied') {
    throw new ValidationError(
      `Migration ${migration.version} is ${migration.status.replace('_', ' ')}, not applied; there is nothing to roll back.`,
    );
  }
  const newer = await newerApplied(ctx, migration.version);
  if (newer.length > 0) {
    throw new ValidationError(
      `Migration ${migration.version} is not the newest applied migration of ${ctx.target.name}: roll back ${newer.reverse().join(', then ')} first.`,
      { hint: 'Migrations roll back newest first.' },
    );
  }
}

/** Rolls back the newest applied migration; refusals throw, a failing down script returns `failed`. */
export async function rollbackMigration(
  ctx: MigrationContext,
  input: RollbackInput,
): Promise<RollbackResult> {
  return ctx.lock.run(...connectionLock(ctx.target), async () => {
    const migration = await loadMigration(ctx, input.migrationId);
    await assertRollbackAllowed(ctx, migration);
    assertChecksums(migration, { down: input.approvedDownChecksum }, 'rolled back');
    const run = await runMigrationScript(ctx, migration, 'down', input.actor, (history) => {
      const later = newerInHistory(history, migration.version);
      if (later.length > 0) {
        throw new ValidationError(
          `The database's threadql_schema_history has newer migrations applied (${later.join(', ')}); roll those back first.`,
        );
      }
      if (!appliedInHistory(history).has(migration.version)) {
        throw new ValidationError(
          `${migration.version} is not applied according to the database's threadql_schema_history, so its down script was not run.`,
          { hint: 'Run `migrations` to see the drift between threadql and the database.' },
        );
      }
    });
    const now = ctx.now();
    if (!run.ok) {
      await ctx.models.Migration.updateOne(
        { _id: migration._id },
        { $set: { error: run.error.slice(0, 2000) } },
      );
      return { outcome: 'failed', migration: await loadMigration(ctx, migration._id), error: run.error };
    }
    const rolledBack = await transitionMigration(ctx.models, migration._id, 'rolled_back', {
      actor: input.actor,
      now,
      set: { rolledBackBy: input.actor, rollbackApproval: input.approval ?? null },
    });
    const definition = await ensureSchemaDefinition(ctx.models, ctx.target, run.after, now);
    await syncSchemaDefinition(ctx.models, definition._id, run.after, { now, actor: input.actor });
    return { outcome: 'rolled_back', migration: rolledBack, executionMs: run.executionMs, after: run.after };
  });
}
