/**
 * Message intent for one connection: wires the pure rules of message-intent.ts to the connection's dialect (its
 * parser's reading of names, its built-ins and settings) and to its schema (read only when a message needs it).
 */
import type { SchemaSnapshot } from '../db/database-dialect.ts';
import { bareTableName } from '../governance/masking-policy.ts';
import { isSqlDialect } from '../safety/classify-sql.ts';
import { readSqlNames } from '../safety/sql-names.ts';
import { sqlVocabulary } from '../safety/sql-vocabulary.ts';
import type { ResolvedConnection } from './engine-ports.ts';
import { readMessageIntent, type IntentInputs, type MessageIntent } from './message-intent.ts';

/** The intent inputs for a connection; `schema` loads its (cached) schema snapshot. */
export function intentInputsFor(
  connection: ResolvedConnection,
  schema: () => Promise<Pick<SchemaSnapshot, 'tables'>>,
): IntentInputs {
  const { dialect } = connection.driver;
  const schemaNames = async () => {
    const { tables } = await schema();
    return {
      // PostgreSQL names tables outside `public` `schema.table`; a query reading `schema.table` names `table`.
      tables: tables.flatMap((t) => [t.name, bareTableName(t)]),
      columns: tables.flatMap((t) => t.columns.map((c) => c.name)),
    };
  };
  if (dialect.capabilities.queryLanguage === 'mongo' || !isSqlDialect(dialect.type)) {
    return { queryLanguage: 'mongo', schemaNames };
  }
  const sql = dialect.type;
  return {
    queryLanguage: 'sql',
    readNames: (text) => readSqlNames(text, sql),
    schemaNames,
    vocabulary: sqlVocabulary(sql),
  };
}

/** What `text` is on this connection (see message-intent.ts). */
export function readConnectionIntent(
  text: string,
  connection: ResolvedConnection,
  schema: () => Promise<Pick<SchemaSnapshot, 'tables'>>,
): Promise<MessageIntent> {
  return readMessageIntent(text, intentInputsFor(connection, schema));
}
