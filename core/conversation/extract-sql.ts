/**
 * Finds a query the user typed themselves, so it can skip the LLM: a fenced ```sql block (certain), or a
 * message that starts with a statement keyword (SELECT, WITH, EXPLAIN, UPDATE, …; a candidate the engine
 * keeps only if the dialect's parser accepts it, so "select the top customers" still goes to Claude).
 * Writes are recognised too, so they are classified and refused rather than sent to Claude.
 */
const FENCED = /```(?:sql|postgres|postgresql|mysql|sqlite|json)?[ \t]*\n([\s\S]*?)```/i;
const LEADING =
  /^\s*(select|with|explain|show|describe|desc|table|values|pragma|insert|update|delete|merge|replace|upsert|create|alter|drop|truncate|grant|revoke|set|call|do|copy|vacuum|analyze|begin|start|commit|rollback|lock|load|attach)\b/i;
const MONGO_JSON = /^\s*\{[\s\S]*"collection"\s*:/;

export interface TypedQuery {
  query: string;
  /** True when the user fenced it or wrote MongoDB JSON: it is a query even if it does not parse. */
  certain: boolean;
}

/** The query text when the message already is (or looks like) a query, else undefined. */
export function extractSql(text: string): TypedQuery | undefined {
  const fenced = FENCED.exec(text);
  if (fenced?.[1]?.trim()) return { query: fenced[1].trim(), certain: true };
  const trimmed = text.trim();
  if (MONGO_JSON.test(trimmed)) return { query: trimmed, certain: true };
  if (LEADING.test(trimmed)) return { query: trimmed, certain: false };
  return undefined;
}
