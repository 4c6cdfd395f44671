import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { Types } from 'mongoose';
import { Schema, type Connection, type Model } from 'mongoose';
import { DATABASE_TYPES, type DatabaseType } from '../config/config-file.ts';
import type { SchemaSnapshot } from '../core/db/database-dialect.ts';
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

export const connectionStatus = defineStateMachine({
  entity: 'DatabaseConnection',
  table: {
    disconnected: ['connecting'],
    connecting: ['connected', 'error'],
    connected: ['disconnected', 'error'],
    error: ['connecting', 'disconnected'],
  },
  initial: ['disconnected'],
  stamps: { connected: 'lastConnectedAt' },
});
export type ConnectionStatus = (typeof connectionStatus.states)[number];

/** Default age after which a cached schema is stale (DESIGN §3: 1 h, configurable). */
export const SCHEMA_CACHE_TTL_MS = 60 * 60 * 1000;

/**
 * A target database threadql may query. The connection string is never here: it lives encrypted in
 * CredentialStore under `connection:<_id>` (core/credentials/connection-secrets.ts).
 */
export interface DatabaseConnectionFields extends StatusFields<ConnectionStatus> {
  _id: Types.ObjectId;
  /** `platform:workspace` (e.g. `slack:T1`), or `*` for connections declared in threadql.yml. */
  workspace: string;
  /** Unique per workspace; stored lower-case so `Shop` and `shop` are one name. */
  name: string;
  databaseType: DatabaseType;
  description: string | null;
  /** Channel ids allowed to query it; `*` = all. */
  channels: string[];
  isDefault: boolean;
  /** `table.column` patterns (`schema.table.column`, `*` wildcards) masked in results. */
  maskedColumns: string[];
  lastConnectedAt: Date | null;
  /** Last connection failure, already redacted (never a connection string). */
  lastError: string | null;
  /**
   * The introspected SchemaSnapshot, gzipped JSON. Binary on purpose: FerretDB decodes every document a query
   * scans, and a 1,000-table snapshot as nested fields made listing connections slow; as one blob it is cheap.
   */
  schemaCache: Buffer | null;
  schemaCacheUpdatedAt: Date | null;
  /** The SchemaDefinition synced with this connection, if any. */
  schemaDefinition: Types.ObjectId | null;
  source: 'config' | 'chat';
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type DatabaseConnectionModel = Model<DatabaseConnectionFields>;

export const databaseConnectionSchema = new Schema<DatabaseConnectionFields>(
  {
    workspace: { type: String, required: true, trim: true },
    name: {
      type: String,
      required: true,
      trim: true,
      lowercase: true,
      match: [/^[a-z0-9][a-z0-9_-]{0,62}$/, 'expected letters, digits, "_" or "-" (at most 63)'],
    },
    databaseType: { type: String, enum: DATABASE_TYPES, required: true },
    description: { type: String, default: null, maxlength: 500 },
    channels: { type: [String], default: ['*'] },
    isDefault: { type: Boolean, default: false },
    maskedColumns: {
      type: [{ type: String, match: [/^[^.\s]+(\.[^.\s]+)+$/, 'expected "table.column"'] }],
      default: [],
    },
    ...statusPaths(connectionStatus),
    lastConnectedAt: { type: Date, default: null },
    lastError: { type: String, default: null, maxlength: 1000 },
    schemaCache: { type: Buffer, default: null },
    schemaCacheUpdatedAt: { type: Date, default: null },
    schemaDefinition: { type: Schema.Types.ObjectId, ref: 'SchemaDefinition', default: null },
    source: { type: String, enum: ['config', 'chat'], default: 'chat' },
    createdBy: { type: String, default: null },
  },
  { collection: 'databaseconnections', timestamps: true, versionKey: false },
);
databaseConnectionSchema.index({ workspace: 1, name: 1 }, { unique: true });
guardStatus(databaseConnectionSchema, connectionStatus);

/** The DatabaseConnection model on a given connection. */
export function databaseConnectionModel(connection: Connection): DatabaseConnectionModel {
  return modelOn<DatabaseConnectionFields>(connection, 'DatabaseConnection', databaseConnectionSchema);
}

/** A connection as a list shows it: everything but the schema cache blob. */
export type ConnectionSummary = Omit<DatabaseConnectionFields, 'schemaCache'>;

/** Connections visible in a workspace (its own plus the `*` ones from threadql.yml), sorted by name. */
export async function listConnections(
  model: DatabaseConnectionModel,
  workspace: string,
): Promise<ConnectionSummary[]> {
  return model
    .find({ workspace: { $in: [workspace, '*'] } }, { schemaCache: 0 })
    .sort({ name: 1 })
    .lean<ConnectionSummary[]>();
}

/** Moves a connection's status (disconnected → connecting → connected | error …); atomic, see transition(). */
export function transitionConnection(
  models: { DatabaseConnection: DatabaseConnectionModel; StateTransition: StateTransitionModel },
  id: Types.ObjectId | string,
  to: ConnectionStatus,
  options: TransitionOptions<ConnectionStatus> = {},
): Promise<DatabaseConnectionFields> {
  const set = { ...options.set };
  if (to === 'connected' && set.lastError === undefined) set.lastError = null;
  return transition(
    models.DatabaseConnection,
    models.StateTransition,
    connectionStatus,
    id as Types.ObjectId,
    to,
    {
      ...options,
      set,
    },
  );
}

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Stores an introspected snapshot as the connection's schema cache. */
export async function writeSchemaCache(
  model: DatabaseConnectionModel,
  id: Types.ObjectId | string,
  snapshot: SchemaSnapshot,
  now: Date = new Date(),
): Promise<void> {
  const blob = await gzipAsync(Buffer.from(JSON.stringify(snapshot)));
  await model.updateOne({ _id: id }, { $set: { schemaCache: blob, schemaCacheUpdatedAt: now } });
}

/** The cached snapshot, or undefined when there is none or it is older than `ttlMs`. */
export async function readSchemaCache(
  model: DatabaseConnectionModel,
  id: Types.ObjectId | string,
  options: { now?: Date; ttlMs?: number } = {},
): Promise<SchemaSnapshot | undefined> {
  const doc = await model
    .findById(id, { schemaCache: 1, schemaCacheUpdatedAt: 1 })
    .lean<Pick<DatabaseConnectionFields, 'schemaCache' | 'schemaCacheUpdatedAt'>>();
  if (!doc?.schemaCache || !doc.schemaCacheUpdatedAt) return undefined;
  const age = (options.now ?? new Date()).getTime() - doc.schemaCacheUpdatedAt.getTime();
  if (age > (options.ttlMs ?? SCHEMA_CACHE_TTL_MS)) return undefined;
  const raw = doc.schemaCache as unknown as Buffer | { buffer: Uint8Array };
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer);
  const parsed = JSON.parse((await gunzipAsync(bytes)).toString('utf8')) as SchemaSnapshot;
  return { ...parsed, introspectedAt: new Date(parsed.introspectedAt) };
}
