/**
 * A connection's driver with masking built in: every read (executeRead and streamRead) comes back masked, so
 * whatever shows a result (a thread, a template run, a scheduled report, a CSV, a chart, the model) only ever
 * holds masked values. Database errors of a statement that reads masked columns are withheld too: engines quote
 * the offending value ("invalid input syntax for type integer: \"ann@…\""). Writes, EXPLAIN and introspection
 * return no row values and pass through.
 */
import type {
  DatabaseDriver,
  ExecuteOptions,
  QueryResult,
  ReadStream,
  SchemaSnapshot,
} from '../db/database-dialect.ts';
import { DatabaseError } from '../errors.ts';
import type { MaskPlan } from './plan-masking.ts';
import type { ResultMasker } from './result-masker.ts';

export interface GovernedDriverOptions {
  connection: string;
  masker: ResultMasker;
  /** The connection's schema (cached), which `*` expansion and lineage read. */
  schema(): Promise<Pick<SchemaSnapshot, 'tables'>>;
}

/** Wraps `inner` so its reads come back masked under the connection's rules. */
export function governedDriver(inner: DatabaseDriver, options: GovernedDriverOptions): DatabaseDriver {
  return new GovernedDriver(inner, options);
}

class GovernedDriver implements DatabaseDriver {
  readonly #inner: DatabaseDriver;
  readonly #options: GovernedDriverOptions;
  /** Schema changes (migrations) pass through: DDL shows no row values. */
  readonly schemaSession?: DatabaseDriver['schemaSession'];

  constructor(inner: DatabaseDriver, options: GovernedDriverOptions) {
    this.#inner = inner;
    this.#options = options;
    if (inner.schemaSession) this.schemaSession = inner.schemaSession.bind(inner);
  }

  get dialect() {
    return this.#inner.dialect;
  }

  validate() {
    return this.#inner.validate();
  }

  introspect(...args: Parameters<DatabaseDriver['introspect']>) {
    return this.#inner.introspect(...args);
  }

  dryRun(...args: Parameters<DatabaseDriver['dryRun']>) {
    return this.#inner.dryRun(...args);
  }

  executeWrite(...args: Parameters<DatabaseDriver['executeWrite']>) {
    return this.#inner.executeWrite(...args);
  }

  explain(...args: Parameters<DatabaseDriver['explain']>) {
    return this.#inner.explain(...args);
  }

  close() {
    return this.#inner.close();
  }

  async executeRead(query: string, options: ExecuteOptions): Promise<QueryResult> {
    const plan = await this.#plan(query);
    let raw: QueryResult;
    try {
      raw = await this.#inner.executeRead(query, options);
    } catch (error) {
      throw withheld(error, plan);
    }
    const masked = this.#options.masker.mask(plan, raw);
    if (!masked.masked.length) return raw;
    return { ...masked.result, masking: { columns: masked.masked, chart: masked.chart } };
  }

  async streamRead(query: string, options: ExecuteOptions): Promise<ReadStream> {
    const plan = await this.#plan(query);
    let raw: ReadStream;
    try {
      raw = await this.#inner.streamRead(query, options);
    } catch (error) {
      throw withheld(error, plan);
    }
    const { stream } = this.#options.masker.maskStream(plan, raw);
    const batches = stream.batches;
    return {
      ...stream,
      batches: (async function* () {
        try {
          yield* batches;
        } catch (error) {
          throw withheld(error, plan);
        }
      })(),
    };
  }

  async #plan(query: string): Promise<MaskPlan> {
    const { masker, connection, schema } = this.#options;
    if (masker.policy(connection).empty) return masker.plan(connection, query, { tables: [] });
    return masker.plan(connection, query, await schema());
  }
}

/** A query error of a statement that reads masked columns, without the engine's text (it may quote a value). */
function withheld(error: unknown, plan: MaskPlan): unknown {
  if (!plan.readsMasked || !(error instanceof DatabaseError) || error.code !== 'query_failed') return error;
  return new DatabaseError(
    'query_failed',
    "The database rejected the query. Its message is withheld: the statement reads masked columns, and the database's messages can quote their values.",
    { hint: 'Check the SQL on the card; an admin can see the full error in the database log.' },
  );
}
