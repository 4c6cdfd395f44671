/**
 * May a scheduled report of a connection be posted into a channel? A report goes to everyone who can read the
 * channel, with nobody asking, so a sensitive connection never reports into a public or shared channel (nor into
 * one whose audience cannot be told), and a `visibility: requester` connection reports only into direct messages.
 */
import type { ConnectionConfig } from '../../config/config-file.ts';
import type { ChannelInfo } from '../conversation/chat-platform.ts';
import { PermissionError } from '../errors.ts';

export type ScheduledReportCheck = { allowed: true } | { allowed: false; error: PermissionError };

/** The scheduler's check before it schedules (and again before it posts) a report of `connection` into `channel`. */
export function checkScheduledReport(
  connection: Pick<ConnectionConfig, 'name' | 'visibility' | 'sensitive'>,
  channel: Pick<ChannelInfo, 'audience' | 'name'> | undefined,
): ScheduledReportCheck {
  const where = channel?.name ? `#${channel.name}` : 'that channel';
  const audience = channel?.audience;
  if ((connection.visibility ?? 'channel') === 'requester' && audience !== 'direct') {
    return refuse(
      `I won't post reports of *${connection.name}* into ${where}: its results go only to the person who asks (visibility: requester).`,
      'Schedule it into a direct message, or ask an admin to change `visibility` of the connection in threadql.yml.',
      connection.name,
      'requester_only',
    );
  }
  if (connection.sensitive && audience !== 'private' && audience !== 'direct') {
    const why =
      audience === 'public'
        ? `${where} is public (anyone in the workspace can read it)`
        : audience === 'shared'
          ? `${where} is shared with another organisation`
          : `I could not check who can read ${where}`;
    return refuse(
      `I won't post reports of *${connection.name}* into ${where}: the connection is marked sensitive and ${why}.`,
      'Schedule it into a private channel or a direct message, or ask an admin to change `sensitive` of the connection in threadql.yml.',
      connection.name,
      'sensitive_public',
    );
  }
  return { allowed: true };
}

function refuse(message: string, hint: string, connection: string, reason: string): ScheduledReportCheck {
  return { allowed: false, error: new PermissionError(message, { hint, detail: { connection, reason } }) };
}
