/**
 * `migrations` (issue 10 §6): a connection's migrations in version order with who did what when, the target's
 * schema history, the drift between the two, and whether the live schema changed outside threadql (which marks
 * the SchemaDefinition `outdated`).
 */
import type { MigrationFields } from '../../models/migration.ts';
import type { SchemaDefinitionFields } from '../../models/schema-definition.ts';
import { checkSchemaDefinition } from '../schema/schema-definition-sync.ts';
import { detectDrift } from './detect-drift.ts';
import type { MigrationContext } from './migration-context.ts';
import { readSchemaHistory, type SchemaHistoryRow } from './schema-history.ts';
import { sqlDialectOf } from './shadow-database.ts';

export interface MigrationListing {
  /** Every migration of the connection, oldest version first. */
  migrations: MigrationFields[];
  history: SchemaHistoryRow[];
  /** Disagreements between threadql and threadql_schema_history. */
  drift: string[];
  /** Changes of the live schema made outside threadql since the last sync, in words. */
  outside: string[];
}

/** Lists a connection's migrations with drift; reads the target only in its read-only mode. */
export async function listMigrations(ctx: MigrationContext): Promise<MigrationListing> {
  const dialect = sqlDialectOf(ctx.target.driver);
  const migrations = await ctx.models.Migration.find({ connection: ctx.target.id })
    .sort({ version: 1 })
    .lean<MigrationFields[]>();
  const history = await readSchemaHistory(ctx.target.driver, dialect, ctx.settings.verifyTimeoutMs);
  const definition = await ctx.models.SchemaDefinition.findOne(
    { connection: ctx.target.id },
    { _id: 1 },
  ).lean<Pick<SchemaDefinitionFields, '_id'>>();
  const outside = definition
    ? await checkSchemaDefinition(ctx.models, definition._id, await ctx.target.driver.introspect(), ctx.now())
    : [];
  return { migrations, history, drift: detectDrift(migrations, history), outside };
}
