import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { RUN_STATUSES, type RunStatus } from './schedule-run.ts';
import { modelOn } from './model-on.ts';

/**
 * Where a schedule stands, by schedule id: which template holds it (so `pause <id>` is an `_id` lookup, not a
 * scan of every template), and how its latest run went. Inserted when the schedule is created (the unique `_id`
 * also guarantees the short id is unused); written by the one runner of each tick.
 */
export interface ScheduleStateFields {
  _id: string;
  template: Types.ObjectId;
  workspace: string;
  lastTick: Date | null;
  lastStatus: RunStatus | null;
  lastRunAt: Date | null;
  lastError: string | null;
  consecutiveFailures: number;
  createdAt: Date;
}

export type ScheduleStateModel = Model<ScheduleStateFields>;

export const scheduleStateSchema = new Schema<ScheduleStateFields>(
  {
    _id: { type: String, required: true },
    template: { type: Schema.Types.ObjectId, ref: 'QueryTemplate', required: true },
    workspace: { type: String, required: true },
    lastTick: { type: Date, default: null },
    lastStatus: { type: String, enum: [...RUN_STATUSES, null], default: null },
    lastRunAt: { type: Date, default: null },
    lastError: { type: String, default: null, maxlength: 2000 },
    consecutiveFailures: { type: Number, default: 0, min: 0 },
    createdAt: { type: Date, required: true, default: () => new Date() },
  },
  { collection: 'schedulestates', versionKey: false, minimize: false },
);
scheduleStateSchema.index({ workspace: 1 });

/** The ScheduleState model on a given connection. */
export function scheduleStateModel(connection: Connection): ScheduleStateModel {
  return modelOn<ScheduleStateFields>(connection, 'ScheduleState', scheduleStateSchema);
}
