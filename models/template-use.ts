import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { refuseUpdates } from './refuse-updates.ts';
import { modelOn } from './model-on.ts';

/**
 * One use of a template (a run from `run <name>` or a scheduled tick), keyed `<template>:<n>`. Inserting key n is
 * how a use claims its number, so concurrent uses on any replica get distinct numbers and the highest number is
 * the exact usage count: the honest counter on FerretDB 1.x, where `$inc` loses increments under concurrency.
 * Only the newest TEMPLATE_USES_KEPT entries per template are kept.
 */
export interface TemplateUseFields {
  _id: string;
  template: Types.ObjectId;
  n: number;
  at: Date;
  /** User key, or `schedule:<id>` for a scheduled run. */
  actor: string;
  via: 'run' | 'schedule';
}

export type TemplateUseModel = Model<TemplateUseFields>;

/** Uses kept per template (older ones are deleted on the write path); enough to re-find the top after a lost hint. */
export const TEMPLATE_USES_KEPT = 100;

export const templateUseSchema = new Schema<TemplateUseFields>(
  {
    _id: { type: String, required: true },
    template: { type: Schema.Types.ObjectId, ref: 'QueryTemplate', required: true },
    n: { type: Number, required: true, min: 1 },
    at: { type: Date, required: true },
    actor: { type: String, required: true },
    via: { type: String, enum: ['run', 'schedule'], required: true },
  },
  { collection: 'templateuses', versionKey: false },
);
refuseUpdates(templateUseSchema, 'TemplateUse');

/** The `_id` of a template's n-th use. */
export function templateUseKey(template: Types.ObjectId | string, n: number): string {
  return `${String(template)}:${n}`;
}

/** The TemplateUse model on a given connection. */
export function templateUseModel(connection: Connection): TemplateUseModel {
  return modelOn<TemplateUseFields>(connection, 'TemplateUse', templateUseSchema);
}
