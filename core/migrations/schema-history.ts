/**
 * `threadql_schema_history` in the target database itself, as Flyway's `flyway_schema_history` and Atlas's
 * revisions table do: what was applied and rolled back, with checksums, who, when, success and execution time.
 * So a database's applied state survives threadql's own store, and drift between the two is detectable.
 *
 * Rows are only ever appended: an apply adds a `SQL` row, a roll back an `UNDO_SQL` row (Flyway's undo type).
 * A version is applied when its latest successful row is `SQL`. A failed apply on an engine that cannot roll back
 * DDL (MySQL) is recorded with success = false, because part of it may have run.
 */
import type { DatabaseDriver, SchemaSession } from '../db/database-dialect.ts';
import type { SqlDialect } from '../safety/classify-sql.ts';

export const SCHEMA_HISTORY_TABLE = 'threadql_schema_history';

export interface SchemaHistoryRow {
  installedRank: number;
  version: string;
  description: string;
  /** `SQL` for an apply, `UNDO_SQL` for a roll back. */
  type: 'SQL' | 'UNDO_SQL';
  /** The Flyway file name of the script that ran, e.g. `V20261128093000__add_orders_customer_index.sql`. */
  script: string;
  /** SHA-256 hex of the up script, and of the down script. */
  checksum: string;
  downChecksum: string;
  installedBy: string;
  installedOn: Date;
  executionTime: number;
  success: boolean;
}

export type NewSchemaHistoryRow = Omit<SchemaHistoryRow, 'installedRank'>;

const CREATE: Record<SqlDialect, string> = {
  postgres: `CREATE TABLE IF NOT EXISTS ${SCHEMA_HISTORY_TABLE} (
  installed_rank integer PRIMARY KEY,
  version varchar(64) NOT NULL,
  description varchar(500) NOT NULL,
  type varchar(20) NOT NULL,
  script varchar(200) NOT NULL,
  checksum char(64) NOT NULL,
  down_checksum char(64) NOT NULL,
  installed_by varchar(200) NOT NULL,
  installed_on timestamptz NOT NULL,
  execution_time integer NOT NULL,
  success boolean NOT NULL
)`,
  mysql: `CREATE TABLE IF NOT EXISTS ${SCHEMA_HISTORY_TABLE} (
  installed_rank int NOT NULL PRIMARY KEY,
  version varchar(64) NOT NULL,
  description varchar(500) NOT NULL,
  type varchar(20) NOT NULL,
  script varchar(200) NOT NULL,
  checksum char(64) NOT NULL,
  down_checksum char(64) NOT NULL,
  installed_by varchar(200) NOT NULL,
  installed_on datetime(3) NOT NULL,
  execution_time int NOT NULL,
  success tinyint(1) NOT NULL
)`,
  sqlite: `CREATE TABLE IF NOT EXISTS ${SCHEMA_HISTORY_TABLE} (
  installed_rank INTEGER NOT NULL PRIMARY KEY,
  version TEXT NOT NULL,
  description TEXT NOT NULL,
  type TEXT NOT NULL,
  script TEXT NOT NULL,
  checksum TEXT NOT NULL,
  down_checksum TEXT NOT NULL,
  installed_by TEXT NOT NULL,
  installed_on TEXT NOT NULL,
  execution_time INTEGER NOT NULL,
  success INTEGER NOT NULL
)`,
};

const COLUMNS =
  'installed_rank, version, description, type, script, checksum, down_checksum, installed_by, installed_on, execution_time, success';

const EXISTS: Record<SqlDialect, string> = {
  postgres: `SELECT CASE WHEN to_regclass('${SCHEMA_HISTORY_TABLE}') IS NULL THEN 0 ELSE 1 END AS present`,
  mysql: `SELECT COUNT(*) AS present FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${SCHEMA_HISTORY_TABLE}'`,
  sqlite: `SELECT COUNT(*) AS present FROM sqlite_master WHERE type = 'table' AND name = '${SCHEMA_HISTORY_TABLE}'`,
};

const MAX_ROWS = 100_000;

