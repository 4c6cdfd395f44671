import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The database file a SQLite connection URL names: `sqlite:///abs/path.db`, `sqlite:relative.db`,
 * `file:///abs/path.db`, or a plain path; relative paths resolve against `cwd`.
 */
export function sqliteFileFromUrl(url: string, cwd = process.cwd()): string {
  const trimmed = url.trim();
  let file: string;
  if (/^file:/i.test(trimmed)) file = fileURLToPath(trimmed.replace(/\?.*$/, ''));
  else if (/^sqlite3?:/i.test(trimmed)) {
    // sqlite:///abs → /abs ; sqlite://rel → rel ; sqlite:rel → rel
    file = decodeURIComponent(trimmed.replace(/^sqlite3?:(\/\/)?/i, '').replace(/\?.*$/, ''));
  } else file = trimmed;
  if (file === '' || file === ':memory:') {
    throw new TypeError('a SQLite connection needs a database file (in-memory databases cannot be shared)');
  }
  return path.resolve(cwd, file);
}
