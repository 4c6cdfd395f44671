/**
 * Schema migrations in the thread (issue 10): `migrate [name]` with two code blocks (or Claude's proposal from a
 * question), verified before anyone approves and shown on a card with its before/after ERD; Edit (both scripts,
 * verified again) and Cancel on the card; `migrations` (list and drift) and `migrations export flyway`.
 * Approving, applying and rolling back are in migration-approval-flow.ts. The domain is core/migrations.
 */
import { transitionApproval } from '../../../models/approval-request.ts';
import type { MigrationFields } from '../../../models/migration.ts';
import { exportFlyway } from '../../migrations/flyway-export.ts';
import { listMigrations } from '../../migrations/list-migrations.ts';
import { MIGRATION_ACTIONS, migrationCardReply } from '../../migrations/migration-card.ts';
import { flywayExportReply, migrationListReply } from '../../migrations/migration-list-reply.ts';
import { pendingApprovalOf } from '../../migrations/migration-approvals.ts';
import {
  cancelMigration,
  editMigration,
  loadMigration,
  proposeMigration,
} from '../../migrations/propose-migration.ts';
import { verifyMigration } from '../../migrations/verify-migration.ts';
import { hasCode, PermissionError, toUserMessage, ValidationError } from '../../errors.ts';
import type { CommandArgs } from '../chat-grammar.ts';
import type { ButtonClick, ModalSubmit, PostedMessage } from '../chat-platform.ts';
import type { EngineSettings, LlmUsage } from '../engine-ports.ts';
import type { Flow } from '../flow.ts';
import type { Turn } from '../turn.ts';
import type { MigrationThread } from './migration-thread.ts';
import { threadSession } from './thread-session.ts';

const EDIT_MODAL = 'migration_edit_scripts';

export interface MigrationProposalInput {
  name?: string;
  description?: string;
  up: string;
  down: string;
  source: 'pasted' | 'llm';
  /** The user's words, for the history entry. */
  input: string;
  usage?: LlmUsage;
}

export interface MigrationFlowDeps {
  thread: MigrationThread;
  settings: EngineSettings;
}

export class MigrationFlow implements Flow {
  private readonly deps: MigrationFlowDeps;

  readonly commands = {
    migrate: (turn: Turn, args: CommandArgs['migrate']) =>
      this.propose(turn, {
        ...(args.name ? { name: args.name } : {}),
        up: args.up,
        down: args.down,
        source: 'pasted',
        input: `migrate ${args.name ?? ''}`.trim(),
      }),
    migrations: (turn: Turn, args: CommandArgs['migrations']) =>
      args.export ? this.exportFlyway(turn) : this.list(turn),
  };

  readonly buttons = {
    // Opens a modal, which must be the click's first answer: not queued.
    [MIGRATION_ACTIONS.edit]: { handle: (turn: Turn, click: ButtonClick) => this.openEditor(turn, click) },
    [MIGRATION_ACTIONS.cancel]: {
      queued: true,
      handle: (turn: Turn, click: ButtonClick) => this.cancel(turn, click),
    },
  };

  readonly modals = {
    [EDIT_MODAL]: { queued: true, handle: (turn: Turn, submit: ModalSubmit) => this.applyEdit(turn, submit) },
  };

  constructor(deps: MigrationFlowDeps) {
    this.deps = deps;
  }

  private get thread(): MigrationThread {
    return this.deps.thread;
  }

