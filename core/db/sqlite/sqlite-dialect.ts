import { classifySql } from '../../safety/classify-sql.ts';
import type { DatabaseDialect } from '../database-dialect.ts';
import { SqliteDriver } from './sqlite-driver.ts';

/** SQLite files through better-sqlite3 in worker processes: read-only handles, killable time limits, transactional DDL. */
export const sqliteDialect: DatabaseDialect = {
  type: 'sqlite',
  capabilities: {
    queryLanguage: 'sql',
    transactionalDdl: true,
    enforcedReadOnly: true,
    explainEstimate: false,
    identifierQuote: '"',
    displayName: 'SQLite',
  },
  async createDriver(url, options) {
    return new SqliteDriver(sqliteDialect, url, options);
  },
  classify(query) {
    return classifySql(query, 'sqlite');
  },
};
