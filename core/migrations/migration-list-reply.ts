/** `migrations` and `migrations export flyway` as Replies: the list with drift, and the Flyway files. */
import type { MigrationFields } from '../../models/migration.ts';
import type { Reply, ReplyPart } from '../conversation/chat-platform.ts';
import type { ExportFile } from './flyway-export.ts';
import type { MigrationListing } from './list-migrations.ts';
import { shortTime } from './migration-card.ts';

/** Who did the latest thing to a migration, and when. */
function latestStep(m: MigrationFields): { verb: string; at: Date | null; by: string | null } {
  switch (m.status) {
    case 'applied':
      return { verb: 'applied', at: m.appliedAt, by: m.appliedBy };
    case 'rolled_back':
      return { verb: 'rolled back', at: m.rolledBackAt, by: m.rolledBackBy };
    case 'failed':
      return { verb: 'failed', at: m.failedAt, by: null };
    case 'cancelled':
      return { verb: 'cancelled', at: m.cancelledAt, by: null };
    default:
      return {
        verb: m.verification?.status === 'failed' ? 'pending (verification failed)' : 'pending',
        at: m.createdAt,
        by: null,
      };
  }
}

/** One line per migration: version, status with who and when, description, proposer. */
export function migrationLines(
  migrations: readonly MigrationFields[],
  nameOf: (key: string | null) => string,
  max = 50,
): string[] {
  const shown = migrations.slice(-max);
  const lines = shown.map((m) => {
    const step = latestStep(m);
    const by = step.by ? ` by ${nameOf(step.by)}` : '';
    return `• \`${m.version}\` *${step.verb}*${by}, ${shortTime(step.at)} · ${m.description} · proposed by ${m.proposedByName ?? nameOf(m.proposedBy)}`;
  });
  if (migrations.length > shown.length)
    lines.unshift(`… ${migrations.length - shown.length} older migrations not shown`);
  return lines;
}

/** `n thing` or `n things`. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The `migrations` answer: one line per migration, then drift and outside changes in words. */
export function migrationListReply(
  connection: string,
  listing: MigrationListing,
  nameOf: (key: string | null) => string,
): Reply {
  const parts: ReplyPart[] = [];
  if (listing.migrations.length === 0) {
    parts.push({
      type: 'text',
      text: `No migrations on *${connection}* yet. Propose one with \`migrate <name>\` and two code blocks (up, then down).`,
    });
  } else {
    parts.push({
      type: 'text',
      text: [
        `*Migrations of ${connection}* (${listing.migrations.length})`,
        ...migrationLines(listing.migrations, nameOf),
      ].join('\n'),
    });
  }
  const lines: string[] = [];
  if (listing.drift.length === 0) {
    lines.push(
      `✅ *No drift*: threadql and ${connection}'s threadql_schema_history agree (${count(listing.history.length, 'history row')}).`,
    );
  } else {
    lines.push(`⚠️ *Drift* between threadql and ${connection}'s threadql_schema_history:`);
    for (const d of listing.drift) lines.push(`• ${d}`);
  }
  if (listing.outside.length > 0) {
    lines.push(`⚠️ *The schema changed outside threadql* (its stored schema is now marked outdated):`);
    for (const c of listing.outside.slice(0, 20)) lines.push(`• ${c}`);
    if (listing.outside.length > 20) lines.push(`• … ${listing.outside.length - 20} more`);
  }
  parts.push({ type: 'text', text: lines.join('\n') });
  const applied = listing.migrations.filter((m) => m.status === 'applied').length;
  return {
    parts,
    fallback: `${count(listing.migrations.length, 'migration')} on ${connection} (${applied} applied); ${count(listing.drift.length, 'drift finding')}`,
  };
}

/** The Flyway export as file attachments with a line saying what they are. */
export function flywayExportReply(connection: string, files: readonly ExportFile[]): Reply {
  if (files.length === 0) {
    return {
      parts: [
        {
          type: 'text',
          text: `Nothing to export: *${connection}* has no applied migrations, nor pending ones that passed verification.`,
        },
      ],
      fallback: 'Nothing to export',
    };
  }
  return {
    parts: [
      {
        type: 'text',
        text: `Flyway files for ${files.length / 2} migration${files.length > 2 ? 's' : ''} of *${connection}* (applied, or pending and verified): \`V…\` applies, \`U…\` undoes (Flyway Teams' undo).`,
      },
      ...files.map((f): ReplyPart => ({
        type: 'file',
        file: { filename: f.name, mimeType: 'application/sql', data: Buffer.from(f.content, 'utf8') },
      })),
    ],
    fallback: `${files.length} Flyway files for ${connection}`,
  };
}
