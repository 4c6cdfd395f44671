/**
 * From a template's text and typed values to what a driver runs: the text with each `:name` replaced by the
 * dialect's positional marker (`$1`… on PostgreSQL, `?` on MySQL and SQLite) and the values beside it, or, for
 * MongoDB, the text unchanged and the values by name. Values are never written into the text.
 */
import type { DatabaseType } from '../../config/config-file.ts';
import type { BoundValue, QueryParams } from '../db/database-dialect.ts';
import { ValidationError } from '../errors.ts';
import { findMongoPlaceholders } from './mongo-placeholders.ts';
import type { ParameterDefinition, ParameterValue } from './parameter-values.ts';
import { findSqlPlaceholders, type Placeholder } from './sql-placeholders.ts';

export interface BoundQuery {
  /** What the driver runs (and the classifier judges): positional markers instead of `:name`. */
  query: string;
  params: QueryParams;
}

/** The distinct parameter names a template's text uses, in order of first use (found by the dialect's parser). */
export async function templatePlaceholders(type: DatabaseType, text: string): Promise<string[]> {
  if (type === 'mongodb') return findMongoPlaceholders(text);
  const names: string[] = [];
  for (const p of await findSqlPlaceholders(type, text)) if (!names.includes(p.name)) names.push(p.name);
  return names;
}

/**
 * Checks a template's parameter definitions against the placeholders its text uses: every placeholder defined,
 * every definition used. Returns the problems (empty when they agree).
 */
export async function checkPlaceholders(
  type: DatabaseType,
  text: string,
  definitions: readonly ParameterDefinition[],
): Promise<string[]> {
  const used = await templatePlaceholders(type, text);
  const defined = definitions.map((d) => d.name.toLowerCase());
  const problems: string[] = [];
  const missing = used.filter((n) => !defined.includes(n));
  if (missing.length) {
    problems.push(`the query uses ${missing.map((n) => `:${n}`).join(', ')} without a definition`);
  }
  const unused = definitions.filter((d) => !used.includes(d.name.toLowerCase())).map((d) => d.name);
  if (unused.length) problems.push(`parameter(s) ${unused.join(', ')} not used in the query`);
  return problems;
}

/** The bound form of a template for one run; `values` come from resolveParameterValues. */
export async function bindTemplate(
  type: DatabaseType,
  text: string,
  definitions: readonly ParameterDefinition[],
  values: Readonly<Record<string, ParameterValue>>,
): Promise<BoundQuery> {
  const typeOf = new Map(definitions.map((d) => [d.name.toLowerCase(), d.type]));
  const valueOf = (name: string): BoundValue => {
    const entry = Object.entries(values).find(([k]) => k.toLowerCase() === name);
    const type = typeOf.get(name);
    if (!entry || !type) {
      throw new ValidationError(`The query uses :${name}, which has no definition or value.`);
    }
    return entry[1];
  };
  if (type === 'mongodb') {
    const params: Record<string, BoundValue> = {};
    for (const name of findMongoPlaceholders(text)) {
      const value = valueOf(name);
      // MongoDB compares dates as BSON dates; SQL engines take ISO text and convert it themselves.
      params[name] =
        typeOf.get(name) === 'date' && typeof value === 'string' ? new Date(`${value}T00:00:00.000Z`) : value;
    }
    return { query: text, params };
  }
  const placeholders = await findSqlPlaceholders(type, text);
  const order: string[] = [];
  const params: BoundValue[] = [];
  const marker = (p: Placeholder): string => {
    if (type === 'postgres') {
      // One $n per name: PostgreSQL infers one type for it, and the value travels once.
      let index = order.indexOf(p.name);
      if (index < 0) {
        order.push(p.name);
        params.push(valueOf(p.name));
        index = order.length - 1;
      }
      return `$${index + 1}`;
    }
    params.push(valueOf(p.name));
    return '?';
  };
  let query = '';
  let at = 0;
  for (const p of placeholders) {
    query += text.slice(at, p.start) + marker(p);
    at = p.end;
  }
  query += text.slice(at);
  return { query, params };
}
