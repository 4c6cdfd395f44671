/**
 * From a query's lineage and a connection's masking rules to a decision per result column: which mode masks it
 * and why. Result columns are matched to traced columns by position when the lineage is exact, else by name; a
 * column that cannot be traced is masked when the statement reads any masked column at all (the strongest mode
 * among them), or when its own name is a masked column's name.
 */
import type { MaskMode } from '../../config/config-file.ts';
import type { ResultColumn } from '../db/database-dialect.ts';
import { sourceLabel, strongerMode, type MaskingPolicy, type SourceColumn } from './masking-policy.ts';
import type { QueryLineage, TracedColumn } from './resolve-lineage.ts';

/** How one result column is shown. */
export interface ColumnMask {
  mode: MaskMode;
  /** The masked source columns it shows (`customers.email`); empty when masked because it could not be traced. */
  sources: string[];
  reason: 'masked_source' | 'untraced';
}

/** The masking decisions for one statement; `decide` maps a result's columns to them. */
export interface MaskPlan {
  /** False when nothing in the statement's result can be masked (the result passes unchanged). */
  readonly active: boolean;
  /** The statement reads a masked column somewhere (shown or not): its errors may quote masked values. */
  readonly readsMasked: boolean;
  decide(columns: readonly Pick<ResultColumn, 'name'>[]): (ColumnMask | undefined)[];
}

/** A plan that masks nothing (a connection without masked columns). */
export const NO_MASKING: MaskPlan = {
  active: false,
  readsMasked: false,
  decide: (columns) => columns.map(() => undefined),
};

interface Decision {
  mode?: MaskMode;
  sources: SourceColumn[];
  traced: boolean;
}

/** Builds the plan for a statement whose lineage is known. */
export function planMasking(lineage: QueryLineage, policy: MaskingPolicy): MaskPlan {
  if (policy.empty) return NO_MASKING;
  // What an untraced column gets: the strongest mode among the masked columns the statement reads anywhere.
  let fallback: MaskMode | undefined;
  for (const source of lineage.referenced) fallback = strongerMode(fallback, policy.modeFor(source));
  for (const name of lineage.unresolvedNames) fallback = strongerMode(fallback, policy.modeForName(name));

  const judge = (column: Pick<TracedColumn, 'sources' | 'traced'>): Decision => {
    let mode: MaskMode | undefined;
    const masked: SourceColumn[] = [];
    for (const source of column.sources) {
      const m = policy.modeFor(source);
      if (m) {
        masked.push(source);
        mode = strongerMode(mode, m);
      }
    }
    if (!column.traced) mode = strongerMode(mode, fallback);
    return { ...(mode ? { mode } : {}), sources: masked, traced: column.traced };
  };
  const traced = lineage.columns.map((c) => ({ name: c.name, decision: judge(c) }));

  const toMask = (decision: Decision, name: string): ColumnMask | undefined => {
    let mode = decision.mode;
    // Nothing known of it: a column named like a masked one is masked like it.
    if (!decision.traced) mode = strongerMode(mode, policy.modeForName(name));
    if (!mode) return undefined;
    return {
      mode,
      sources: decision.sources.map(sourceLabel),
      reason: decision.sources.length ? 'masked_source' : 'untraced',
    };
  };

  // Positions are trusted only when the names the engine gave agree with the traced ones: a schema snapshot older
  // than the table (a column added since) would otherwise shift every decision after the change.
  const aligned = (columns: readonly Pick<ResultColumn, 'name'>[]) =>
    lineage.exact &&
    traced.length === columns.length &&
    traced.every((t, i) => t.name === undefined || t.name.toLowerCase() === columns[i]!.name.toLowerCase());

  return {
    // The connection masks something: every result is checked against the decisions (cheap; never skipped on
    // the strength of a lineage that may rest on a stale snapshot).
    active: true,
    readsMasked: fallback !== undefined || traced.some((t) => t.decision.mode !== undefined),
    decide(columns) {
      if (aligned(columns)) {
        return columns.map((c, i) => toMask(traced[i]!.decision, c.name));
      }
      return columns.map((c) => {
        const named = traced.filter(
          (t) => t.name !== undefined && t.name.toLowerCase() === c.name.toLowerCase(),
        );
        if (named.length) {
          const sources = named.flatMap((t) => t.decision.sources);
          let mode: MaskMode | undefined;
          for (const t of named) mode = strongerMode(mode, t.decision.mode);
          return toMask(
            { ...(mode ? { mode } : {}), sources, traced: named.every((t) => t.decision.traced) },
            c.name,
          );
        }
        if (lineage.passthrough !== undefined) {
          return toMask(
            judge({ sources: [{ table: lineage.passthrough, column: c.name }], traced: true }),
            c.name,
          );
        }
        return toMask({ ...(fallback ? { mode: fallback } : {}), sources: [], traced: false }, c.name);
      });
    },
  };
}
