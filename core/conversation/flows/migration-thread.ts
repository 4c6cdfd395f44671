/**
 * What the two migration flows share about a thread: the migration's card (updated in place when its state
 * changes), the before/after ERD, the approvers' mentions and names, and writing the approval domain's records
 * (AuditEvents, QueryHistory) into the store.
 */
import type { ApprovalDecisionFields } from '../../../models/approval-decision.ts';
import type { ApprovalRequestFields } from '../../../models/approval-request.ts';
import type { Models } from '../../../models/create-models.ts';
import type { MigrationFields } from '../../../models/migration.ts';
import { migrationErdDiff } from '../../../renderers/erd/erd-diff.ts';
import type { ApprovalPolicy } from '../../approvals/approval-policy.ts';
import type { ApprovalRecords } from '../../approvals/approval-records.ts';
import { recordApproval } from '../../approvals/record-approval.ts';
import type { Logger } from '../../logger.ts';
import { migrationCardReply } from '../../migrations/migration-card.ts';
import type { MigrationApprovalModels } from '../../migrations/migration-approvals.ts';
import { pendingApprovalOf } from '../../migrations/migration-approvals.ts';
import type { MigrationTargets } from '../../migrations/migration-targets.ts';
import type { VerificationOutcome } from '../../migrations/verify-migration.ts';
import type { ChatPlatform, PostedMessage } from '../chat-platform.ts';
import type { ConnectionProvider, ResultRenderers, SessionStore } from '../engine-ports.ts';

export interface MigrationThreadDeps {
  connections: ConnectionProvider;
  targets: MigrationTargets;
  models: MigrationApprovalModels & Pick<Models, 'ApprovalDecision'>;
  policy: ApprovalPolicy;
  renderers: ResultRenderers;
}

export class MigrationThread {
  readonly deps: MigrationThreadDeps;

  constructor(deps: MigrationThreadDeps) {
    this.deps = deps;
  }

  /** The message that is the migration's card, when it has one. */
  cardOf(m: Pick<MigrationFields, 'thread' | 'cardMessageId'>): PostedMessage | undefined {
    return m.thread && m.cardMessageId ? { thread: m.thread, messageId: m.cardMessageId } : undefined;
  }

  /** Redraws the migration's card for its current state (no image: an updated message cannot gain files). */
  async refreshCard(platform: ChatPlatform, m: MigrationFields, note?: string): Promise<void> {
    const card = this.cardOf(m);
    if (!card || card.thread.platform !== platform.name) return;
    const approvalPending =
      m.status === 'pending' && (await pendingApprovalOf(this.deps.models, m._id)) !== undefined;
    const nameOf = await this.namesFor(m);
    await platform
      .update(card, migrationCardReply(m, { approvalPending, nameOf, ...(note ? { note } : {}) }))
      .catch(() => undefined);
  }

  /** Display names of the people around a migration (proposer, requesters, approvers), by user key. */
  namesFor(m: MigrationFields): Promise<(key: string | null) => string> {
    return this.namesForAll([m]);
  }

  /** Display names of the people around some migrations, by user key (the key's last part when unknown). */
  async namesForAll(migrations: readonly MigrationFields[]): Promise<(key: string | null) => string> {
    const names = new Map<string, string>();
    for (const m of migrations)
      if (m.proposedBy && m.proposedByName) names.set(m.proposedBy, m.proposedByName);
    const ids = migrations.flatMap((m) => [m.approval, m.rollbackApproval]).filter((id) => id !== null);
    const requests = ids.length
      ? await this.deps.models.ApprovalRequest.find({ _id: { $in: ids } }).lean<ApprovalRequestFields[]>()
      : [];
    for (const r of requests) {
      if (r.requesterName) names.set(r.requester, r.requesterName);
      r.approvedBy.forEach((key, i) => {
        const name = r.approvedByNames[i];
        if (name) names.set(key, name);
      });
    }
    return (key) => (key ? (names.get(key) ?? key.split(':').at(-1) ?? key) : 'someone');
  }

  /** The before/after ERD PNG of a verified migration, or why there is none. */
  async erd(
    outcome: VerificationOutcome,
    version: string,
  ): Promise<{ png?: Buffer; note?: string; mermaid?: string }> {
    if (!outcome.before || !outcome.after) {
      return { note: 'No ER diagram: up did not run during verification, so there is no "after" to draw.' };
    }
    const diff = migrationErdDiff(outcome.before, outcome.after, { title: version });
    if (diff.changes.length === 0)
      return { note: 'No ER diagram: up does not change tables, columns, keys or indexes.' };
    // Without an image the diagram still goes out, as mermaid text attached to the card.
    const text = 'It is attached as mermaid text; paste it into any mermaid viewer.';
    if (!this.deps.renderers.diagram)
      return { note: `No ER diagram image: this build cannot draw images. ${text}`, mermaid: diff.mermaid };
    const drawn = await this.deps.renderers.diagram(diff.mermaid);
    if (drawn.png) return { png: drawn.png };
    const why = (drawn.warning ?? 'it could not be drawn.').replace(
      /\n?The diagram is included as mermaid text[^\n]*/,
      '',
    );
    return { note: `No ER diagram image: ${why.trim()}\n${text}`, mermaid: diff.mermaid };
  }

  /** The approver ids threadql.yml lists for the platform (the adapter turns them into mentions). */
  approverIds(platform: ChatPlatform): string[] {
    return this.deps.policy.approverIds(platform.name);
  }

  /** Names of who approved a request so far. */
  async approverNames(request: ApprovalRequestFields): Promise<string[]> {
    const decisions = await this.deps.models.ApprovalDecision.find({
      request: request._id,
      decision: 'approve',
    })
      .sort({ at: 1 })
      .lean<ApprovalDecisionFields[]>();
    return decisions.map((d) => d.userName ?? d.user.split(':').at(-1) ?? d.user);
  }

  /** Writes an approval step's records (the same as a write's: core/approvals/record-approval.ts). */
  record(sessions: SessionStore, records: ApprovalRecords, threadKey: string, logger: Logger): Promise<void> {
    return recordApproval(sessions, records, threadKey, logger);
  }
}
