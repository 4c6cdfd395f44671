import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { DATABASE_TYPES, type DatabaseType } from '../config/config-file.ts';
import type { RelationshipInfo, SchemaSnapshot, TableInfo } from '../core/db/database-dialect.ts';
import {
  defineStateMachine,
  guardStatus,
  statusPaths,
  transition,
  type StatusFields,
  type TransitionOptions,
} from './state-machine.ts';
import type { StateTransitionModel } from './state-transition.ts';
import { modelOn } from './model-on.ts';

export const schemaStatus = defineStateMachine({
  entity: 'SchemaDefinition',
  table: { draft: ['synced'], synced: ['outdated'], outdated: ['synced'] },
  // An introspected snapshot is synced the moment it is stored.
  initial: ['draft', 'synced'],
  stamps: { synced: 'syncedAt', outdated: 'outdatedAt' },
});
export type SchemaStatus = (typeof schemaStatus.states)[number];

/** A database's shape: a design draft, or a stored SchemaSnapshot (same tables/relationships shape). */
export interface SchemaDefinitionFields extends StatusFields<SchemaStatus> {
  _id: Types.ObjectId;
  workspace: string;
  name: string;
  description: string | null;
  databaseType: DatabaseType;
  connection: Types.ObjectId | null;
  tables: TableInfo[];
  relationships: RelationshipInfo[];
  introspectedAt: Date | null;
  catalogQueries: number | null;
  mermaidDiagram: string | null;
  syncedAt: Date | null;
  outdatedAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type SchemaDefinitionModel = Model<SchemaDefinitionFields>;

const columnSchema = new Schema(
  {
    name: { type: String, required: true },
    type: { type: String, required: true },
    nullable: { type: Boolean, required: true },
    defaultValue: { type: String, default: undefined },
    isPrimaryKey: { type: Boolean, required: true, default: false },
    comment: { type: String, default: undefined },
  },
  { _id: false },
);
const foreignKeySchema = new Schema(
  {
    name: { type: String, default: undefined },
    columns: { type: [String], required: true },
    referencedTable: { type: String, required: true },
    referencedColumns: { type: [String], required: true },
  },
  { _id: false },
);
const indexSchema = new Schema(
  {
    name: { type: String, required: true },
    columns: { type: [String], required: true },
    unique: { type: Boolean, required: true },
    primary: { type: Boolean, required: true },
    constraint: { type: Boolean, default: undefined },
  },
  { _id: false },
);
const tableSchema = new Schema(
  {
    schema: { type: String, default: undefined },
    name: { type: String, required: true },
    kind: { type: String, enum: ['table', 'view', 'collection'], required: true },
    columns: { type: [columnSchema], default: [] },
    primaryKey: { type: [String], default: [] },
    foreignKeys: { type: [foreignKeySchema], default: [] },
    indexes: { type: [indexSchema], default: [] },
    rowEstimate: { type: Number, default: undefined },
    comment: { type: String, default: undefined },
  },
  { _id: false },
);
const relationshipSchema = new Schema(
  {
    name: { type: String, default: undefined },
    fromTable: { type: String, required: true },
    fromColumns: { type: [String], required: true },
    toTable: { type: String, required: true },
    toColumns: { type: [String], required: true },
    cardinality: { type: String, enum: ['many-to-one', 'one-to-one'], required: true },
  },
  { _id: false },
);

export const schemaDefinitionSchema = new Schema<SchemaDefinitionFields>(
  {
    workspace: { type: String, required: true },
    name: { type: String, required: true, trim: true, maxlength: 200 },
    description: { type: String, default: null },
    databaseType: { type: String, enum: DATABASE_TYPES, required: true },
    connection: { type: Schema.Types.ObjectId, ref: 'DatabaseConnection', default: null },
    tables: { type: [tableSchema], default: [] },
    relationships: { type: [relationshipSchema], default: [] },
    introspectedAt: { type: Date, default: null },
    catalogQueries: { type: Number, default: null },
    mermaidDiagram: { type: String, default: null },
    ...statusPaths(schemaStatus),
    syncedAt: { type: Date, default: null },
    outdatedAt: { type: Date, default: null },
    createdBy: { type: String, default: null },
  },
  { collection: 'schemadefinitions', timestamps: true, versionKey: false },
);
schemaDefinitionSchema.index({ workspace: 1, name: 1 });
schemaDefinitionSchema.index({ connection: 1 });

/** The names a relationship may use for a table: `name`, and `schema.name` when it has a schema. */
function tableNames(table: Pick<TableInfo, 'schema' | 'name'>): string[] {
  return table.schema ? [`${table.schema}.${table.name}`, table.name] : [table.name];
}

schemaDefinitionSchema.pre('validate', function () {
  const seen = new Set<string>();
  const known = new Set<string>();
  for (const table of this.tables) {
    const qualified = tableNames(table)[0]!;
    if (seen.has(qualified)) this.invalidate('tables', `table "${qualified}" appears twice`);
    seen.add(qualified);
    for (const n of tableNames(table)) known.add(n);
  }
  for (const rel of this.relationships) {
    for (const end of [rel.fromTable, rel.toTable]) {
      if (!known.has(end)) this.invalidate('relationships', `relationship refers to unknown table "${end}"`);
    }
  }
});
guardStatus(schemaDefinitionSchema, schemaStatus);

/** The SchemaDefinition model on a given connection. */
export function schemaDefinitionModel(connection: Connection): SchemaDefinitionModel {
  return modelOn<SchemaDefinitionFields>(connection, 'SchemaDefinition', schemaDefinitionSchema);
}

/** Fields for a new, synced SchemaDefinition from an introspected snapshot. */
export function schemaDefinitionFromSnapshot(
  snapshot: SchemaSnapshot,
  meta: { workspace: string; name: string; connection?: Types.ObjectId | null; createdBy?: string | null },
): Partial<SchemaDefinitionFields> {
  return {
    ...meta,
    databaseType: snapshot.databaseType,
    tables: snapshot.tables,
    relationships: snapshot.relationships,
    introspectedAt: snapshot.introspectedAt,
    catalogQueries: snapshot.catalogQueries,
    status: 'synced',
    syncedAt: snapshot.introspectedAt,
  };
}

/** The stored definition as a SchemaSnapshot (what renderers and the LLM context take). */
export function snapshotOf(
  def: Pick<
    SchemaDefinitionFields,
    'databaseType' | 'tables' | 'relationships' | 'introspectedAt' | 'catalogQueries' | 'updatedAt'
  >,
): SchemaSnapshot {
  return {
    databaseType: def.databaseType,
    tables: def.tables,
    relationships: def.relationships,
    introspectedAt: def.introspectedAt ?? def.updatedAt,
    catalogQueries: def.catalogQueries ?? 0,
  };
}

/** Moves a definition draft → synced → outdated → synced; atomic, see transition(). */
export function transitionSchemaDefinition(
  models: { SchemaDefinition: SchemaDefinitionModel; StateTransition: StateTransitionModel },
  id: Types.ObjectId | string,
  to: SchemaStatus,
  options: TransitionOptions<SchemaStatus> = {},
): Promise<SchemaDefinitionFields> {
  return transition(
    models.SchemaDefinition,
    models.StateTransition,
    schemaStatus,
    id as Types.ObjectId,
    to,
    options,
  );
}
