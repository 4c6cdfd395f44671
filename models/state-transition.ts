import { Schema, type Connection, type Model } from 'mongoose';
import { refuseUpdates } from './refuse-updates.ts';
import { modelOn } from './model-on.ts';

/**
 * The status-transition log: one immutable document per applied transition, keyed
 * `<entity>:<doc>:<revision>`. Inserting it is how a transition claims a revision (see state-machine.ts), and it
 * doubles as the history of who moved what when (approvals, migrations, connection status).
 */
export interface StateTransitionFields {
  _id: string;
  entity: string;
  doc: string;
  revision: number;
  from: string;
  to: string;
  at: Date;
  actor: string | null;
  set: Record<string, unknown> | null;
}

export type StateTransitionModel = Model<StateTransitionFields>;

export const stateTransitionSchema = new Schema<StateTransitionFields>(
  {
    _id: { type: String, required: true },
    entity: { type: String, required: true },
    doc: { type: String, required: true },
    revision: { type: Number, required: true, min: 1 },
    from: { type: String, required: true },
    to: { type: String, required: true },
    at: { type: Date, required: true },
    actor: { type: String, default: null },
    set: { type: Schema.Types.Mixed, default: null },
  },
  { collection: 'statetransitions', versionKey: false, minimize: false },
);
stateTransitionSchema.index({ entity: 1, doc: 1, revision: 1 }, { unique: true });
refuseUpdates(stateTransitionSchema, 'StateTransition');

/** The StateTransition model on a given connection. */
export function stateTransitionModel(connection: Connection): StateTransitionModel {
  return modelOn<StateTransitionFields>(connection, 'StateTransition', stateTransitionSchema);
}
