/**
 * The flows threadql runs, wired from its parts. Adding a flow: write it in flows/ (a class or object
 * implementing Flow), give it what it needs here, and add it to the list; the engine routes its commands,
 * buttons and modals to it.
 */
import type { Governance } from '../governance/governance.ts';
import type { SchedulesConfig } from '../../config/config-file.ts';
import type { TemplateServices } from '../templates/create-template-services.ts';
import type { ParameterProposer } from '../templates/propose-parameters.ts';
import type { TemplateDrafts } from '../templates/template-drafts.ts';
import { recordTemplateUse } from '../templates/template-usage.ts';
import type { ConfirmationStore } from './confirmation-store.ts';
import type { ConnectionProvider, EngineSettings, QueryGenerator, ResultRenderers } from './engine-ports.ts';
import type { Flow } from './flow.ts';
import type { IntentChoiceStore } from './intent-choice-store.ts';
import { AccessFlow } from './flows/access-flow.ts';
import { AskFlow } from './flows/ask-flow.ts';
import { ConfirmFlow } from './flows/confirm-flow.ts';
import { ConnectionFlow } from './flows/connection-flow.ts';
import { feedbackFlow } from './flows/feedback-flow.ts';
import { ReadRunner } from './flows/read-runner.ts';
import { MigrationApprovalFlow } from './flows/migration-approval-flow.ts';
import { MigrationFlow } from './flows/migration-flow.ts';
import { MigrationThread, type MigrationThreadDeps } from './flows/migration-thread.ts';
import { ScheduleFlow } from './flows/schedule-flow.ts';
import { SchemaFlow } from './flows/schema-flow.ts';
import { refuseWrites } from './flows/statement-proposal.ts';
import { ActAsFlow } from './flows/act-as-flow.ts';
import { ApprovalFlow } from './flows/approval-flow.ts';
import { ApprovalThread } from './flows/approval-thread.ts';
import { WriteProposalFlow } from './flows/write-proposal-flow.ts';
import type { ApprovalModels } from '../approvals/approval-models.ts';
import type { ApprovalPolicy } from '../approvals/approval-policy.ts';
import type { Types } from 'mongoose';
import { TemplateFlow } from './flows/template-flow.ts';
import { TemplateSaveFlow } from './flows/template-save-flow.ts';

export interface FlowDeps {
  connections: ConnectionProvider;
  /** Undefined when no LLM is configured. */
  generator: QueryGenerator | undefined;
  confirmations: ConfirmationStore;
  /** Messages that could be SQL or a question, waiting for their author's choice. */
  choices: IntentChoiceStore;
  renderers: ResultRenderers;
  settings: EngineSettings;
  /** Who may query what, what the model sees, where results go (masking is in the connections' drivers). */
  governance: Governance;
  /** The approval flow's store and rules; without them, writes are shown and refused (never run). */
  approvals?: {
    models: ApprovalModels;
    policy: ApprovalPolicy;
    connectionId(name: string): Types.ObjectId | undefined;
  };
  /** Schema migrations (issue 10): their targets, store models and approval policy; absent, no migration flows. */
  migrations?: Omit<MigrationThreadDeps, 'connections' | 'renderers'>;
  /** Saved templates and scheduled reports (issue 11); absent in builds without them. */
  templates?: {
    services: TemplateServices;
    drafts: TemplateDrafts;
    /** Claude proposing parameters for literals; undefined when no LLM is configured. */
    proposer: ParameterProposer | undefined;
    schedules: SchedulesConfig;
  };
}

/** Every flow, wired. */
export function createFlows(deps: FlowDeps): Flow[] {
  const { connections, generator, confirmations, choices, renderers, settings, governance } = deps;
  const templates = deps.templates;
  const runner = new ReadRunner({
    connections,
    renderers,
    settings,
    governance,
    confirmations,
    ...(templates
      ? {
          templateUses: {
            record: async (templateId: string, actorKey: string, at: Date) => {
              const { store, lock, index } = templates.services;
              await recordTemplateUse({ models: store.models, lock, index }, store.id(templateId), {
                actor: actorKey,
                via: 'run',
                at,
              });
            },
          },
        }
      : {}),
  });
  const approvals = deps.approvals;
  const thread = approvals ? new ApprovalThread({ connections, ...approvals }) : undefined;
  const writes =
    approvals && thread
      ? new WriteProposalFlow({ connections, confirmations, settings, thread, ...approvals })
      : undefined;
  const confirm = new ConfirmFlow({
    connections,
    confirmations,
    runner,
    writes: writes ?? refuseWrites,
    settings,
  });
  const migrationThread = deps.migrations
    ? new MigrationThread({ ...deps.migrations, connections, renderers })
    : undefined;
  const migrations = migrationThread ? new MigrationFlow({ thread: migrationThread, settings }) : undefined;
  const flows: Flow[] = [
    new AskFlow({
      connections,
      generator,
      confirm,
      choices,
      settings,
      governance,
      ...(migrations ? { migrations } : {}),
    }),
    confirm,
    ...(migrationThread && migrations ? [migrations, new MigrationApprovalFlow(migrationThread)] : []),
    new SchemaFlow({ connections, renderers, governance }),
    new ConnectionFlow(connections, governance),
    new AccessFlow(governance),
    feedbackFlow,
    ...(approvals && thread && writes
      ? [
          writes,
          new ApprovalFlow({ connections, settings, thread, ...approvals }),
          new ActAsFlow(approvals.policy),
        ]
      : []),
  ];
  if (templates) {
    const saving = new TemplateSaveFlow({
      templates: templates.services,
      drafts: templates.drafts,
      proposer: templates.proposer,
      connections,
      governance,
    });
    flows.push(
      saving,
      new TemplateFlow({ templates: templates.services, saving, connections, confirm, governance }),
      new ScheduleFlow({
        templates: templates.services,
        schedules: templates.schedules,
        connections,
        governance,
      }),
    );
  }
  return flows;
}
