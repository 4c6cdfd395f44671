import type { DatabaseError } from '../../errors.ts';
import { databaseError, isNetworkError, messageOf } from '../database-errors.ts';

const ENGINE = 'MySQL';

// Server error numbers (errno) that mean the database cannot be used at all.
const UNAVAILABLE = new Set([1040, 1044, 1045, 1049, 1129, 1130, 1203, 2002, 2003, 2005, 2006, 2013]);
// 1969: MariaDB max_statement_time; 3024: MySQL max_execution_time.
const TIMEOUT = new Set([1969, 3024]);
// 1792: statement not allowed in a READ ONLY transaction; 1290 / 1836: server or session read-only.
const READ_ONLY = new Set([1792, 1290, 1836]);

/** Maps a mysql2 error to a DatabaseError by errno; `cancelled` marks a user abort (KILL QUERY). */
export function mysqlError(error: unknown, secrets: readonly string[], cancelled = false): DatabaseError {
  const e = (error ?? {}) as { errno?: unknown; code?: unknown; fatal?: unknown };
  const errno = typeof e.errno === 'number' ? e.errno : 0;
  const message = messageOf(error);
  const detail = errno ? { errno } : {};
  if (cancelled)
    return databaseError('query_failed', ENGINE, 'the query was cancelled', secrets, error, detail);
  if (TIMEOUT.has(errno)) return databaseError('query_timeout', ENGINE, message, secrets, error, detail);
  if (READ_ONLY.has(errno))
    return databaseError('read_only_violation', ENGINE, message, secrets, error, detail);
  if (
    UNAVAILABLE.has(errno) ||
    isNetworkError(error) ||
    e.code === 'PROTOCOL_CONNECTION_LOST' ||
    (e.fatal === true && errno === 0)
  ) {
    return databaseError('database_unavailable', ENGINE, message, secrets, error, detail);
  }
  return databaseError('query_failed', ENGINE, message, secrets, error, detail);
}
