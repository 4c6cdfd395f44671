/**
 * Saving templates from the thread: `save as <name>` (the query last run here) and `template <name>` with a ```sql
 * block. Saving goes through a save card: Claude's proposed parameters shown for the user to confirm (or save the
 * query as it was), Edit in a modal, Cancel; only the person saving (or an admin) may use its buttons.
 */
import { PermissionError, ThreadqlError, ValidationError } from '../../errors.ts';
import type { Governance } from '../../governance/governance.ts';
import { templatePlaceholders } from '../../templates/bind-template.ts';
import { checkTemplate } from '../../templates/check-template.ts';
import type { TemplateServices } from '../../templates/create-template-services.ts';
import {
  formatParameterLines,
  guessParameterType,
  parseParameterLines,
} from '../../templates/parameter-lines.ts';
import type { ParameterDefinition } from '../../templates/parameter-values.ts';
import type { ParameterProposer } from '../../templates/propose-parameters.ts';
import type { TemplateDraft, TemplateDrafts } from '../../templates/template-drafts.ts';
import { runExample, saveCardReply, settledSaveCardReply } from '../../templates/template-replies.ts';
import type { ButtonClick, IncomingMessage, ModalSubmit, PostedMessage } from '../chat-platform.ts';
import type { CommandArgs } from '../chat-grammar.ts';
import type { ConnectionProvider } from '../engine-ports.ts';
import type { Flow } from '../flow.ts';
import type { Turn } from '../turn.ts';
import { mayQuery } from './query-gate.ts';
import { workspaceOf } from './template-flow.ts';

const GONE = 'This save card has expired or was already used. Send the command again for a fresh one.';

export interface TemplateSaveFlowDeps {
  templates: Pick<TemplateServices, 'store'>;
  drafts: TemplateDrafts;
  /** Claude proposing parameters for literals; undefined when no LLM is configured. */
  proposer: ParameterProposer | undefined;
  connections: ConnectionProvider;
  /** Saving reads the connection: the same access as a question. */
  governance: Governance;
}

export class TemplateSaveFlow implements Flow {
  readonly #deps: TemplateSaveFlowDeps;

  readonly commands = {
    save: (turn: Turn, args: CommandArgs['save'], message: IncomingMessage) =>
      this.saveLastRun(turn, args, message),
  };

  readonly buttons = {
    template_save: {
      queued: true,
      handle: (turn: Turn, click: ButtonClick) => this.save(turn, click, false),
    },
    template_save_plain: {
      queued: true,
      handle: (turn: Turn, click: ButtonClick) => this.save(turn, click, true),
    },
    template_edit: { handle: (turn: Turn, click: ButtonClick) => this.openEditor(turn, click) },
    template_cancel: { queued: true, handle: (turn: Turn, click: ButtonClick) => this.cancel(turn, click) },
  };

  readonly modals = {
    template_edit: {
      queued: true,
      handle: (turn: Turn, submit: ModalSubmit) => this.applyEdit(turn, submit),
    },
  };

  constructor(deps: TemplateSaveFlowDeps) {
    this.#deps = deps;
  }

  /** `save as <name>`: the query that last ran successfully in this thread. */
  private async saveLastRun(
    turn: Turn,
    { name }: CommandArgs['save'],
    message: IncomingMessage,
  ): Promise<void> {
    const session = await turn.session();
    const last = session?.recentTurns.filter((t) => t.sql && t.status === 'success').at(-1);
    if (!session || !last?.sql) {
      await turn.say(
        'Nothing has run in this thread yet, so there is nothing to save. Ask a question and click *Run* first, or send `template <name>` with the query in a ```sql block.',
      );
      return;
    }
    await this.offerSave(turn, {
      name,
      sql: last.sql,
      question: last.question,
      connectionName: session.connectionName,
      session: session.id,
      input: message.text,
    });
  }

