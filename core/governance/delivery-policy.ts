/**
 * Where a connection's results go, as a pure function of its settings and of who can read the channel:
 * `channel` posts them in the thread (as before), `requester` sends them only to the person who asked, `auto`
 * does that for a `sensitive` connection when the channel is public or shared with another organisation (or when
 * that cannot be told). A direct message is already private, so results go there in place.
 */
import type { ConnectionConfig } from '../../config/config-file.ts';
import type { ChannelInfo } from '../conversation/chat-platform.ts';

export type Delivery = { to: 'thread' } | { to: 'private'; reason: string };

const IN_THREAD: Delivery = { to: 'thread' };

/** How results of `connection` are delivered in a channel described by `channel` (undefined: not known). */
export function deliveryFor(
  connection: Pick<ConnectionConfig, 'name' | 'visibility' | 'sensitive'>,
  channel: Pick<ChannelInfo, 'audience'> | undefined,
): Delivery {
  if (channel?.audience === 'direct') return IN_THREAD;
  switch (connection.visibility ?? 'channel') {
    case 'channel':
      return IN_THREAD;
    case 'requester':
      return { to: 'private', reason: `results of *${connection.name}* go only to the person who asked` };
    case 'auto': {
      if (!connection.sensitive) return IN_THREAD;
      const why = !channel
        ? 'who can read this channel could not be checked'
        : channel.audience === 'public'
          ? 'this channel is public'
          : channel.audience === 'shared'
            ? 'this channel is shared with another organisation'
            : undefined;
      return why ? { to: 'private', reason: `*${connection.name}* is sensitive and ${why}` } : IN_THREAD;
    }
  }
}

/** The note left in the thread when an answer went privately. */
export function privateDeliveryNote(delivery: Extract<Delivery, { to: 'private' }>, who: string): string {
  return `📬 Sent the result to ${who} privately: ${delivery.reason}.`;
}
