import type { DatabaseType } from '../../config/config-file.ts';
import type { DatabaseDialect, DatabaseDriver, DriverOptions } from './database-dialect.ts';
import { mongodbDialect } from './mongodb/mongodb-dialect.ts';
import { mysqlDialect } from './mysql/mysql-dialect.ts';
import { postgresDialect } from './postgres/postgres-dialect.ts';
import { sqliteDialect } from './sqlite/sqlite-dialect.ts';

const DIALECTS: Record<DatabaseType, DatabaseDialect> = {
  postgres: postgresDialect,
  mysql: mysqlDialect,
  sqlite: sqliteDialect,
  mongodb: mongodbDialect,
};

/** The dialect object for a connection's databaseType (MariaDB uses `mysql`). */
export function dialectFor(type: DatabaseType): DatabaseDialect {
  const dialect = DIALECTS[type];
  if (!dialect) throw new TypeError(`unknown database type "${String(type)}"`);
  return dialect;
}

/** Starts a driver (one pool) for a connection; call validate() to test it and close() once when done. */
export function createDriver(
  type: DatabaseType,
  url: string,
  options?: DriverOptions,
): Promise<DatabaseDriver> {
  return dialectFor(type).createDriver(url, options);
}
