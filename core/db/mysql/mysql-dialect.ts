import { classifySql } from '../../safety/classify-sql.ts';
import type { DatabaseDialect } from '../database-dialect.ts';
import { MysqlDriver } from './mysql-driver.ts';

/** MySQL and MariaDB through mysql2: read-only transactions, statement time limits, streamed row caps. */
export const mysqlDialect: DatabaseDialect = {
  type: 'mysql',
  capabilities: {
    queryLanguage: 'sql',
    // DDL commits implicitly: a DDL dry run is refused rather than run.
    transactionalDdl: false,
    enforcedReadOnly: true,
    explainEstimate: true,
    identifierQuote: '`',
    displayName: 'MySQL / MariaDB',
  },
  async createDriver(url, options) {
    return new MysqlDriver(mysqlDialect, url, options);
  },
  classify(query) {
    return classifySql(query, 'mysql');
  },
};
