/**
 * Splits MySQL/MariaDB text into statement texts with the server's lexical rules, for display and for the
 * classifier's cross-checks only (never for the verdict itself, which comes from the parser's own statement list):
 * quotes with backslash escapes and doubled quotes, backtick identifiers, `#` comments, `-- ` comments (which need
 * whitespace after the dashes: `1 --1` is arithmetic), and executable comments `/*! … *\/` and `/*M! … *\/`, whose
 * contents the server runs and so are code here.
 */

export interface MysqlPiece {
  /** The statement's text, trimmed. */
  text: string;
  /** The first two words of code, upper-cased (e.g. "LOAD DATA"), for naming a statement the parser rejected. */
  lead: string;
  /** True when the piece has an executable comment (`/*!…*\/` or MariaDB's `/*M!…*\/`). */
  executableComment: boolean;
}

/** Splits at top-level semicolons; pieces with nothing but whitespace and comments are dropped. */
export function splitMysql(sql: string): MysqlPiece[] {
  const pieces: MysqlPiece[] = [];
  let start = 0;
  let hasCode = false;
  let executable = false;
  let inExecutable = false;
  let words: string[] = [];
  let i = 0;
  const flush = (end: number): void => {
    const text = sql.slice(start, end).trim();
    const lead = words.slice(0, 2).join(' ').trim().toUpperCase();
    if (hasCode && text) pieces.push({ text, lead, executableComment: executable });
    hasCode = false;
    executable = inExecutable;
    words = [];
  };
  while (i < sql.length) {
    const c = sql[i] as string;
    const next = sql[i + 1] ?? '';
    if (c === "'" || c === '"' || c === '`') {
      i = skipQuoted(sql, i, c);
      hasCode = true;
      words.push('');
      continue;
    }
    if (c === '#' || (c === '-' && next === '-' && isDashCommentEnd(sql, i + 2))) {
      const eol = sql.indexOf('\n', i);
      i = eol === -1 ? sql.length : eol + 1;
      continue;
    }
    if (c === '/' && next === '*') {
      const exec = /^\/\*(M?!)(\d{5,6})?/.exec(sql.slice(i, i + 10));
      if (exec && !inExecutable) {
        inExecutable = true;
        executable = true;
        i += exec[0].length;
        continue;
      }
      const close = sql.indexOf('*/', i + 2);
      i = close === -1 ? sql.length : close + 2;
      continue;
    }
    if (c === '*' && next === '/' && inExecutable) {
      inExecutable = false;
      i += 2;
      continue;
    }
    if (c === ';') {
      flush(i);
      start = i + 1;
      i += 1;
      continue;
    }
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(i, i + 64));
    hasCode = true;
    if (word) {
      words.push(word[0]);
      i += word[0].length;
    } else {
      words.push('');
      i += 1;
    }
  }
  flush(sql.length);
  return pieces;
}

/** Index just past a quoted string or identifier starting at `i`. */
function skipQuoted(sql: string, i: number, quote: string): number {
  let j = i + 1;
  while (j < sql.length) {
    const c = sql[j];
    if (c === '\\' && quote !== '`') {
      j += 2;
      continue;
    }
    if (c === quote) {
      if (sql[j + 1] === quote) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j += 1;
  }
  return sql.length;
}

/** MySQL starts a `--` comment only when the dashes are followed by whitespace, a control character or the end. */
function isDashCommentEnd(sql: string, i: number): boolean {
  if (i >= sql.length) return true;
  const code = sql.charCodeAt(i);
  return code <= 0x20 || /\s/.test(sql[i] ?? '');
}
