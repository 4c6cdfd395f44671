/**
 * Applying approved migrations (issue 10 §4). Before anything runs: the stored scripts must still match their
 * checksums, and those must be the checksums the approval was given for (a script changed after approval never
 * runs); nothing newer may be applied already, in threadql's store or in the target's schema history (versions
 * apply in order). Then the up script runs with its history row (run-migration-script.ts), the Migration becomes
 * `applied` with who and when, and the SchemaDefinition is synced. A failing script marks it `failed` with the
 * error; an edit puts it back to `pending`.
 */
import type { Types } from 'mongoose';
import type { MigrationFields } from '../../models/migration.ts';
import { scriptChecksum, transitionMigration } from '../../models/migration.ts';
import type { SchemaSnapshot } from '../db/database-dialect.ts';
import { ThreadqlError, ValidationError } from '../errors.ts';
import { ensureSchemaDefinition, syncSchemaDefinition } from '../schema/schema-definition-sync.ts';
import { connectionLock, type MigrationContext } from './migration-context.ts';
import { assertApprovable, loadMigration } from './propose-migration.ts';
import { runMigrationScript } from './run-migration-script.ts';
import { appliedInHistory, type SchemaHistoryRow } from './schema-history.ts';

export interface ApplyInput {
  migrationId: unknown;
  /** Who applies it (user key or `system`), recorded as appliedBy and in the schema history. */
  actor: string;
  approvedBy: string[];
  approval?: Types.ObjectId | null;
  /** The checksums the approval was given for. */
  approvedChecksum: string;
  approvedDownChecksum: string;
}

export type ApplyResult =
  | { outcome: 'applied'; migration: MigrationFields; executionMs: number; after: SchemaSnapshot }
  | { outcome: 'failed'; migration: MigrationFields; error: string };

/** Refuses a migration whose stored scripts no longer match their checksums or the approved ones. */
export function assertChecksums(
  migration: MigrationFields,
  approved: { up?: string; down?: string },
  action: 'applied' | 'rolled back',
): void {
  const scripts = [
    ['up', migration.upScript, migration.checksum, approved.up],
    ['down', migration.downScript, migration.downChecksum, approved.down],
  ] as const;
  for (const [label, script, stored, granted] of scripts) {
    if (scriptChecksum(script) !== stored) {
      throw new ThreadqlError(
        'conflict',
        `The ${label} script of ${migration.version} does not match its checksum (${stored.slice(0, 12)}…): it was changed outside threadql, so it was not ${action}.`,
        {
          hint: 'Propose the migration again so it can be verified and approved as it is now.',
          detail: { version: migration.version },
        },
      );
    }
    if (granted !== undefined && granted !== stored) {
      throw new ThreadqlError(
        'conflict',
        `The ${label} script of ${migration.version} changed after it was approved (approved ${granted.slice(0, 12)}…, now ${stored.slice(0, 12)}…), so it was not ${action}.`,
        {
          hint: 'Request approval again for the scripts as they are now.',
          detail: { version: migration.version },
        },
      );
    }
  }
}

/** Versions newer than `version` that the target's schema history has applied. */
export function newerInHistory(history: readonly SchemaHistoryRow[], version: string): string[] {
  return [...appliedInHistory(history).keys()].filter((v) => v > version).sort();
}

/** Migrations apply in version order: refuses one older than a migration of its connection already applied. */
export async function assertNoNewerApplied(
  ctx: MigrationContext,
  migration: Pick<MigrationFields, 'version'>,
): Promise<void> {
  const newer = await ctx.models.Migration.find(
    { connection: ctx.target.id, status: 'applied', version: { $gt: migration.version } },
    { version: 1 },
  ).lean<Pick<MigrationFields, 'version'>[]>();
  if (newer.length === 0) return;
  const versions = newer.map((m) => m.version).sort();
  throw new ValidationError(
    `Migration ${migration.version} is older than ${versions.join(', ')}, which ${versions.length > 1 ? 'are' : 'is'} already applied; migrations apply in version order.`,
    { hint: 'Roll the newer ones back first, or propose this change again (it gets a new version).' },
  );
}

/** Applies one approved pending migration; refusals throw, a failing script returns `failed`. */
export async function applyMigration(ctx: MigrationContext, input: ApplyInput): Promise<ApplyResult> {
  return ctx.lock.run(...connectionLock(ctx.target), async () => {
    const migration = await loadMigration(ctx, input.migrationId);
    if (migration.status !== 'pending') {
      throw new ValidationError(
        `Migration ${migration.version} is ${migration.status.replace('_', ' ')}, not pending; it was not applied.`,
      );
    }
    assertChecksums(migration, { up: input.approvedChecksum, down: input.approvedDownChecksum }, 'applied');
    assertApprovable(migration);
    await assertNoNewerApplied(ctx, migration);
    const run = await runMigrationScript(ctx, migration, 'up', input.actor, (history) => {
      if (appliedInHistory(history).has(migration.version)) {
        throw new ValidationError(
          `${migration.version} is already applied according to the database's threadql_schema_history; it was not run again.`,
          {
            hint: 'Run `migrations` to see the drift between threadql and the database.',
          },
        );
      }
      const later = newerInHistory(history, migration.version);
      if (later.length > 0) {
        throw new ValidationError(
          `The database's threadql_schema_history has newer migrations applied (${later.join(', ')}); ${migration.version} would apply out of order.`,
          { hint: 'Roll the newer ones back first, or propose this change again (it gets a new version).' },
        );
      }
    });
    const now = ctx.now();
    if (!run.ok) {
      const failed = await transitionMigration(ctx.models, migration._id, 'failed', {
        actor: input.actor,
        now,
        set: { error: run.error.slice(0, 2000) },
      });
      return { outcome: 'failed', migration: failed, error: run.error };
    }
    const applied = await transitionMigration(ctx.models, migration._id, 'applied', {
      actor: input.actor,
      now,
      set: {
        appliedBy: input.actor,
        approvedBy: input.approvedBy,
        approval: input.approval ?? migration.approval,
        executionMs: run.executionMs,
      },
    });
    const definition = await ensureSchemaDefinition(ctx.models, ctx.target, run.after, now);
    await syncSchemaDefinition(ctx.models, definition._id, run.after, { now, actor: input.actor });
    return { outcome: 'applied', migration: applied, executionMs: run.executionMs, after: run.after };
  });
}

/** Applies several approved migrations of the connection in version order, stopping at the first that fails. */
export async function applyMigrations(
  ctx: MigrationContext,
  inputs: readonly ApplyInput[],
): Promise<ApplyResult[]> {
  const withVersions = await Promise.all(
    inputs.map(async (input) => ({ input, version: (await loadMigration(ctx, input.migrationId)).version })),
  );
  const results: ApplyResult[] = [];
  for (const { input } of withVersions.sort((a, b) => a.version.localeCompare(b.version))) {
    const result = await applyMigration(ctx, input);
    results.push(result);
    if (result.outcome === 'failed') break;
  }
  return results;
}
