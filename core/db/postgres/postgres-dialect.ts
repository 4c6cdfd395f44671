import { classifySql } from '../../safety/classify-sql.ts';
import type { DatabaseDialect } from '../database-dialect.ts';
import { PostgresDriver } from './postgres-driver.ts';

/** PostgreSQL through node-postgres: read-only transactions, statement_timeout, cursors, transactional DDL. */
export const postgresDialect: DatabaseDialect = {
  type: 'postgres',
  capabilities: {
    queryLanguage: 'sql',
    transactionalDdl: true,
    enforcedReadOnly: true,
    explainEstimate: true,
    identifierQuote: '"',
    displayName: 'PostgreSQL',
  },
  async createDriver(url, options) {
    return new PostgresDriver(postgresDialect, url, options);
  },
  classify(query) {
    return classifySql(query, 'postgres');
  },
};
