import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { channelTargetSchema, type ChannelTarget } from './thread-ref-schema.ts';
import { modelOn } from './model-on.ts';

export const PARAMETER_TYPES = ['string', 'number', 'integer', 'boolean', 'date', 'datetime'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

export interface TemplateParameter {
  name: string;
  type: ParameterType;
  /** Used when the caller gives no value; any JSON value. */
  default?: unknown;
  required: boolean;
  description?: string;
}

/** A scheduled run of a template, posted to a channel (BullMQ job id = the schedule's `_id`). */
export interface TemplateSchedule {
  _id: Types.ObjectId;
  /** Five fields (minute hour day month weekday), or six with seconds first. */
  cron: string;
  /** IANA zone, e.g. `Europe/Berlin`. */
  timeZone: string;
  target: ChannelTarget;
  enabled: boolean;
  parameterValues: Record<string, unknown>;
  createdBy: string | null;
  lastRunAt: Date | null;
}

/** A saved question with its SQL (or MongoDB query JSON) and `:named` parameters. */
export interface QueryTemplateFields {
  _id: Types.ObjectId;
  workspace: string;
  /** Unique per workspace; lower-case slug, e.g. `weekly-signups`. */
  name: string;
  description: string;
  question: string;
  sql: string;
  parameters: TemplateParameter[];
  connection: Types.ObjectId | null;
  usageCount: number;
  lastUsedAt: Date | null;
  schedules: TemplateSchedule[];
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type QueryTemplateModel = Model<QueryTemplateFields>;

/** The `:name` placeholders a query uses, in order of first use; skips `::casts`, string literals and comments. */
export function sqlPlaceholders(sql: string): string[] {
  const code = sql
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/--[^\n]*/g, '')
    .replace(/\/\*[\s\S]*?\*\//g, '');
  const names = [...code.matchAll(/(?<![:\w]):([A-Za-z_]\w*)/g)].map((m) => m[1]!);
  return [...new Set(names)];
}

const CRON_FIELD =
  /^(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?)*$/;

/** True for a 5- or 6-field cron expression (syntax only; the scheduler validates ranges). */
export function isCronExpression(value: string): boolean {
  const fields = value.trim().split(/\s+/);
  return (fields.length === 5 || fields.length === 6) && fields.every((f) => CRON_FIELD.test(f));
}

/** True for an IANA time-zone name this runtime knows. */
export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
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

const scheduleSchema = new Schema<TemplateSchedule>({
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
  target: { type: channelTargetSchema, required: true },
  enabled: { type: Boolean, required: true, default: true },
  parameterValues: { type: Schema.Types.Mixed, default: () => ({}) },
  createdBy: { type: String, default: null },
  lastRunAt: { type: Date, default: null },
});

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
    connection: { type: Schema.Types.ObjectId, ref: 'DatabaseConnection', default: null },
    usageCount: { type: Number, default: 0, min: 0 },
    lastUsedAt: { type: Date, default: null },
    schedules: { type: [scheduleSchema], default: [] },
    createdBy: { type: String, default: null },
  },
  { collection: 'querytemplates', timestamps: true, versionKey: false, minimize: false },
);
queryTemplateSchema.index({ workspace: 1, name: 1 }, { unique: true });
queryTemplateSchema.index({ workspace: 1, usageCount: -1 });
queryTemplateSchema.index({ 'schedules.enabled': 1 });
queryTemplateSchema.pre('validate', function () {
  const defined = this.parameters.map((p) => p.name);
  const duplicate = defined.find((n, i) => defined.indexOf(n) !== i);
  if (duplicate) this.invalidate('parameters', `parameter "${duplicate}" is defined twice`);
  const used = sqlPlaceholders(this.sql ?? '');
  const undefinedUse = used.filter((n) => !defined.includes(n));
  if (undefinedUse.length) {
    this.invalidate(
      'parameters',
      `the query uses ${undefinedUse.map((n) => `:${n}`).join(', ')} without a definition`,
    );
  }
  const unused = defined.filter((n) => !used.includes(n));
  if (unused.length) this.invalidate('parameters', `parameter(s) ${unused.join(', ')} not used in the query`);
});

/** The QueryTemplate model on a given connection. */
export function queryTemplateModel(connection: Connection): QueryTemplateModel {
  return modelOn<QueryTemplateFields>(connection, 'QueryTemplate', queryTemplateSchema);
}

/** A search hit: the template without its query text and schedules. */
export type TemplateSummary = Pick<
  QueryTemplateFields,
  '_id' | 'name' | 'description' | 'question' | 'parameters' | 'usageCount' | 'lastUsedAt' | 'connection'
>;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Templates of a workspace whose name, description or question contains `text` (case-insensitive), most used
 * first. Substring match by a case-insensitive regex: FerretDB 1.x has no text indexes, and a regex works the
 * same on MongoDB; an empty text lists the workspace's templates.
 */
export async function searchTemplates(
  model: QueryTemplateModel,
  workspace: string,
  text: string,
  options: { limit?: number } = {},
): Promise<TemplateSummary[]> {
  const needle = text.trim();
  const filter: Record<string, unknown> = { workspace };
  if (needle) {
    const pattern = { $regex: escapeRegExp(needle), $options: 'i' };
    filter.$or = [{ name: pattern }, { description: pattern }, { question: pattern }];
  }
  return model
    .find(filter, {
      name: 1,
      description: 1,
      question: 1,
      parameters: 1,
      usageCount: 1,
      lastUsedAt: 1,
      connection: 1,
    })
    .sort({ usageCount: -1, name: 1 })
    .limit(options.limit ?? 20)
    .lean<TemplateSummary[]>();
}

/** Counts one use of a template. */
export async function recordTemplateUse(
  model: QueryTemplateModel,
  id: Types.ObjectId | string,
  now: Date = new Date(),
): Promise<void> {
  await model.updateOne({ _id: id }, { $inc: { usageCount: 1 }, $set: { lastUsedAt: now } });
}
