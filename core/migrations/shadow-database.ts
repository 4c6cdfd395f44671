/**
 * The shadow database: an empty scratch database of the target's engine (`shadow:` in threadql.yml) where a
 * migration can be tried for real, like Atlas's dev database. Before each verification threadql wipes it and
 * recreates the target's current schema there from introspection (schema-ddl.ts).
 *
 * Wiping is only ever done to a database threadql owns: one that is empty, or that carries threadql's marker
 * table from an earlier rebuild. A shadow URL pointed at a real database by mistake is refused, never wiped.
 */
import type { DatabaseDriver, SchemaSession, SchemaSnapshot } from '../db/database-dialect.ts';
import { ThreadqlError, ValidationError } from '../errors.ts';
import { isSqlDialect, type SqlDialect } from '../safety/classify-sql.ts';
import { userTables } from '../schema/schema-diff.ts';
import { quoteIdent, schemaToDdl, type DdlStatement } from './schema-ddl.ts';

export const SHADOW_MARKER = 'threadql_shadow';

export interface ShadowSettings {
  timeoutMs: number;
  lockTimeoutMs: number;
}

/** The SQL dialect of a driver, refusing MongoDB. */
export function sqlDialectOf(driver: DatabaseDriver): SqlDialect {
  const type = driver.dialect.type;
  if (!isSqlDialect(type)) {
    throw new ValidationError(
      `Migrations are for SQL databases; this connection is ${driver.dialect.capabilities.displayName}.`,
    );
  }
  return type;
}

/** The driver's schema session, or a clear error for engines without one. */
export function schemaSessionOf(driver: DatabaseDriver): NonNullable<DatabaseDriver['schemaSession']> {
  if (!driver.schemaSession) {
    throw new ValidationError(
      `Migrations are not supported on ${driver.dialect.capabilities.displayName} connections.`,
    );
  }
  return driver.schemaSession.bind(driver);
}

async function refuseForeign(session: SchemaSession, label: string): Promise<void> {
  const snapshot = await session.introspect();
  const marked = snapshot.tables.some((t) => t.name.split('.').pop() === SHADOW_MARKER);
  const own = userTables(snapshot);
  if (own.length > 0 && !marked) {
    const names = own.slice(0, 5).map((t) => t.name);
    throw new ValidationError(
      `The shadow database of ${label} is not empty (${names.join(', ')}${own.length > 5 ? ', …' : ''}) and was not set up by threadql, so threadql will not wipe it.`,
      {
        hint: 'Point `shadow:` at an empty scratch database; threadql rebuilds it before every verification.',
      },
    );
  }
}

async function wipe(session: SchemaSession, dialect: SqlDialect): Promise<void> {
  if (dialect === 'postgres') {
    const schemas = await session.query(
      `SELECT nspname AS name FROM pg_namespace
       WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%' ORDER BY 1`,
    );
    for (const { name } of schemas)
      await session.execute(`DROP SCHEMA ${quoteIdent(String(name), dialect)} CASCADE`);
    await session.execute('CREATE SCHEMA IF NOT EXISTS public');
    return;
  }
  if (dialect === 'mysql') {
    const objects = await session.query(
      `SELECT TABLE_NAME AS name, TABLE_TYPE AS type FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()`,
    );
    await session.execute('SET FOREIGN_KEY_CHECKS = 0');
    try {
      for (const { name, type } of objects) {
        const kind = String(type).toUpperCase().includes('VIEW') ? 'VIEW' : 'TABLE';
        await session.execute(`DROP ${kind} IF EXISTS ${quoteIdent(String(name), dialect)}`);
      }
    } finally {
      await session.execute('SET FOREIGN_KEY_CHECKS = 1');
    }
    return;
  }
  // Foreign keys are checked at COMMIT instead of per DROP, when every table is gone.
  await session.execute('PRAGMA defer_foreign_keys = ON');
  const objects = await session.query(
    `SELECT type, name FROM sqlite_master WHERE type IN ('view', 'trigger', 'table') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'`,
  );
  for (const kind of ['view', 'trigger', 'table']) {
    for (const o of objects.filter((x) => x.type === kind)) {
      await session.execute(`DROP ${kind.toUpperCase()} IF EXISTS ${quoteIdent(String(o.name), dialect)}`);
    }
  }
}

