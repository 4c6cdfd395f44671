/**
 * Keeps a connection's SchemaDefinition in step with its live schema (DESIGN §3: draft → synced → outdated):
 * created from introspection on first use, synced after every migration threadql applies or rolls back, and
 * marked `outdated` when introspection finds the live schema changed outside threadql. Its `mermaidDiagram` is
 * redrawn with every sync. threadql's own tables (schema history, shadow marker) are never part of it.
 */
import type { Types } from 'mongoose';
import type { SchemaDefinitionFields, SchemaDefinitionModel } from '../../models/schema-definition.ts';
import { transitionSchemaDefinition } from '../../models/schema-definition.ts';
import type { StateTransitionModel } from '../../models/state-transition.ts';
import { schemaToMermaid } from '../../renderers/erd/erd-mermaid.ts';
import type { SchemaSnapshot } from '../db/database-dialect.ts';
import { describeChange, diffSchemas, userTables } from './schema-diff.ts';

export interface SchemaDefinitionModels {
  SchemaDefinition: SchemaDefinitionModel;
  StateTransition: StateTransitionModel;
}

/** The snapshot without threadql's own tables (and relationships to them). */
export function userSnapshot(snapshot: SchemaSnapshot): SchemaSnapshot {
  const tables = userTables(snapshot);
  const names = new Set(tables.map((t) => t.name));
  return {
    ...snapshot,
    tables,
    relationships: snapshot.relationships.filter((r) => names.has(r.fromTable) && names.has(r.toTable)),
  };
}

function fieldsOf(snapshot: SchemaSnapshot, now: Date) {
  const own = userSnapshot(snapshot);
  return {
    databaseType: own.databaseType,
    tables: own.tables,
    relationships: own.relationships,
    introspectedAt: own.introspectedAt,
    catalogQueries: own.catalogQueries,
    mermaidDiagram: schemaToMermaid(own).mermaid,
    syncedAt: now,
  };
}

/** The connection's SchemaDefinition, created (synced) from `snapshot` when it has none yet. */
export async function ensureSchemaDefinition(
  models: SchemaDefinitionModels,
  connection: { id: Types.ObjectId; name: string; workspace?: string },
  snapshot: SchemaSnapshot,
  now: Date = new Date(),
): Promise<SchemaDefinitionFields> {
  const found = await models.SchemaDefinition.findOne({
    connection: connection.id,
  }).lean<SchemaDefinitionFields>();
  if (found) return found;
  const created = await models.SchemaDefinition.create({
    workspace: connection.workspace ?? '*',
    name: connection.name,
    connection: connection.id,
    status: 'synced',
    ...fieldsOf(snapshot, now),
  });
  return created.toObject() as SchemaDefinitionFields;
}

/** Stores `snapshot` as the definition's shape and marks it synced (after an apply or roll back). */
export async function syncSchemaDefinition(
  models: SchemaDefinitionModels,
  id: Types.ObjectId,
  snapshot: SchemaSnapshot,
  options: { now?: Date; actor?: string } = {},
): Promise<void> {
  const now = options.now ?? new Date();
  const current = await models.SchemaDefinition.findById(id, { status: 1 }).lean<
    Pick<SchemaDefinitionFields, 'status'>
  >();
  if (!current) return;
  await models.SchemaDefinition.updateOne({ _id: id }, { $set: fieldsOf(snapshot, now) });
  if (current.status !== 'synced') {
    await transitionSchemaDefinition(models, id, 'synced', {
      now,
      ...(options.actor ? { actor: options.actor } : {}),
    });
  }
}

/**
 * Compares the stored definition with a fresh introspection; when the live schema changed outside threadql the
 * definition becomes `outdated`. Returns the changes found, in words (empty when in step).
 */
export async function checkSchemaDefinition(
  models: SchemaDefinitionModels,
  id: Types.ObjectId,
  live: SchemaSnapshot,
  now: Date = new Date(),
): Promise<string[]> {
  const stored = await models.SchemaDefinition.findById(id).lean<SchemaDefinitionFields>();
  if (!stored) return [];
  const changes = diffSchemas(stored.tables, live).map(describeChange);
  if (changes.length > 0 && stored.status === 'synced') {
    await transitionSchemaDefinition(models, id, 'outdated', { now, actor: 'system' });
  }
  return changes;
}
