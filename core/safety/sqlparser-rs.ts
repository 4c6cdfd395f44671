/**
 * The one loader of sqlparser-rs (Apache DataFusion's SQL parser, compiled to WASM by @guanmingchiu/sqlparser-ts):
 * the WASM module is instantiated once per process, on first use.
 */
import { init, parseWithComments } from '@guanmingchiu/sqlparser-ts';

let ready: Promise<void> | undefined;

export interface RsParse {
  statements: Array<Record<string, unknown>>;
  comments: Array<{ content: string }>;
}

/** Parses with sqlparser-rs in the given dialect; throws the parser's error when it does not parse. */
export async function parseWithSqlparserRs(sql: string, dialect: 'mysql' | 'sqlite'): Promise<RsParse> {
  ready ??= init();
  await ready;
  const result = parseWithComments(sql, dialect) as unknown as {
    statements: Array<Record<string, unknown>>;
    comments: Array<{ content: string }>;
  };
  return { statements: result.statements, comments: result.comments ?? [] };
}