  /**
   * Verifies a proposed migration, stores it as pending and shows its card (in `progress` when given, e.g. the
   * ask flow's "Writing SQL…" message when Claude proposed it).
   */
  async propose(turn: Turn, input: MigrationProposalInput, progress?: PostedMessage): Promise<void> {
    const card = progress ?? (await turn.progress('Verifying the migration: up → down → up…'));
    let sessionId: string | undefined;
    try {
      const { session, connection } = await threadSession(turn, this.thread.deps.connections, input.input);
      sessionId = session.id;
      const ctx = await this.thread.deps.targets.context(connection.name);
      const verification = await verifyMigration({
        target: ctx.target.driver,
        ...(ctx.target.shadow ? { shadow: ctx.target.shadow } : {}),
        connection: ctx.target.name,
        up: input.up,
        down: input.down,
        settings: ctx.settings,
        lock: ctx.lock,
        now: ctx.now,
      });
      const migration = await proposeMigration(ctx, {
        ...(input.name ? { name: input.name } : {}),
        ...(input.description ? { description: input.description } : {}),
        up: input.up,
        down: input.down,
        source: input.source,
        proposedBy: turn.userKey,
        proposedByName: turn.who,
        thread: turn.thread,
        verification,
      });
      const erd = await this.thread.erd(verification, migration.version);
      await turn.update(
        card,
        migrationCardReply(migration, {
          ...(erd.png ? { erd: erd.png } : {}),
          ...(erd.note ? { erdNote: erd.note } : {}),
          ...(erd.mermaid ? { erdMermaid: erd.mermaid } : {}),
        }),
      );
      await ctx.models.Migration.updateOne(
        { _id: migration._id },
        { $set: { cardMessageId: card.messageId } },
      );
      const usage = input.usage;
      await turn.history(session.id, {
        type: 'migration',
        userInput: input.input,
        generatedSql: input.up,
        explanation: `${migration.version}: ${migration.description} (verification ${verification.status})`,
        status: verification.status === 'failed' ? 'error' : 'needs_approval',
        ...(verification.status === 'failed'
          ? {
              error: { code: 'verification_failed', message: verification.problems.join('; ').slice(0, 500) },
            }
          : {}),
        ...(usage ? { tokenCount: usage.inputTokens + usage.outputTokens, llmMs: usage.llmMs } : {}),
      });
      await turn.audit(
        'migration.propose',
        {
          migration: String(migration._id),
          version: migration.version,
          connection: connection.name,
          source: input.source,
          verification: verification.status,
          where: verification.where,
          problems: verification.problems,
          downChecksum: migration.downChecksum,
        },
        migration.checksum,
      );
    } catch (error) {
      await turn.fail(error, {
        progress: card,
        input: input.input,
        ...(sessionId ? { sessionId } : {}),
        type: 'migration',
      });
    }
  }

  /** Only the proposer or an approver may change or drop someone's migration. */
  private mayChange(turn: Turn, m: MigrationFields, what: string): void {
    if (m.proposedBy !== turn.userKey && !turn.isApprover()) {
      throw new PermissionError(`Only the proposer of ${m.version} or an approver may ${what} it.`);
    }
  }

  private async openEditor(turn: Turn, click: ButtonClick): Promise<void> {
    try {
      const m = await loadMigration(this.thread.deps, click.value);
      this.mayChange(turn, m, 'edit');
      if (!['pending', 'failed'].includes(m.status)) {
        throw new ValidationError(
          `Migration ${m.version} is ${m.status.replace('_', ' ')}; only a pending or failed one can be edited.`,
        );
      }
      await turn.openModal(
        click.trigger,
        {
          id: EDIT_MODAL,
          title: 'Edit the migration',
          submitLabel: 'Verify and save',
          value: String(m._id),
          fields: [
            { id: 'up', label: 'Up script', value: m.upScript, multiline: true },
            { id: 'down', label: 'Down script (must undo up)', value: m.downScript, multiline: true },
          ],
        },
        `Edit by sending \`migrate\` again with the fixed up and down scripts; then cancel ${m.version}.`,
      );
    } catch (error) {
      await turn.privately(toUserMessage(error));
      await turn.audit('migration.edit_refused', {
        migration: click.value,
        reason: error instanceof Error ? error.message : 'error',
      });
    }
  }

  private async applyEdit(turn: Turn, submit: ModalSubmit): Promise<void> {
    const up = submit.fields.up?.trim() ?? '';
    const down = submit.fields.down?.trim() ?? '';
    const progress = await turn.progress('Verifying the edited migration: up → down → up…');
    try {
      if (!up || !down)
        throw new ValidationError(
          'Both scripts are needed: the up script and the down script that undoes it.',
        );
      const before = await loadMigration(this.thread.deps, submit.value);
      this.mayChange(turn, before, 'edit');
      const ctx = await this.thread.deps.targets.context(before.connectionName ?? '');
      const verification = await verifyMigration({
        target: ctx.target.driver,
        ...(ctx.target.shadow ? { shadow: ctx.target.shadow } : {}),
        connection: ctx.target.name,
        up,
        down,
        settings: ctx.settings,
        lock: ctx.lock,
        now: ctx.now,
      });
      // An approval is for the scripts it saw: a pending one can never run the edited scripts.
      const open = await pendingApprovalOf(this.thread.deps.models, before._id);
      if (open) {
        await transitionApproval(this.thread.deps.models, open._id, 'superseded', {
          from: 'pending',
          actor: turn.userKey,
          now: ctx.now(),
        }).catch((error: unknown) => {
          if (!hasCode(error, 'illegal_transition', 'conflict')) throw error;
        });
      }
      const edited = await editMigration(ctx, before._id, { up, down, actor: turn.userKey, verification });
      const old = this.thread.cardOf(before);
      if (old)
        await turn.platform
          .update(
            old,
            migrationCardReply(before, { note: `✏️ Edited by ${turn.who}: see the new card below.` }),
          )
          .catch(() => undefined);
      const erd = await this.thread.erd(verification, edited.version);
      await turn.update(
        progress,
        migrationCardReply(edited, {
          ...(erd.png ? { erd: erd.png } : {}),
          ...(erd.note ? { erdNote: erd.note } : {}),
          ...(erd.mermaid ? { erdMermaid: erd.mermaid } : {}),
          note: `✏️ Edited by ${turn.who}; verified again.`,
        }),
      );
      await ctx.models.Migration.updateOne(
        { _id: edited._id },
        { $set: { cardMessageId: progress.messageId, thread: progress.thread } },
      );
      const session = await turn.session();
      if (session) {
        await turn.history(session.id, {
          type: 'migration',
          userInput: `edit ${edited.version}`,
          generatedSql: up,
          status: verification.status === 'failed' ? 'error' : 'needs_approval',
        });
      }
      await turn.audit(
        'migration.edit',
        {
          migration: String(edited._id),
          version: edited.version,
          verification: verification.status,
          supersededApproval: open ? String(open._id) : null,
        },
        edited.checksum,
      );
    } catch (error) {
      await turn.fail(error, { progress, input: 'edit migration', type: 'migration' });
    }
  }

