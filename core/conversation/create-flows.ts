/**
 * The flows threadql runs, wired from its parts. Adding a flow: write it in flows/ (a class or object
 * implementing Flow), give it what it needs here, and add it to the list; the engine routes its commands,
 * buttons and modals to it.
 */
import type { Governance } from '../governance/governance.ts';
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
import { SchemaFlow } from './flows/schema-flow.ts';
import { refuseWrites } from './flows/statement-proposal.ts';

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
}

/** Every flow, wired. */
export function createFlows(deps: FlowDeps): Flow[] {
  const { connections, generator, confirmations, choices, renderers, settings, governance } = deps;
  const runner = new ReadRunner({ connections, renderers, settings, governance });
  const confirm = new ConfirmFlow({ connections, confirmations, runner, writes: refuseWrites, settings });
  return [
    new AskFlow({ connections, generator, confirm, choices, settings, governance }),
    confirm,
    new SchemaFlow({ connections, renderers, governance }),
    new ConnectionFlow(connections, governance),
    new AccessFlow(governance),
    feedbackFlow,
  ];
}