  /** `template <name>` with a code block: that query, `:name` placeholders as parameters. */
  async saveBlock(turn: Turn, { name, sql }: { name: string; sql: string }, message: IncomingMessage) {
    const session = await turn.session();
    let connectionName = session?.connectionName;
    let sessionId = session?.id;
    try {
      if (!connectionName) connectionName = (await this.#deps.connections.resolve(turn.thread)).name;
      if (!sessionId)
        sessionId = (
          await turn.services.sessions.openSession(turn.thread, turn.user, connectionName, `template ${name}`)
        ).id;
    } catch (error) {
      await turn.fail(error, { input: message.text });
      return;
    }
    await this.offerSave(turn, {
      name,
      sql,
      question: '',
      connectionName,
      session: sessionId,
      input: message.text,
    });
  }

  private async offerSave(
    turn: Turn,
    input: {
      name: string;
      sql: string;
      question: string;
      connectionName: string;
      session: string | null;
      input: string;
    },
  ): Promise<void> {
    const { templates, connections, proposer, drafts, governance } = this.#deps;
    // Saving reads the connection (placeholders, Claude's parameter proposal): the same access as a question.
    if (!(await mayQuery(turn, governance, input.connectionName))) return;
    const card = await turn.progress('Preparing the template…');
    try {
      const workspace = workspaceOf(turn);
      if (await templates.store.find(workspace, input.name)) {
        throw new ValidationError(`There is already a template named "${input.name}" in this workspace.`, {
          hint: `Pick another name, or \`delete template ${input.name}\` first.`,
        });
      }
      const { driver } = await connections.resolve(turn.thread, input.connectionName);
      const databaseType = driver.dialect.type;
      let sql = input.sql;
      let parameters: ParameterDefinition[] = (await templatePlaceholders(databaseType, sql)).map((n) => ({
        name: n,
        type: guessParameterType(n),
        required: true,
      }));
      let original: TemplateDraft['original'];
      if (parameters.length === 0 && proposer) {
        const proposal = await proposer
          .propose({ databaseType, sql, question: input.question })
          .catch((error: unknown) => void turn.logger.warn({ err: error }, 'no parameter proposal'));
        if (proposal) {
          original = { sql, parameters: [] };
          sql = proposal.sql;
          parameters = proposal.parameters;
        }
      }
      await checkTemplate({ databaseType, sql, parameters }, (q) =>
        connections.classify(input.connectionName, q),
      );
      const draft = await drafts.create({
        workspace,
        name: input.name,
        question: input.question,
        databaseType,
        connectionName: input.connectionName,
        session: input.session,
        ownerKey: turn.userKey,
        threadKey: turn.threadKey,
        sql,
        parameters,
        ...(original ? { original } : {}),
        messageId: card.messageId,
      });
      await turn.update(card, saveCardReply(draft));
    } catch (error) {
      await turn.fail(error, { progress: card, input: input.input });
    }
  }

  /** The draft a click refers to, if it is live and the user may act on it. */
  private async permitted(turn: Turn, id: string): Promise<TemplateDraft | undefined> {
    const draft = await this.#deps.drafts.peek(id);
    if (!draft) {
      await turn.privately(GONE);
      return undefined;
    }
    if (draft.ownerKey !== turn.userKey && !turn.isAdmin()) {
      await turn.privately('Only the person saving this template (or an admin) can use these buttons.');
      await turn.audit('click.refused', { action: 'template_save', reason: new PermissionError('').code });
      return undefined;
    }
    return draft;
  }

  private async save(turn: Turn, click: ButtonClick, plain: boolean): Promise<void> {
    if (!(await this.permitted(turn, click.value))) return;
    const draft = await this.#deps.drafts.take(click.value);
    if (!draft) {
      await turn.privately(GONE);
      return;
    }
    const card: PostedMessage = {
      thread: click.thread,
      messageId: draft.messageId ?? click.message.messageId,
    };
    const chosen =
      plain && draft.original ? draft.original : { sql: draft.sql, parameters: draft.parameters };
    try {
      await checkTemplate({ databaseType: draft.databaseType, ...chosen }, (q) =>
        this.#deps.connections.classify(draft.connectionName, q),
      );
      const saved = await this.#deps.templates.store.create(
        {
          workspace: draft.workspace,
          name: draft.name,
          question: draft.question || draft.name,
          sql: chosen.sql,
          parameters: chosen.parameters,
          databaseType: draft.databaseType,
          connectionName: draft.connectionName,
          session: draft.session,
        },
        { key: turn.userKey, admin: turn.isAdmin(), thread: turn.threadKey },
      );
      await turn.update(
        card,
        settledSaveCardReply(
          { ...saved, databaseType: saved.databaseType },
          `✅ Saved by ${turn.who}. Run it with \`${runExample(saved.name, saved.parameters)}\`, schedule it with \`schedule ${saved.name} daily at 09:00 in #channel\`.`,
        ),
      );
    } catch (error) {
      await turn.update(card, settledSaveCardReply(draft, `❌ Not saved: ${describe(error)}`));
    }
  }

  private async openEditor(turn: Turn, click: ButtonClick): Promise<void> {
    const draft = await this.permitted(turn, click.value);
    if (!draft) return;
    await turn.openModal(
      click.trigger,
      {
        id: 'template_edit',
        title: 'Edit template',
        submitLabel: 'Check',
        value: draft.id,
        fields: [
          {
            id: 'sql',
            label: `Query for ${draft.connectionName} (:name marks a parameter)`,
            value: draft.sql,
            multiline: true,
          },
          {
            id: 'parameters',
            label: 'Parameters, one per line: name type [= default] [required]',
            value: formatParameterLines(draft.parameters),
            multiline: true,
          },
        ],
      },
      `Send \`template ${draft.name}\` with the edited query in a \`\`\`sql block.`,
    );
  }

  private async applyEdit(turn: Turn, submit: ModalSubmit): Promise<void> {
    const draft = await this.permitted(turn, submit.value);
    if (!draft) return;
    const card: PostedMessage = { thread: submit.thread, messageId: draft.messageId ?? '' };
    try {
      const sql = (submit.fields.sql ?? draft.sql).trim();
      // A platform whose modals take one field (the shell) edits the query only.
      const parameters =
        submit.fields.parameters === undefined
          ? draft.parameters
          : parseParameterLines(submit.fields.parameters);
      await checkTemplate({ databaseType: draft.databaseType, sql, parameters }, (q) =>
        this.#deps.connections.classify(draft.connectionName, q),
      );
      const { original: _dropped, ...rest } = draft;
      const edited: TemplateDraft = { ...rest, sql, parameters };
      if (!(await this.#deps.drafts.replace(edited))) {
        await turn.privately(GONE);
        return;
      }
      await turn.update(card, saveCardReply(edited));
    } catch (error) {
      await turn.privately(`Not changed: ${describe(error)}`);
    }
  }

  private async cancel(turn: Turn, click: ButtonClick): Promise<void> {
    if (!(await this.permitted(turn, click.value))) return;
    const draft = await this.#deps.drafts.take(click.value);
    if (!draft) {
      await turn.privately(GONE);
      return;
    }
    await turn.update(
      { thread: click.thread, messageId: draft.messageId ?? click.message.messageId },
      settledSaveCardReply(draft, `🚫 Cancelled by ${turn.who}`),
    );
  }
}

function describe(error: unknown): string {
  return error instanceof ThreadqlError
    ? error.hint
      ? `${error.message} ${error.hint}`
      : error.message
    : 'something went wrong; please try again.';
}
