/**
 * Database-qualified object names in a MySQL/MariaDB script (`shop.orders`). On a shadow database they would reach
 * past the shadow into the real database (MySQL lets one connection touch every database it may see), so a script
 * that has them is not tried there.
 */
import { parseWithSqlparserRs } from '../safety/sqlparser-rs.ts';

type Part = { Identifier?: { value?: unknown } };

function isObjectName(node: unknown): node is Part[] {
  return (
    Array.isArray(node) &&
    node.length >= 2 &&
    node.every(
      (p) =>
        p !== null &&
        typeof p === 'object' &&
        Object.keys(p as object).length === 1 &&
        'Identifier' in (p as object),
    )
  );
}

/** The qualified object names (`db.table`) a MySQL script uses, plus `USE db`; empty when it does not parse. */
export async function qualifiedMysqlNames(script: string): Promise<string[]> {
  let statements: unknown[];
  try {
    statements = (await parseWithSqlparserRs(script, 'mysql')).statements;
  } catch {
    return [];
  }
  const found = new Set<string>();
  const columnTargets = new WeakSet<object>();
  const stack: unknown[] = [...statements];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isObjectName(node) && !columnTargets.has(node)) {
      found.add(node.map((p) => String(p.Identifier?.value ?? '')).join('.'));
      continue;
    }
    if (Array.isArray(node)) stack.push(...node);
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'Use') found.add(`USE ${JSON.stringify(value).replace(/.*"value":"([^"]*)".*/, '$1')}`);
        // `SET o.total = …` names a column through its table alias, not an object in another database.
        if (key === 'ColumnName' && Array.isArray(value)) columnTargets.add(value);
        stack.push(value);
      }
    }
  }
  return [...found];
}
