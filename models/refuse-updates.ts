import type { Schema } from 'mongoose';
import { ThreadqlError } from '../core/errors.ts';

const UPDATE_OPS = [
  'updateOne',
  'updateMany',
  'findOneAndUpdate',
  'replaceOne',
  'findOneAndReplace',
] as const;

/**
 * Makes a model's documents immutable once written: any update or replace through Mongoose throws (code
 * `illegal_transition`), and so does saving a loaded document. Deletes stay allowed (retention caps need them).
 * Writes through the raw driver collection bypass this, which is why nothing in threadql uses `Model.collection`.
 */
export function refuseUpdates(schema: Schema, entity: string): void {
  const refuse = (how: string): never => {
    throw new ThreadqlError('illegal_transition', `${entity} entries are immutable: ${how} is refused`, {
      detail: { entity },
    });
  };
  for (const op of UPDATE_OPS) {
    schema.pre(op, function () {
      refuse(op);
    });
  }
  schema.pre('save', function () {
    if (!this.isNew) refuse('save() of an existing entry');
  });
  schema.pre('bulkWrite', function (ops: unknown[]) {
    const changes = (ops ?? []).some((op) =>
      Object.keys(op as object).some((k) => k !== 'insertOne' && k !== 'deleteOne' && k !== 'deleteMany'),
    );
    if (changes) refuse('bulkWrite with updates');
  });
}