  private async cancel(turn: Turn, click: ButtonClick): Promise<void> {
    try {
      const m = await loadMigration(this.thread.deps, click.value);
      this.mayChange(turn, m, 'cancel');
      const ctx = await this.thread.deps.targets.context(m.connectionName ?? '');
      const open = await pendingApprovalOf(this.thread.deps.models, m._id);
      if (open) {
        await transitionApproval(this.thread.deps.models, open._id, 'rejected', {
          from: 'pending',
          actor: turn.userKey,
          now: ctx.now(),
          set: { rejectedBy: turn.userKey, rejectionReason: 'the migration was cancelled' },
        }).catch((error: unknown) => {
          if (!hasCode(error, 'illegal_transition', 'conflict')) throw error;
        });
      }
      const cancelled = await cancelMigration(ctx, m._id, turn.userKey);
      await this.thread.refreshCard(turn.platform, cancelled, `Cancelled by ${turn.who}.`);
      const session = await turn.session();
      if (session)
        await turn.history(session.id, {
          type: 'migration',
          userInput: `cancel ${m.version}`,
          status: 'cancelled',
        });
      await turn.audit('migration.cancel', { migration: String(m._id), version: m.version }, m.checksum);
    } catch (error) {
      await turn.fail(error, { input: 'cancel migration', type: 'migration' });
    }
  }

  private async list(turn: Turn): Promise<void> {
    const progress = await turn.progress('Reading the migrations and the schema history…');
    let sessionId: string | undefined;
    try {
      const { session, connection } = await threadSession(turn, this.thread.deps.connections, 'migrations');
      sessionId = session.id;
      const ctx = await this.thread.deps.targets.context(connection.name);
      const listing = await listMigrations(ctx);
      const nameOf = await this.thread.namesForAll(listing.migrations);
      await turn.update(progress, migrationListReply(connection.name, listing, nameOf));
      await turn.history(session.id, {
        type: 'migration',
        userInput: 'migrations',
        status: 'success',
        resultCount: listing.migrations.length,
      });
      await turn.audit('migration.list', {
        connection: connection.name,
        migrations: listing.migrations.length,
        drift: listing.drift,
        outside: listing.outside.length,
      });
    } catch (error) {
      await turn.fail(error, {
        progress,
        input: 'migrations',
        ...(sessionId ? { sessionId } : {}),
        type: 'migration',
      });
    }
  }

  private async exportFlyway(turn: Turn): Promise<void> {
    const progress = await turn.progress('Writing the Flyway files…');
    let sessionId: string | undefined;
    try {
      const { session, connection } = await threadSession(
        turn,
        this.thread.deps.connections,
        'migrations export flyway',
      );
      sessionId = session.id;
      const ctx = await this.thread.deps.targets.context(connection.name);
      const migrations = await ctx.models.Migration.find({ connection: ctx.target.id })
        .sort({ version: 1 })
        .lean<MigrationFields[]>();
      const files = exportFlyway(migrations);
      await turn.update(progress, flywayExportReply(connection.name, files));
      await turn.history(session.id, {
        type: 'migration',
        userInput: 'migrations export flyway',
        status: 'success',
        resultCount: files.length,
      });
      await turn.audit('migration.export', {
        connection: connection.name,
        format: 'flyway',
        files: files.map((f) => f.name),
      });
    } catch (error) {
      await turn.fail(error, {
        progress,
        input: 'migrations export flyway',
        ...(sessionId ? { sessionId } : {}),
        type: 'migration',
      });
    }
  }
}