function rowFrom(raw: Record<string, unknown>): SchemaHistoryRow {
  return {
    installedRank: Number(raw.installed_rank),
    version: String(raw.version),
    description: String(raw.description),
    type: String(raw.type) === 'UNDO_SQL' ? 'UNDO_SQL' : 'SQL',
    script: String(raw.script),
    checksum: String(raw.checksum).trim(),
    downChecksum: String(raw.down_checksum).trim(),
    installedBy: String(raw.installed_by),
    installedOn: raw.installed_on instanceof Date ? raw.installed_on : new Date(String(raw.installed_on)),
    executionTime: Number(raw.execution_time),
    success: raw.success === true || Number(raw.success) === 1,
  };
}

/** Creates the history table if it is missing (inside the session's transaction where the engine allows). */
export async function ensureSchemaHistory(session: SchemaSession, dialect: SqlDialect): Promise<void> {
  await session.execute(CREATE[dialect]);
}

/** Appends one row; its rank is one past the highest (callers hold the connection's migration lock). */
export async function appendSchemaHistory(
  session: SchemaSession,
  dialect: SqlDialect,
  row: NewSchemaHistoryRow,
): Promise<SchemaHistoryRow> {
  const [top] = await session.query(
    `SELECT COALESCE(MAX(installed_rank), 0) AS top FROM ${SCHEMA_HISTORY_TABLE}`,
  );
  const installedRank = Number(top?.top ?? 0) + 1;
  const placeholders =
    dialect === 'postgres'
      ? Array.from({ length: 11 }, (_, i) => `$${i + 1}`).join(', ')
      : Array(11).fill('?').join(', ');
  const success = dialect === 'postgres' ? row.success : row.success ? 1 : 0;
  const installedOn = dialect === 'sqlite' ? row.installedOn.toISOString() : row.installedOn;
  await session.query(`INSERT INTO ${SCHEMA_HISTORY_TABLE} (${COLUMNS}) VALUES (${placeholders})`, [
    installedRank,
    row.version,
    row.description.slice(0, 500),
    row.type,
    row.script,
    row.checksum,
    row.downChecksum,
    row.installedBy.slice(0, 200),
    installedOn,
    Math.round(row.executionTime),
    success,
  ]);
  return { ...row, installedRank };
}

/** The rows as a schema session sees them (empty when the table does not exist yet). */
export async function sessionSchemaHistory(
  session: SchemaSession,
  dialect: SqlDialect,
): Promise<SchemaHistoryRow[]> {
  const [exists] = await session.query(EXISTS[dialect]);
  if (Number(exists?.present ?? 0) === 0) return [];
  return (await session.query(`SELECT ${COLUMNS} FROM ${SCHEMA_HISTORY_TABLE} ORDER BY installed_rank`)).map(
    rowFrom,
  );
}

/** The rows, read in the driver's read-only mode (empty when the table does not exist). */
export async function readSchemaHistory(
  driver: DatabaseDriver,
  dialect: SqlDialect,
  timeoutMs: number,
): Promise<SchemaHistoryRow[]> {
  const options = { timeoutMs, maxRows: MAX_ROWS };
  const exists = await driver.executeRead(EXISTS[dialect], options);
  if (Number(exists.rows[0]?.[0] ?? 0) === 0) return [];
  const result = await driver.executeRead(
    `SELECT ${COLUMNS} FROM ${SCHEMA_HISTORY_TABLE} ORDER BY installed_rank`,
    options,
  );
  return result.rows.map((values) =>
    rowFrom(Object.fromEntries(result.columns.map((c, i) => [c.name.toLowerCase(), values[i]]))),
  );
}

/** The versions the history says are applied now (latest successful row is `SQL`), with that row. */
export function appliedInHistory(rows: readonly SchemaHistoryRow[]): Map<string, SchemaHistoryRow> {
  const latest = new Map<string, SchemaHistoryRow>();
  for (const row of [...rows].sort((a, b) => a.installedRank - b.installedRank)) {
    if (row.success) latest.set(row.version, row);
  }
  return new Map([...latest].filter(([, row]) => row.type === 'SQL'));
}
