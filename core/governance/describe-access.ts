/**
 * The admin view of one connection (`access <connection>`): who may query it, in which channels, what is masked
 * and how, and where its results and scheduled reports go. Plain text in the engine's mrkdwn; ids go through
 * `mention` so each platform shows them as it mentions people and channels.
 */
import type { ConnectionConfig, MaskMode } from '../../config/config-file.ts';
import type { PlatformName } from '../conversation/chat-platform.ts';

export interface DescribeAccessOptions {
  /** The platform asking: its list comes first, the others after. */
  platform: PlatformName;
  /** How the platform shows a user/role id or a channel id; default the id in backticks. */
  mention?: (id: string, kind: 'user' | 'channel') => string;
}

const MODE_WORDS: Record<MaskMode, string> = {
  hide: 'column dropped',
  redact: 'values shown as •••',
  hash: 'values shown as a short hash',
};

const PLATFORMS: PlatformName[] = ['slack', 'discord', 'shell'];

/** The lines of the admin view of `connection`. */
export function describeAccess(
  connection: Pick<
    ConnectionConfig,
    'name' | 'type' | 'channels' | 'access' | 'maskedColumns' | 'visibility' | 'sensitive'
  >,
  options: DescribeAccessOptions,
): string {
  const mention = options.mention ?? ((id: string) => `\`${id}\``);
  const lines = [`*${connection.name}* (${connection.type})`];

  if (!connection.access) lines.push('• Who may ask: everyone in the channels below');
  else {
    const order = [options.platform, ...PLATFORMS.filter((p) => p !== options.platform)];
    const lists = order.map((p) => {
      const ids = connection.access?.[p] ?? [];
      return `${p}: ${ids.length ? ids.map((id) => mention(id, 'user')).join(', ') : 'nobody'}`;
    });
    lines.push(`• Who may ask: only those listed (users, groups, roles): ${lists.join('; ')}`);
  }

  lines.push(
    `• Where: ${
      connection.channels.includes('*')
        ? 'any channel'
        : connection.channels.map((c) => mention(c, 'channel')).join(', ') || 'no channel'
    }`,
  );

  lines.push(
    connection.maskedColumns.length
      ? `• Masked: ${connection.maskedColumns.map((m) => `\`${m.column}\` (${MODE_WORDS[m.mode]})`).join(', ')}; the model sees these columns marked, never their values`
      : '• Masked: nothing',
  );

  const visibility = connection.visibility ?? 'channel';
  const results =
    visibility === 'channel'
      ? 'in the thread, for everyone in the channel'
      : visibility === 'requester'
        ? 'only to the person who asked, privately (a note stays in the thread)'
        : connection.sensitive
          ? 'privately to the person who asked when the channel is public or shared with another organisation; in the thread otherwise'
          : 'in the thread (visibility auto, but the connection is not marked sensitive)';
  lines.push(`• Results: ${results}`);

  const reports =
    visibility === 'requester'
      ? 'only into direct messages'
      : connection.sensitive
        ? 'only into private channels and direct messages (sensitive)'
        : 'into any channel the bot may post in';
  lines.push(`• Scheduled reports: ${reports}`);
  return lines.join('\n');
}
