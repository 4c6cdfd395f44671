/**
 * The configured target databases: which channel may use which connection, one driver (pool) per
 * connection started on first use and closed once, and the schema through the cache. With a masker, each driver
 * is governed: its reads come back masked (core/governance/governed-driver.ts), whoever reads through it.
 */
import type { ConnectionConfig } from '../../config/config-file.ts';
import type { DatabaseDriver, SchemaSnapshot } from '../db/database-dialect.ts';
import { dialectFor } from '../db/dialects.ts';
import { NotFoundError, PermissionError } from '../errors.ts';
import { governedDriver } from '../governance/governed-driver.ts';
import type { ResultMasker } from '../governance/result-masker.ts';
import type { ThreadRef } from '../conversation/chat-platform.ts';
import type { ConnectionProvider, ResolvedConnection } from '../conversation/engine-ports.ts';
import type { Verdict } from '../safety/verdict.ts';
import { guardDriver, type GuardOptions } from './guarded-driver.ts';

/** Queries whose verdict is remembered. */
const VERDICTS_KEPT = 500;

/** Where introspected schemas are kept between turns (Redis with a TTL, mirrored into MongoDB). */
export interface SchemaStore {
  get(connectionName: string): Promise<SchemaSnapshot | undefined>;
  set(connectionName: string, schema: SchemaSnapshot): Promise<void>;
}

/** Told when a connection's status changes (disconnected → connecting → connected | error). */
export type ConnectionStatusListener = (
  name: string,
  status: 'connecting' | 'connected' | 'error',
  detail?: string,
) => Promise<void>;

export class ConfiguredConnections implements ConnectionProvider {
  private readonly configs: ConnectionConfig[];
  private readonly schemas: SchemaStore;
  private readonly onStatus: ConnectionStatusListener;
  private readonly guard: Omit<GuardOptions, 'name'>;
  private readonly masker: ResultMasker | undefined;
  private readonly drivers = new Map<string, Promise<DatabaseDriver>>();
  /** Verdicts by dialect and query text, oldest first (the classifier is pure: same text, same verdict). */
  private readonly verdicts = new Map<string, Promise<Verdict>>();

  constructor(
    configs: ConnectionConfig[],
    schemas: SchemaStore,
    onStatus: ConnectionStatusListener = async () => {},
    /** Breakers, metrics and the shutdown signal every driver is wrapped with (see guardDriver). */
    guard: Omit<GuardOptions, 'name'> = {},
    /** Masks every read of a connection with masked columns (see core/governance/governed-driver.ts). */
    masker?: ResultMasker,
  ) {
    this.configs = configs;
    this.schemas = schemas;
    this.onStatus = onStatus;
    this.guard = guard;
    this.masker = masker;
  }

  /** The configured connections (secrets included: never log these). */
  list(): readonly ConnectionConfig[] {
    return this.configs;
  }

  allowedFor(thread: ThreadRef): string[] {
    return this.configs
      .filter((c) => c.channels.includes('*') || c.channels.includes(thread.channel))
      .map((c) => c.name);
  }

  async resolve(thread: ThreadRef, name?: string): Promise<ResolvedConnection> {
    const allowed = this.allowedFor(thread);
    if (name !== undefined) {
      const config = this.find(name);
      if (!allowed.includes(config.name)) {
        throw new PermissionError(`The connection "${config.name}" may not be used in this channel.`, {
          hint: allowed.length
            ? `Connections allowed here: ${allowed.join(', ')}.`
            : 'Ask an admin to bind a connection to this channel in threadql.yml.',
        });
      }
      return this.resolveByName(config.name);
    }
    if (!allowed.length) {
      throw new PermissionError('No database connection is bound to this channel.', {
        hint: "Ask an admin to add this channel to a connection's `channels` in threadql.yml.",
      });
    }
    const chosen = this.configs.find((c) => c.default && allowed.includes(c.name))?.name ?? allowed[0]!;
    return this.resolveByName(chosen);
  }

  async resolveByName(name: string): Promise<ResolvedConnection> {
    const config = this.find(name);
    return { name: config.name, driver: await this.driver(config) };
  }

  async schema(name: string): Promise<SchemaSnapshot> {
    const config = this.find(name);
    const cached = await this.schemas.get(config.name);
    if (cached) return cached;
    const driver = await this.driver(config);
    const schema = await driver.introspect();
    await this.schemas.set(config.name, schema);
    return schema;
  }

  async setSchema(name: string, schema: SchemaSnapshot): Promise<void> {
    await this.schemas.set(this.find(name).name, schema);
  }

  /**
   * The dialect's verdict on a query, remembered for the last VERDICTS_KEPT queries: a turn classifies the same text
   * when it is proposed, shown and run (the parse is the costly part: ~1 ms per statement on the event loop).
   */
  classify(name: string, query: string): Promise<Verdict> {
    const type = this.find(name).type;
    const key = `${type}\0${query}`;
    const known = this.verdicts.get(key);
    if (known) return known;
    const verdict = dialectFor(type).classify(query);
    this.verdicts.set(key, verdict);
    if (this.verdicts.size > VERDICTS_KEPT) this.verdicts.delete(this.verdicts.keys().next().value!);
    verdict.catch(() => this.verdicts.delete(key));
    return verdict;
  }

  /** Closes every driver this provider started. */
  async close(): Promise<void> {
    const drivers = [...this.drivers.values()];
    this.drivers.clear();
    await Promise.all(drivers.map(async (d) => (await d.catch(() => undefined))?.close()));
  }

  private find(name: string): ConnectionConfig {
    const config = this.configs.find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (!config)
      throw new NotFoundError(`There is no connection named "${name}".`, {
        hint: `Known connections: ${this.configs.map((c) => c.name).join(', ') || 'none'}.`,
      });
    return config;
  }

  private driver(config: ConnectionConfig): Promise<DatabaseDriver> {
    let pending = this.drivers.get(config.name);
    if (!pending) {
      pending = this.start(config);
      this.drivers.set(config.name, pending);
      // A failed start is not cached: the next turn tries again (the database may be back).
      pending.catch(() => this.drivers.delete(config.name));
    }
    return pending;
  }

  private async start(config: ConnectionConfig): Promise<DatabaseDriver> {
    await this.onStatus(config.name, 'connecting');
    let driver: DatabaseDriver | undefined;
    const breakers = this.guard.breakers;
    try {
      const connect = async () => {
        driver = await dialectFor(config.type).createDriver(config.url);
        await driver.validate();
      };
      // Connecting counts for the connection's breaker too: a database that refuses connections fails fast.
      await (breakers ? breakers.call(`database:${config.name}`, connect) : connect());
    } catch (error) {
      await driver?.close().catch(() => {});
      await this.onStatus(config.name, 'error', error instanceof Error ? error.message : String(error));
      throw error;
    }
    await this.onStatus(config.name, 'connected');
    const guarded = guardDriver(driver!, { ...this.guard, name: config.name });
    if (!this.masker || this.masker.policy(config.name).empty) return guarded;
    // Masking outermost: what the guard counts and times is the engine's work, what leaves here is masked.
    return governedDriver(guarded, {
      connection: config.name,
      masker: this.masker,
      schema: () => this.schema(config.name),
    });
  }
}
