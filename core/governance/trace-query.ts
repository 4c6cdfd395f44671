/**
 * One entry point from a query's text to its lineage, per dialect: the dialect's own parser where possible, and a
 * conservative token scan where the text does not parse or is not a query the translators follow.
 */
import type { DatabaseType } from '../../config/config-file.ts';
import type { SchemaSnapshot } from '../db/database-dialect.ts';
import { mongoLineage } from './mongo-lineage.ts';
import { mysqlLineage } from './mysql-lineage.ts';
import { postgresLineage } from './postgres-lineage.ts';
import { resolveLineage, type QueryLineage } from './resolve-lineage.ts';
import { sqliteLineage } from './sqlite-lineage.ts';
import type { LineageQuery } from './lineage-ir.ts';
import { bareTableName, sourceOf } from './masking-policy.ts';

async function translate(query: string, type: Exclude<DatabaseType, 'mongodb'>): Promise<LineageQuery> {
  switch (type) {
    case 'postgres':
      return postgresLineage(query);
    case 'mysql':
      return mysqlLineage(query);
    case 'sqlite':
      return sqliteLineage(query);
  }
}

/** Traces which table columns each result column of `query` shows; never throws. */
export async function traceQuery(
  query: string,
  type: DatabaseType,
  schema: Pick<SchemaSnapshot, 'tables'>,
): Promise<QueryLineage> {
  try {
    if (type === 'mongodb') return mongoLineage(query, schema);
    const ir = await translate(query, type);
    if (ir.kind === 'opaque') return scanLineage(query, schema);
    return resolveLineage(ir, schema);
  } catch {
    return scanLineage(query, schema);
  }
}

/**
 * The fallback for text no translator follows: every column of every table the text names counts as read,
 * and no result column is traced, so any masked column of those tables masks the whole result.
 */
export function scanLineage(query: string, schema: Pick<SchemaSnapshot, 'tables'>): QueryLineage {
  const tokens = new Set([...query.toLowerCase().matchAll(/[\p{L}_][\p{L}\p{N}_$]*/gu)].map((m) => m[0]));
  const tables = schema.tables.filter((t) => tokens.has(bareTableName(t).toLowerCase()));
  return {
    columns: [],
    exact: false,
    referenced: tables.flatMap((t) => t.columns.map((c) => sourceOf(t, c.name))),
    unresolvedNames: [],
    tables: tables.map((t) => ({
      ...(t.schema ? { schema: t.schema } : {}),
      name: bareTableName(t),
      known: true,
    })),
  };
}
