import { Schema, type Connection, type Model, type Types } from 'mongoose';
import {
  defineStateMachine,
  guardStatus,
  statusPaths,
  transition,
  type StatusFields,
  type TransitionOptions,
} from './state-machine.ts';
import type { StateTransitionModel } from './state-transition.ts';
import { modelOn } from './model-on.ts';

export const ISSUE_TYPES = [
  'missing_index',
  'n_plus_one',
  'inefficient_join',
  'full_table_scan',
  'subquery_optimization',
  'other',
] as const;
export const LEVELS = ['low', 'medium', 'high', 'critical'] as const;

export const suggestionStatus = defineStateMachine({
  entity: 'OptimizationSuggestion',
  table: {
    pending: ['accepted', 'rejected'],
    accepted: ['implemented', 'rejected'],
    rejected: [],
    implemented: [],
  },
  initial: ['pending'],
  stamps: { implemented: 'implementedAt' },
});
export type SuggestionStatus = (typeof suggestionStatus.states)[number];

export interface SuggestedIndex {
  table: string;
  columns: string[];
  indexType?: string;
  creationSql: string;
}

/** A performance recommendation for a query of a session. */
export interface OptimizationSuggestionFields extends StatusFields<SuggestionStatus> {
  _id: Types.ObjectId;
  session: string;
  historyEntry: string | null;
  connection: Types.ObjectId | null;
  originalQuery: string;
  issueType: (typeof ISSUE_TYPES)[number];
  severity: (typeof LEVELS)[number];
  explanation: string;
  suggestedQuery: string | null;
  suggestedIndexes: SuggestedIndex[];
  estimatedImprovementPercent: number | null;
  implementationRisk: 'low' | 'medium' | 'high';
  beforeExecutionMs: number | null;
  afterExecutionMs: number | null;
  implementedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type OptimizationSuggestionModel = Model<OptimizationSuggestionFields>;

export const optimizationSuggestionSchema = new Schema<OptimizationSuggestionFields>(
  {
    session: { type: String, ref: 'QuerySession', required: true },
    historyEntry: { type: String, ref: 'QueryHistory', default: null },
    connection: { type: Schema.Types.ObjectId, ref: 'DatabaseConnection', default: null },
    originalQuery: { type: String, required: true },
    issueType: { type: String, enum: ISSUE_TYPES, required: true },
    severity: { type: String, enum: LEVELS, required: true },
    explanation: { type: String, required: true, maxlength: 5000 },
    suggestedQuery: { type: String, default: null },
    suggestedIndexes: {
      type: [
        new Schema<SuggestedIndex>(
          {
            table: { type: String, required: true },
            columns: { type: [String], required: true },
            indexType: { type: String, default: undefined },
            creationSql: { type: String, required: true },
          },
          { _id: false },
        ),
      ],
      default: [],
    },
    estimatedImprovementPercent: { type: Number, default: null, min: 1, max: 99 },
    implementationRisk: { type: String, enum: ['low', 'medium', 'high'], required: true, default: 'low' },
    beforeExecutionMs: { type: Number, default: null, min: 0 },
    afterExecutionMs: { type: Number, default: null, min: 0 },
    ...statusPaths(suggestionStatus),
    implementedAt: { type: Date, default: null },
  },
  { collection: 'optimizationsuggestions', timestamps: true, versionKey: false },
);
optimizationSuggestionSchema.index({ session: 1, createdAt: -1 });
guardStatus(optimizationSuggestionSchema, suggestionStatus);

/** The OptimizationSuggestion model on a given connection. */
export function optimizationSuggestionModel(connection: Connection): OptimizationSuggestionModel {
  return modelOn<OptimizationSuggestionFields>(
    connection,
    'OptimizationSuggestion',
    optimizationSuggestionSchema,
  );
}

/** Moves a suggestion pending → accepted | rejected → implemented; atomic, see transition(). */
export function transitionSuggestion(
  models: { OptimizationSuggestion: OptimizationSuggestionModel; StateTransition: StateTransitionModel },
  id: Types.ObjectId | string,
  to: SuggestionStatus,
  options: TransitionOptions<SuggestionStatus> = {},
): Promise<OptimizationSuggestionFields> {
  return transition(
    models.OptimizationSuggestion,
    models.StateTransition,
    suggestionStatus,
    id as Types.ObjectId,
    to,
    options,
  );
}
