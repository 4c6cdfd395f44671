/**
 * The migration card (issue 10 §3) and its later states, as neutral Replies: description, up and down in code
 * blocks, the verification result in words, the classifier's reading of both scripts, the checksum prefix, the
 * before/after ERD, and the buttons that fit the migration's state: Request approval (never after a failed
 * verification), Edit, Cancel; Roll back once applied.
 */
import type { MigrationFields } from '../../models/migration.ts';
import type { Button, FileAttachment, Reply, ReplyPart } from '../conversation/chat-platform.ts';

/** Button actions of migration cards (routed to the migration flow). */
export const MIGRATION_ACTIONS = {
  request: 'migration_request',
  edit: 'migration_edit',
  cancel: 'migration_cancel',
  rollback: 'migration_rollback',
} as const;

export interface MigrationCardOptions {
  /** The before/after ERD PNG (first posting only: an updated message cannot gain files). */
  erd?: Buffer;
  /** Why there is no ERD image (no browser, or the verification did not run up). */
  erdNote?: string;
  /** The before/after diagram as mermaid text, attached when it could not be drawn (the note points to it). */
  erdMermaid?: string;
  /** A line about what just happened (approval requested by …), shown above the buttons. */
  note?: string;
  /** Names for user keys (`slack:T1:U1` → `Ann`). */
  nameOf?: (userKey: string | null) => string;
}

/** `2026-11-28 09:30 UTC`. */
export function shortTime(date: Date | null | undefined): string {
  return date ? `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC` : 'unknown time';
}

const defaultName = (key: string | null): string => (key ? (key.split(':').at(-1) ?? key) : 'someone');

/** The verification in words: a headline and bullet lines. */
export function verificationLines(
  migration: Pick<MigrationFields, 'verification' | 'connectionName'>,
): string[] {
  const v = migration.verification;
  if (!v) return ['⚠️ Not verified yet.'];
  const where =
    v.where === 'shadow'
      ? 'on the shadow database'
      : `in a transaction on *${migration.connectionName ?? 'the connection'}* that was rolled back`;
  const lines: string[] = [];
  if (v.status === 'passed')
    lines.push(`✅ *Verified* ${where}: up → down → up, and down restores the schema exactly.`);
  else if (v.status === 'failed')
    lines.push(
      `❌ *Verification failed* ${v.where === 'none' ? '' : `${where} `}— approval cannot be requested until the scripts are fixed:`,
    );
  else lines.push('⚠️ *Not verified* — approvers should read the scripts closely:');
  for (const p of v.problems) lines.push(`• ${p}`);
  if (v.upChanges.length > 0) lines.push(`*What up does:* ${v.upChanges.join('; ')}`);
  for (const n of v.notes) lines.push(`_Note:_ ${n}`);
  return lines;
}

function statusLine(m: MigrationFields, name: (key: string | null) => string): string | undefined {
  switch (m.status) {
    case 'applied': {
      const approvers = m.approvedBy.map(name).join(' and ');
      const took = m.executionMs === null ? '' : ` in ${m.executionMs} ms`;
      // The last approval applies the migration: its approver is not named twice.
      return m.appliedBy && m.approvedBy.includes(m.appliedBy)
        ? `✅ *Applied* at ${shortTime(m.appliedAt)}${took} on the approval of ${approvers}.`
        : `✅ *Applied* by ${name(m.appliedBy)} at ${shortTime(m.appliedAt)}${took}${approvers ? `, approved by ${approvers}` : ''}.`;
    }
    case 'failed':
      return `❌ *Applying failed* at ${shortTime(m.failedAt)}: ${m.error ?? 'unknown error'}\nEdit the scripts to try again, or cancel.`;
    case 'rolled_back':
      return `↩️ *Rolled back* by ${name(m.rolledBackBy)} at ${shortTime(m.rolledBackAt)}.`;
    case 'cancelled':
      return `🚫 *Cancelled* at ${shortTime(m.cancelledAt)}.`;
    default:
      return undefined;
  }
}

function buttonsFor(m: MigrationFields, approvalPending: boolean): Button[] {
  const id = String(m._id);
  if (m.status === 'applied')
    return [{ action: MIGRATION_ACTIONS.rollback, label: 'Roll back', style: 'danger', value: id }];
  if (m.status !== 'pending' && m.status !== 'failed') return [];
  const buttons: Button[] = [];
  if (m.status === 'pending' && !approvalPending && m.verification?.status !== 'failed') {
    buttons.push({
      action: MIGRATION_ACTIONS.request,
      label: 'Request approval',
      style: 'primary',
      value: id,
    });
  }
  buttons.push({ action: MIGRATION_ACTIONS.edit, label: 'Edit', value: id });
  buttons.push({ action: MIGRATION_ACTIONS.cancel, label: 'Cancel', style: 'danger', value: id });
  return buttons;
}

/** The card of a migration in its current state. */
export function migrationCardReply(
  m: MigrationFields,
  options: MigrationCardOptions & { approvalPending?: boolean } = {},
): Reply {
  const name = options.nameOf ?? defaultName;
  const title = `🧱 *Migration* \`${m.version}\` on *${m.connectionName ?? 'connection'}*`;
  const parts: ReplyPart[] = [
    { type: 'text', text: `${title}\n${m.description}` },
    { type: 'text', text: '*Up*' },
    { type: 'code', code: m.upScript, language: 'sql' },
    { type: 'text', text: '*Down*' },
    { type: 'code', code: m.downScript, language: 'sql' },
    { type: 'text', text: verificationLines(m).join('\n') },
  ];
  const status = statusLine(m, name);
  if (status) parts.push({ type: 'text', text: status });
  const facts = [
    m.verification ? `up: ${m.verification.upClass}` : undefined,
    m.verification ? `down: ${m.verification.downClass}` : undefined,
    `checksum ${m.checksum.slice(0, 12)}…`,
    `proposed by ${m.proposedByName ?? name(m.proposedBy)}${m.source === 'llm' ? ' (written by Claude)' : ''}`,
  ].filter(Boolean);
  parts.push({ type: 'context', text: facts.join(' · ') });
  if (options.erd) {
    const image: FileAttachment = {
      filename: `migration-${m.version}.png`,
      mimeType: 'image/png',
      data: options.erd,
    };
    parts.push({
      type: 'image',
      image,
      alt: `ER diagram of ${m.version}: the tables it changes, before and after`,
    });
  } else {
    if (options.erdNote) parts.push({ type: 'context', text: options.erdNote });
    if (options.erdMermaid)
      parts.push({
        type: 'file',
        file: {
          filename: `migration-${m.version}.mmd`,
          mimeType: 'text/plain',
          data: Buffer.from(options.erdMermaid, 'utf8'),
          title: `ER diagram of ${m.version} (mermaid): the tables it changes, before and after`,
        },
      });
  }
  if (options.note) parts.push({ type: 'context', text: options.note });
  const buttons = buttonsFor(m, options.approvalPending === true);
  if (buttons.length > 0) parts.push({ type: 'buttons', buttons });
  return {
    parts,
    fallback: `Migration ${m.version} on ${m.connectionName ?? 'connection'}: ${m.description} (${m.status}${m.verification ? `, verification ${m.verification.status}` : ''})`,
  };
}
