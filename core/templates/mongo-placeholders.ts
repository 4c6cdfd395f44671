/**
 * Parameters of a MongoDB template. The query is Extended JSON, so a parameter is a whole string value `":name"`
 * (`{"country": ":country"}`, `{"$gte": ":since"}`), found by walking the parsed document, never by searching the
 * text: a key, or a longer string that merely contains `:name`, is not a parameter. At run time each one is
 * replaced by its typed value (a number, a boolean, a BSON date, a string) in the parsed query, so a value can
 * never become an operator or change the query's shape.
 */
import { isPlainObject, readExtendedJson } from '../safety/mongo-query.ts';

const PLACEHOLDER = /^:([A-Za-z_][A-Za-z0-9_]*)$/;

/** The parameter named by a value, when the value is exactly `":name"`. */
function placeholderName(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return PLACEHOLDER.exec(value)?.[1]?.toLowerCase();
}

/** The `":name"` parameters of a MongoDB query (Extended JSON text), in document order, each name once. */
export function findMongoPlaceholders(text: string): string[] {
  const names: string[] = [];
  const visit = (value: unknown): void => {
    const name = placeholderName(value);
    if (name !== undefined) {
      if (!names.includes(name)) names.push(name);
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (isPlainObject(value)) Object.values(value).forEach(visit);
  };
  visit(readExtendedJson(text));
  return names;
}

/**
 * A copy of `value` with every `":name"` whose name is in `values` replaced by that value. BSON values (ObjectId,
 * Date, Decimal128…) are kept as they are; strings naming no given parameter stay literal strings.
 */
export function substituteMongoPlaceholders<T>(value: T, values: Readonly<Record<string, unknown>>): T {
  const known = new Map(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
  const copy = (current: unknown): unknown => {
    const name = placeholderName(current);
    if (name !== undefined && known.has(name)) return known.get(name);
    if (Array.isArray(current)) return current.map(copy);
    if (isPlainObject(current)) {
      return Object.fromEntries(Object.entries(current).map(([k, v]) => [k, copy(v)]));
    }
    return current;
  };
  return copy(value) as T;
}
