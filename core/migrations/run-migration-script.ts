/**
 * Runs one script of a migration against its target, for real: in one transaction where the engine allows
 * (PostgreSQL, SQLite: the script and its schema-history row commit together or not at all), statement by
 * statement under the lock and statement timeouts; the history row appended in the same session. On MySQL and
 * MariaDB each DDL statement commits as it runs, so a failure part-way is recorded in the history as a failed row.
 */
import type { MigrationFields } from '../../models/migration.ts';
import type { SchemaSession, SchemaSnapshot } from '../db/database-dialect.ts';
import { ValidationError } from '../errors.ts';
import { flywayFileName } from './flyway-export.ts';
import { inspectScript, statementPreview } from './inspect-script.ts';
import type { MigrationContext } from './migration-context.ts';
import {
  appendSchemaHistory,
  ensureSchemaHistory,
  sessionSchemaHistory,
  type SchemaHistoryRow,
} from './schema-history.ts';
import { schemaSessionOf, sqlDialectOf } from './shadow-database.ts';

export type Direction = 'up' | 'down';

export type ScriptRun =
  | { ok: true; executionMs: number; after: SchemaSnapshot; history: SchemaHistoryRow }
  | {
      ok: false;
      /** User-safe message: which statement failed and the engine's words. */
      error: string;
      /** Statements before the failed one committed anyway (MySQL/MariaDB DDL). */
      partial: boolean;
    };

/** A statement of the script failed; carries which. */
class StatementFailed extends Error {
  readonly index: number;
  constructor(index: number, cause: unknown) {
    super('statement failed', { cause });
    this.index = index;
  }
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Runs `direction`'s script of `migration`. `check` sees the target's schema history inside the same session
 * before anything runs and throws to refuse (order, drift). Refusals throw; a script's own failure is returned.
 */
export async function runMigrationScript(
  ctx: MigrationContext,
  migration: MigrationFields,
  direction: Direction,
  actor: string,
  check: (history: SchemaHistoryRow[]) => void,
): Promise<ScriptRun> {
  const driver = ctx.target.driver;
  const dialect = sqlDialectOf(driver);
  const script = direction === 'up' ? migration.upScript : migration.downScript;
  const report = await inspectScript(script, driver.dialect, direction);
  if (report.problems.length > 0) {
    throw new ValidationError(
      `The ${direction} script of ${migration.version} cannot run: ${report.problems.join('; ')}`,
    );
  }
  const row = (success: boolean, executionTime: number) => ({
    version: migration.version,
    description: migration.description,
    type: direction === 'up' ? ('SQL' as const) : ('UNDO_SQL' as const),
    script: flywayFileName(migration.version, direction),
    checksum: migration.checksum,
    downChecksum: migration.downChecksum,
    installedBy: actor,
    installedOn: ctx.now(),
    executionTime,
    success,
  });
  const session = schemaSessionOf(driver);
  const options = {
    commit: true,
    timeoutMs: ctx.settings.statementTimeoutMs,
    lockTimeoutMs: ctx.settings.lockTimeoutMs,
  };
  let started = 0;
  try {
    return await session(options, async (s: SchemaSession) => {
      await ensureSchemaHistory(s, dialect);
      check(await sessionSchemaHistory(s, dialect));
      started = performance.now();
      for (const [i, statement] of report.statements.entries()) {
        try {
          await s.execute(statement.sql);
        } catch (error) {
          throw new StatementFailed(i, error);
        }
      }
      const executionMs = Math.round(performance.now() - started);
      const history = await appendSchemaHistory(s, dialect, row(true, executionMs));
      return { ok: true as const, executionMs, after: await s.introspect(), history };
    });
  } catch (error) {
    if (!(error instanceof StatementFailed)) throw error;
    const statement = report.statements[error.index]!;
    const where =
      report.statements.length > 1
        ? ` (statement ${error.index + 1}: ${statementPreview(statement.sql)})`
        : '';
    const partial = !driver.dialect.capabilities.transactionalDdl && error.index > 0;
    if (partial) {
      await session(options, async (s) => {
        await ensureSchemaHistory(s, dialect);
        await appendSchemaHistory(s, dialect, row(false, Math.round(performance.now() - started)));
      }).catch(() => {});
    }
    const rest = partial
      ? ` The statements before it were applied (${driver.dialect.capabilities.displayName} commits DDL as it goes), so the database is part-way.`
      : ' Nothing was changed.';
    return {
      ok: false,
      error: `${direction === 'up' ? 'Up' : 'Down'} failed: ${messageOf(error.cause)}${where}.${rest}`,
      partial,
    };
  }
}
