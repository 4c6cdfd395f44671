/**
 * Masking for the flows, per connection: plan once per statement, then mask every form the result takes (the
 * preview, the streamed CSV, the chart's data) and the schema the model reads. The flows call only this.
 */
import type { ConnectionConfig } from '../../config/config-file.ts';
import type { QueryResult, ReadStream, SchemaSnapshot } from '../db/database-dialect.ts';
import { markMaskedSchema } from './mark-masked-schema.ts';
import { maskReadStream, maskResult, type MaskedColumnNote, type MaskedResult } from './mask-result.ts';
import { MaskingPolicy } from './masking-policy.ts';
import { NO_MASKING, planMasking, type MaskPlan } from './plan-masking.ts';
import { traceQuery } from './trace-query.ts';
import { ValueRedactor } from './value-redactor.ts';

export class ResultMasker {
  readonly #policies = new Map<string, MaskingPolicy>();
  readonly #redactor: ValueRedactor;

  /** `hashKey`: the key of hash-mode values (derive it from the master key, so hashes stay stable across restarts). */
  constructor(
    connections: readonly Pick<ConnectionConfig, 'name' | 'type' | 'maskedColumns'>[],
    options: { hashKey: string | Buffer },
  ) {
    for (const c of connections)
      this.#policies.set(c.name.toLowerCase(), new MaskingPolicy(c.type, c.maskedColumns));
    this.#redactor = new ValueRedactor(options.hashKey);
  }

  /** The connection's rules (an empty policy for an unknown name). */
  policy(connectionName: string): MaskingPolicy {
    return this.#policies.get(connectionName.toLowerCase()) ?? new MaskingPolicy('postgres', []);
  }

  /** The masking plan of one statement on one connection; parses only when the connection masks something. */
  async plan(
    connectionName: string,
    query: string,
    schema: Pick<SchemaSnapshot, 'tables'>,
  ): Promise<MaskPlan> {
    const policy = this.policy(connectionName);
    if (policy.empty) return NO_MASKING;
    return planMasking(await traceQuery(query, policy.databaseType, schema), policy);
  }

  /** The result as it may be shown, and the chart's variant of it. */
  mask(plan: MaskPlan, result: QueryResult): MaskedResult {
    return maskResult(result, plan, this.#redactor);
  }

  /** A streamed read whose batches come out masked. */
  maskStream(plan: MaskPlan, stream: ReadStream): { stream: ReadStream; masked: MaskedColumnNote[] } {
    return maskReadStream(stream, plan, this.#redactor);
  }

  /** The schema the model may see: all columns, the masked ones marked. */
  schemaForModel<S extends Pick<SchemaSnapshot, 'tables'>>(connectionName: string, schema: S): S {
    return markMaskedSchema(schema, this.policy(connectionName));
  }
}
