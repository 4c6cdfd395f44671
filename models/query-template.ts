import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { DATABASE_TYPES, isTimeZone, type DatabaseType } from '../config/config-file.ts';
import {
  checkParameterDefinitions,
  PARAMETER_TYPES,
  type ParameterDefinition,
  type ParameterValue,
} from '../core/templates/parameter-values.ts';
import { checkCron } from '../core/templates/run-times.ts';
import { channelTargetSchema, type ChannelTarget } from './thread-ref-schema.ts';
import { modelOn } from './model-on.ts';

export { PARAMETER_TYPES, type ParameterType } from '../core/templates/parameter-values.ts';

/** A parameter definition as stored: `{name, type, default, required}` (QueryNL draft), types text|number|date|boolean. */
export type TemplateParameter = ParameterDefinition;

/** Short schedule ids people type (`pause k3x9p2ab`): 8 lower-case letters and digits. */
export const SCHEDULE_ID = /^[a-z0-9]{8}$/;

/**
 * A scheduled run of a template, posted into a channel. The definition lives here (MongoDB is the truth; the
 * BullMQ job scheduler is rebuilt from it); what each run did lives in ScheduleRun and ScheduleState, so frequent
 * run bookkeeping never rewrites the template document.
 */
export interface TemplateSchedule {
  /** Short id, also the BullMQ job scheduler id's suffix and the ScheduleState `_id`. */
  _id: string;
  /** Five fields (minute hour day month weekday); six with seconds only for internal use. */
  cron: string;
  /** IANA zone, e.g. `Europe/Berlin`. */
  timeZone: string;
  /** The `<when>` as it reads, e.g. `every Monday at 09:00`. */
  summary: string;
  target: ChannelTarget;
  /** The channel's display name when it was scheduled (for listings), e.g. `growth`. */
  channelName: string | null;
  enabled: boolean;
  /** Values as given with the schedule (typed); defaults fill the rest at run time. */
  parameterValues: Record<string, ParameterValue>;
  /** Owner: user key (`slack:T1:U1`); told when a run fails. */
  createdBy: string | null;
  createdAt: Date;
  /** When it was created or last resumed: ticks before this are never caught up. */
  activeSince: Date;
  /** Why it is paused (by a person or after repeated failures); null while enabled. */
  pausedReason: string | null;
}

/** A saved question with its SQL (or MongoDB query JSON) and `:named` parameters. */
export interface QueryTemplateFields {
  _id: Types.ObjectId;
  /** `platform:workspace`, e.g. `slack:T0123`. */
  workspace: string;
  /** Unique per workspace; lower-case slug, e.g. `weekly-signups`. */
  name: string;
  description: string;
  question: string;
  sql: string;
  parameters: TemplateParameter[];
  databaseType: DatabaseType;
  /** The threadql.yml connection it runs on. */
  connectionName: string;
  connection: Types.ObjectId | null;
  /** The QuerySession (thread key) whose history records this template's runs. */
  session: string | null;
  /**
   * Mirrors of the TemplateUse log (see template-use.ts), which is the exact count; written best-effort under the
   * template lock, so they may lag by a use or two and are corrected on the next write.
   */
  usageCount: number;
  lastUsedAt: Date | null;
  /** Set when unused for 180 days (kept, hidden from lists); cleared by the next use. */
  archivedAt: Date | null;
  schedules: TemplateSchedule[];
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type QueryTemplateModel = Model<QueryTemplateFields>;

/** True for a cron expression cron-parser accepts (5 fields, or 6 with seconds). */
export function isCronExpression(value: string): boolean {
  try {
    checkCron(value);
    return true;
  } catch {
    return false;
  }
}

const parameterSchema = new Schema<TemplateParameter>(
  {
    name: { type: String, required: true, match: [/^[A-Za-z_]\w{0,62}$/, 'expected an identifier'] },
    type: { type: String, enum: PARAMETER_TYPES, required: true },
    default: { type: Schema.Types.Mixed, default: undefined },
    required: { type: Boolean, required: true, default: true },
    description: { type: String, default: undefined, maxlength: 500 },
  },
  { _id: false },
);

const scheduleSchema = new Schema<TemplateSchedule>(
  {
    _id: { type: String, required: true, match: [SCHEDULE_ID, 'expected 8 lower-case letters or digits'] },
    cron: {
      type: String,
      required: true,
      validate: { validator: isCronExpression, message: 'not a cron expression' },
    },
    timeZone: {
      type: String,
      required: true,
      default: 'UTC',
      validate: { validator: isTimeZone, message: 'unknown time zone' },
    },
    summary: { type: String, default: '', maxlength: 200 },
    target: { type: channelTargetSchema, required: true },
    channelName: { type: String, default: null, maxlength: 200 },
    enabled: { type: Boolean, required: true, default: true },
    parameterValues: { type: Schema.Types.Mixed, default: () => ({}) },
    createdBy: { type: String, default: null },
    createdAt: { type: Date, required: true, default: () => new Date() },
    activeSince: { type: Date, required: true, default: () => new Date() },
    pausedReason: { type: String, default: null, maxlength: 1000 },
  },
  { minimize: false },
);

export const queryTemplateSchema = new Schema<QueryTemplateFields>(
  {
    workspace: { type: String, required: true, trim: true },
    name: {
      type: String,
      required: true,
      trim: true,
      lowercase: true,
      match: [/^[a-z0-9][a-z0-9_-]{0,62}$/, 'expected letters, digits, "_" or "-" (at most 63)'],
    },
    description: { type: String, default: '', maxlength: 1000 },
    question: { type: String, required: true, maxlength: 5000 },
    sql: { type: String, required: true, maxlength: 100_000 },
    parameters: { type: [parameterSchema], default: [] },
    databaseType: { type: String, enum: DATABASE_TYPES, required: true },
    connectionName: { type: String, required: true, trim: true },
    connection: { type: Schema.Types.ObjectId, ref: 'DatabaseConnection', default: null },
    session: { type: String, ref: 'QuerySession', default: null },
    usageCount: { type: Number, default: 0, min: 0 },
    lastUsedAt: { type: Date, default: null },
    archivedAt: { type: Date, default: null },
    schedules: { type: [scheduleSchema], default: [] },
    createdBy: { type: String, default: null },
  },
  { collection: 'querytemplates', timestamps: true, versionKey: false, minimize: false },
);
queryTemplateSchema.index({ workspace: 1, name: 1 }, { unique: true });
queryTemplateSchema.pre('validate', function () {
  // Placeholders are checked against the definitions where the dialect is known (core/templates), with its parser.
  const problems = checkParameterDefinitions(this.parameters ?? []);
  if (problems.length) this.invalidate('parameters', problems.join('; '));
  const ids = (this.schedules ?? []).map((s) => s._id);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice) this.invalidate('schedules', `schedule id ${twice} is used twice`);
});

/** The QueryTemplate model on a given connection. */
export function queryTemplateModel(connection: Connection): QueryTemplateModel {
  return modelOn<QueryTemplateFields>(connection, 'QueryTemplate', queryTemplateSchema);
}
