/**
 * What every migration step needs about the connection it works on: the store's models, the target's driver,
 * the connection's identity, settings, the per-connection lock and a clock. Built by the caller (a chat flow, a
 * test) once per step; nothing here opens or closes anything.
 */
import type { Types } from 'mongoose';
import type { MigrationSettings } from '../../config/config-file.ts';
import type { MigrationModel } from '../../models/migration.ts';
import type { SchemaDefinitionModel } from '../../models/schema-definition.ts';
import type { StateTransitionModel } from '../../models/state-transition.ts';
import type { DatabaseDriver } from '../db/database-dialect.ts';
import type { MigrationLock } from './migration-lock.ts';

export interface MigrationModels {
  Migration: MigrationModel;
  SchemaDefinition: SchemaDefinitionModel;
  StateTransition: StateTransitionModel;
}

export interface MigrationTarget {
  /** The DatabaseConnection document's id. */
  id: Types.ObjectId;
  /** Its configured name (for messages, locks, exports). */
  name: string;
  workspace?: string;
  driver: DatabaseDriver;
  /** The shadow database's driver, when `shadow:` is configured. */
  shadow?: DatabaseDriver;
}

export interface MigrationContext {
  models: MigrationModels;
  target: MigrationTarget;
  settings: MigrationSettings;
  lock: MigrationLock;
  now: () => Date;
}

/** The lock key and label of a connection's migration steps. */
export function connectionLock(target: MigrationTarget): [string, string] {
  return [`connection:${String(target.id)}`, `connection ${target.name}`];
}
