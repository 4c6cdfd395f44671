import { classifyMongoQuery } from '../../safety/classify-mongo-query.ts';
import type { DatabaseDialect } from '../database-dialect.ts';
import { MongoDriver } from './mongodb-driver.ts';

/** MongoDB (and FerretDB) through the official driver: read-command allow-list, maxTimeMS, sampled schemas. */
export const mongodbDialect: DatabaseDialect = {
  type: 'mongodb',
  capabilities: {
    queryLanguage: 'mongo',
    transactionalDdl: false,
    // Enforced by a command allow-list (find / aggregate without $out and $merge / count / distinct).
    enforcedReadOnly: true,
    explainEstimate: false,
    identifierQuote: '',
    displayName: 'MongoDB',
  },
  async createDriver(url, options) {
    return new MongoDriver(mongodbDialect, url, options);
  },
  async classify(query) {
    return classifyMongoQuery(query);
  },
};
