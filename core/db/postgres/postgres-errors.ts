import type { DatabaseError } from '../../errors.ts';
import { databaseError, isNetworkError, messageOf } from '../database-errors.ts';

const ENGINE = 'PostgreSQL';

/** Maps a node-postgres error to a DatabaseError by SQLSTATE class; `cancelled` marks a user abort. */
export function postgresError(error: unknown, secrets: readonly string[], cancelled = false): DatabaseError {
  const code = (error as { code?: unknown } | null)?.code;
  const sqlstate = typeof code === 'string' ? code : '';
  const message = messageOf(error);
  const detail = sqlstate ? { sqlstate } : {};
  if (sqlstate === '57014') {
    return cancelled
      ? databaseError('query_failed', ENGINE, 'the query was cancelled', secrets, error, detail)
      : databaseError('query_timeout', ENGINE, `${message} (statement timeout)`, secrets, error, detail);
  }
  if (sqlstate === '25006')
    return databaseError('read_only_violation', ENGINE, message, secrets, error, detail);
  if (
    isNetworkError(error) ||
    /^(08|28|3D|53|57P)/.test(sqlstate) ||
    /Connection terminated|timeout expired|connect|ended unexpectedly/i.test(sqlstate ? '' : message)
  ) {
    return databaseError('database_unavailable', ENGINE, message, secrets, error, detail);
  }
  return databaseError('query_failed', ENGINE, message, secrets, error, detail);
}
