/**
 * Builds the MigrationContext of a configured connection for a chat turn: its DatabaseConnection id in the store,
 * its live driver (through the connection provider, so breakers and status bookkeeping apply), and its shadow
 * database's driver when `shadow:` is configured (started on first use, closed with threadql).
 */
import type { ConnectionConfig, MigrationSettings } from '../../config/config-file.ts';
import type { DatabaseConnectionModel } from '../../models/database-connection.ts';
import type { ConnectionProvider } from '../conversation/engine-ports.ts';
import type { DatabaseDriver } from '../db/database-dialect.ts';
import { dialectFor } from '../db/dialects.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import type { MigrationContext, MigrationModels } from './migration-context.ts';
import type { MigrationLock } from './migration-lock.ts';

export interface MigrationTargetsOptions {
  connections: ConnectionProvider;
  /** threadql.yml's connections (types and shadow URLs). */
  configs: readonly ConnectionConfig[];
  models: MigrationModels & { DatabaseConnection: DatabaseConnectionModel };
  settings: MigrationSettings;
  lock: MigrationLock;
  now: () => Date;
}

/** The connections' migration contexts, and the shadow drivers they opened. */
export class MigrationTargets {
  readonly #options: MigrationTargetsOptions;
  readonly #shadows = new Map<string, Promise<DatabaseDriver>>();

  constructor(options: MigrationTargetsOptions) {
    this.#options = options;
  }

  /** The context for migrations on connection `name` (the channel check happened when the turn resolved it). */
  async context(name: string): Promise<MigrationContext> {
    const { connections, configs, models, settings, lock, now } = this.#options;
    const config = configs.find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (!config) throw new NotFoundError(`There is no connection named "${name}".`);
    if (config.type === 'mongodb') {
      throw new ValidationError(`Migrations are for SQL databases; ${config.name} is MongoDB.`);
    }
    const doc = await models.DatabaseConnection.findOne(
      { workspace: '*', name: config.name.toLowerCase() },
      { _id: 1 },
    ).lean<{ _id: MigrationContext['target']['id'] }>();
    if (!doc)
      throw new NotFoundError(`The connection ${config.name} is not registered in threadql's store yet.`);
    const { driver } = await connections.resolveByName(config.name);
    const shadow = config.shadow ? await this.#shadow(config) : undefined;
    return {
      models,
      target: { id: doc._id, name: config.name, driver, ...(shadow ? { shadow } : {}) },
      settings,
      lock,
      now,
    };
  }

  /** Closes the shadow drivers this opened. */
  async close(): Promise<void> {
    const shadows = [...this.#shadows.values()];
    this.#shadows.clear();
    await Promise.all(shadows.map(async (s) => (await s.catch(() => undefined))?.close()));
  }

  #shadow(config: ConnectionConfig): Promise<DatabaseDriver> {
    let pending = this.#shadows.get(config.name);
    if (!pending) {
      pending = dialectFor(config.type).createDriver(config.shadow!, { poolSize: 2 });
      this.#shadows.set(config.name, pending);
      pending.catch(() => this.#shadows.delete(config.name));
    }
    return pending;
  }
}
