import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { modelOn } from './model-on.ts';

export const RUN_STATUSES = ['running', 'success', 'failed', 'refused'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * One tick of one schedule, keyed `<schedule>:<tick ms>`. Inserting it is the claim: however many replicas (or a
 * BullMQ job and a catch-up job) reach the same tick, exactly one insert succeeds, and only its job runs and
 * posts. Retries of that job carry the same `claimedBy`. Then it records what the run did.
 */
export interface ScheduleRunFields {
  _id: string;
  schedule: string;
  template: Types.ObjectId;
  workspace: string;
  tick: Date;
  /** Run later than its tick (no replica was up): the post says so. */
  late: boolean;
  /** The BullMQ job that holds the claim. */
  claimedBy: string;
  status: RunStatus;
  attempts: number;
  startedAt: Date;
  finishedAt: Date | null;
  rows: number | null;
  durationMs: number | null;
  error: string | null;
}

export type ScheduleRunModel = Model<ScheduleRunFields>;

export const scheduleRunSchema = new Schema<ScheduleRunFields>(
  {
    _id: { type: String, required: true },
    schedule: { type: String, required: true },
    template: { type: Schema.Types.ObjectId, ref: 'QueryTemplate', required: true },
    workspace: { type: String, required: true },
    tick: { type: Date, required: true },
    late: { type: Boolean, default: false },
    claimedBy: { type: String, required: true },
    status: { type: String, enum: RUN_STATUSES, required: true, default: 'running' },
    attempts: { type: Number, default: 0, min: 0 },
    startedAt: { type: Date, required: true },
    finishedAt: { type: Date, default: null },
    rows: { type: Number, default: null },
    durationMs: { type: Number, default: null },
    error: { type: String, default: null, maxlength: 2000 },
  },
  { collection: 'scheduleruns', versionKey: false, minimize: false },
);

/** The claim key of one tick of one schedule. */
export function scheduleRunKey(schedule: string, tick: Date | number): string {
  return `${schedule}:${typeof tick === 'number' ? tick : tick.getTime()}`;
}

/** The ScheduleRun model on a given connection. */
export function scheduleRunModel(connection: Connection): ScheduleRunModel {
  return modelOn<ScheduleRunFields>(connection, 'ScheduleRun', scheduleRunSchema);
}
