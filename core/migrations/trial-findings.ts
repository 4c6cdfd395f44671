/**
 * What an up → down → up trial shows, in words: after down the schema must be what it was before up, and the
 * second up must give what the first gave. Each difference becomes one sentence a reviewer can act on, e.g.
 * "down leaves index orders_customer_id_idx behind".
 */
import type { SchemaSnapshot } from '../db/database-dialect.ts';
import { diffSchemas, objectLabel, type SchemaChange } from '../schema/schema-diff.ts';

const same = (a: SchemaChange, b: SchemaChange): boolean =>
  a.kind === b.kind && a.table === b.table && a.name === b.name;

/** Why the schema after down is not the schema before up; empty when down undid up. */
export function downFindings(
  start: SchemaSnapshot,
  afterUp: SchemaSnapshot,
  afterDown: SchemaSnapshot,
): string[] {
  const byUp = diffSchemas(start, afterUp);
  return diffSchemas(start, afterDown).map((left) => {
    const label = objectLabel(left);
    const upDid = byUp.find((c) => same(c, left) && c.change === left.change);
    switch (left.change) {
      case 'added':
        return upDid ? `down leaves ${label} behind` : `down adds ${label}, which was not there before up`;
      case 'removed':
        return upDid
          ? `down does not restore ${label}, which up removed`
          : `down removes ${label}, which was there before up`;
      case 'changed':
        return `down does not restore ${label} (before up → after down: ${left.detail ?? 'definition differs'})`;
    }
  });
}

/** Why a second up (after down) ends elsewhere than the first; empty when both give the same schema. */
export function repeatFindings(afterUp: SchemaSnapshot, afterSecondUp: SchemaSnapshot): string[] {
  return diffSchemas(afterUp, afterSecondUp).map((c) => {
    const label = objectLabel(c);
    switch (c.change) {
      case 'added':
        return `up run again after down also creates ${label}, which the first run did not`;
      case 'removed':
        return `up run again after down ends without ${label}, which the first run had`;
      case 'changed':
        return `up run again after down gives a different ${label} (${c.detail ?? 'definition differs'})`;
    }
  });
}
