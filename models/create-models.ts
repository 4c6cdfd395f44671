import type { Connection } from 'mongoose';
import { approvalDecisionModel } from './approval-decision.ts';
import { approvalRequestModel } from './approval-request.ts';
import { auditEventModel } from './audit-event.ts';
import { credentialStoreModel } from './credential-store.ts';
import { databaseConnectionModel } from './database-connection.ts';
import { feedbackModel } from './feedback.ts';
import { historyTailModel } from './history-tail.ts';
import { migrationModel } from './migration.ts';
import { optimizationSuggestionModel } from './optimization-suggestion.ts';
import { queryHistoryModel } from './query-history.ts';
import { querySessionModel } from './query-session.ts';
import { queryTemplateModel } from './query-template.ts';
import { schemaDefinitionModel } from './schema-definition.ts';
import { scheduleRunModel } from './schedule-run.ts';
import { scheduleStateModel } from './schedule-state.ts';
import { stateTransitionModel } from './state-transition.ts';
import { templateUseModel } from './template-use.ts';
import { userModel } from './user.ts';

/** Every model, compiled on one connection (each call on the same connection returns the same models). */
export function createModels(connection: Connection) {
  return {
    User: userModel(connection),
    DatabaseConnection: databaseConnectionModel(connection),
    CredentialStore: credentialStoreModel(connection),
    QuerySession: querySessionModel(connection),
    QueryHistory: queryHistoryModel(connection),
    HistoryTail: historyTailModel(connection),
    SchemaDefinition: schemaDefinitionModel(connection),
    Migration: migrationModel(connection),
    QueryTemplate: queryTemplateModel(connection),
    TemplateUse: templateUseModel(connection),
    ScheduleRun: scheduleRunModel(connection),
    ScheduleState: scheduleStateModel(connection),
    ApprovalRequest: approvalRequestModel(connection),
    ApprovalDecision: approvalDecisionModel(connection),
    OptimizationSuggestion: optimizationSuggestionModel(connection),
    Feedback: feedbackModel(connection),
    AuditEvent: auditEventModel(connection),
    StateTransition: stateTransitionModel(connection),
  };
}

export type Models = ReturnType<typeof createModels>;

/**
 * Creates the collections and indexes (unique keys included) and waits for them, so the first writes are
 * already checked. Call once at startup, before serving; safe to repeat.
 */
export async function initModels(models: Models): Promise<void> {
  await Promise.all(Object.values(models).map((model) => model.init()));
}