/** Runs one statement; on PostgreSQL inside a savepoint, so a failure does not abort the whole rebuild. */
async function attempt(session: SchemaSession, dialect: SqlDialect, sql: string): Promise<unknown> {
  if (dialect !== 'postgres') {
    try {
      await session.execute(sql);
      return undefined;
    } catch (error) {
      return error;
    }
  }
  await session.execute('SAVEPOINT threadql_shadow_step');
  try {
    await session.execute(sql);
    await session.execute('RELEASE SAVEPOINT threadql_shadow_step');
    return undefined;
  } catch (error) {
    await session.execute('ROLLBACK TO SAVEPOINT threadql_shadow_step');
    return error;
  }
}

/**
 * Runs every statement; true when all succeeded. On PostgreSQL inside one savepoint, rolled back on failure so the
 * one-by-one pass starts clean; elsewhere (no transactional DDL) only when no statement has run yet can it stop.
 */
async function attemptAll(
  session: SchemaSession,
  dialect: SqlDialect,
  statements: DdlStatement[],
): Promise<boolean> {
  if (dialect !== 'postgres') return false;
  await session.execute('SAVEPOINT threadql_shadow_all');
  try {
    for (const statement of statements) await session.execute(statement.sql);
    await session.execute('RELEASE SAVEPOINT threadql_shadow_all');
    return true;
  } catch {
    await session.execute('ROLLBACK TO SAVEPOINT threadql_shadow_all');
    return false;
  }
}

/** PostgreSQL types the shadow lacks (enums, domains, extension types) are declared as text there. */
async function missingTypes(session: SchemaSession, snapshot: SchemaSnapshot): Promise<Map<string, string>> {
  const types = new Set(userTables(snapshot).flatMap((t) => t.columns.map((c) => c.type)));
  const replaced = new Map<string, string>();
  for (const type of types) {
    if (type.trim() === '') continue;
    const failed = await attempt(session, 'postgres', `SELECT NULL::${type}`);
    if (failed) replaced.set(type, type.endsWith('[]') ? 'text[]' : 'text');
  }
  return replaced;
}

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error));

async function create(
  session: SchemaSession,
  dialect: SqlDialect,
  statement: DdlStatement,
): Promise<string | undefined> {
  const failed = await attempt(session, dialect, statement.sql);
  if (!failed) return undefined;
  if (statement.withoutDefaults && !(await attempt(session, dialect, statement.withoutDefaults))) {
    return `${statement.what} is in the shadow without its column defaults (${reason(failed)})`;
  }
  return `could not recreate ${statement.what} in the shadow: ${reason(failed)}`;
}

/**
 * Wipes the shadow (only if it is empty or threadql's) and recreates `target`'s tables there. Returns notes on
 * what the shadow lacks compared with the target (views, expression indexes, objects that failed to create).
 */
export async function rebuildShadow(
  shadow: DatabaseDriver,
  target: SchemaSnapshot,
  settings: ShadowSettings,
  label: string,
): Promise<string[]> {
  const dialect = sqlDialectOf(shadow);
  if (dialect !== target.databaseType) {
    throw new ValidationError(
      `The shadow database of ${label} is ${shadow.dialect.capabilities.displayName}, not the connection's engine.`,
    );
  }
  const session = schemaSessionOf(shadow);
  return session({ commit: true, ...settings }, async (s) => {
    await refuseForeign(s, label);
    await wipe(s, dialect);
    await s.execute(`CREATE TABLE ${SHADOW_MARKER} (note varchar(200))`);
    const replaced = dialect === 'postgres' ? await missingTypes(s, target) : new Map<string, string>();
    const plan = schemaToDdl(target, dialect, { typeOf: (c) => replaced.get(c.type) ?? c.type });
    const notes = [...plan.notes];
    if (replaced.size > 0) {
      notes.push(`types the shadow does not have are text there: ${[...replaced.keys()].join(', ')}`);
    }
    // Usually every statement succeeds: run them all at once, and only after a failure one by one with notes.
    if (!(await attemptAll(s, dialect, plan.statements))) {
      for (const statement of plan.statements) {
        const note = await create(s, dialect, statement);
        if (note) notes.push(note);
      }
    }
    const rebuilt = userTables(await s.introspect());
    if (rebuilt.length === 0 && userTables(target).some((t) => t.kind === 'table')) {
      throw new ThreadqlError(
        'internal',
        `The shadow database of ${label} could not be rebuilt: ${notes.join('; ')}`,
      );
    }
    return notes;
  });
}
