/**
 * How a function call inside a query is judged. A function can do anything (sleep, kill a session, write a file,
 * open a connection elsewhere), and the database's READ ONLY transaction stops only writes to this database. So a
 * call keeps a statement `read` only when the function is on the dialect's list of built-ins known to be free of
 * side effects, or on the deployment's own `safeFunctions` list; a call on the dialect's deny-list, or to any other
 * function (user-defined, extension, schema-qualified elsewhere), makes the statement `other`, which needs an
 * approver. The deny-list exists for clearer reasons and to win over the allow-list where a name is on both.
 */

export interface FunctionPolicy {
  /** Names (lower-case) of built-ins known to be free of side effects. */
  safe: ReadonlySet<string>;
  /** Names (lower-case) of built-ins known to have side effects, with what they do. */
  dangerous: ReadonlyMap<string, string>;
}

export interface ClassifyOptions {
  /**
   * Extra functions this deployment vouches for as free of side effects, e.g. its own pure SQL functions or an
   * extension's (PostGIS `st_distance`). Matched against the call's name, or `schema.name` when qualified;
   * case-insensitive for MySQL and SQLite, exact for PostgreSQL (whose unquoted names are already lower-case).
   * A PostgreSQL operator that is not built in is vouched for as `operator ===` (or `operator schema.===`).
   */
  safeFunctions?: readonly string[];
}

export interface FunctionCall {
  /** The function's name as the parser resolved it (PostgreSQL folds unquoted names to lower case). */
  name: string;
  /** The schema (or database) it was qualified with, if any. */
  schema?: string;
  /** The schema whose functions are the built-ins, e.g. `pg_catalog`; a call qualified with it is a built-in. */
  builtinSchema?: string;
}

/** Why a function call stops a statement from being a read, or undefined when the call is known to be safe. */
export function judgeFunctionCall(
  call: FunctionCall,
  policy: FunctionPolicy,
  options: ClassifyOptions & { caseInsensitive: boolean },
): string | undefined {
  const fold = (s: string): string => (options.caseInsensitive ? s.toLowerCase() : s);
  const name = fold(call.name);
  const schema = call.schema === undefined ? undefined : fold(call.schema);
  const qualified = schema === undefined ? name : `${schema}.${name}`;
  const builtin = schema === undefined || schema === call.builtinSchema;
  const danger = builtin ? policy.dangerous.get(name) : undefined;
  if (danger !== undefined) return `calls ${qualified}(), which ${danger}`;
  const extra = options.safeFunctions?.map(fold) ?? [];
  if (extra.includes(qualified)) return undefined;
  if (builtin && policy.safe.has(name)) return undefined;
  return `calls ${qualified}(), which is not on the list of functions known to have no side effects`;
}
