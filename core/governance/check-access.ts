/**
 * Who may ask a connection (reads): threadql.yml `access`, per platform, by user id or by one of the user's
 * roles (Slack user-group ids, Discord role ids). It adds to the channel binding, never replaces it; approvers are
 * decided elsewhere and stay as they are. No `access` means everyone in the bound channels.
 */
import type { ConnectionConfig } from '../../config/config-file.ts';
import type { PlatformName, UserRef } from '../conversation/chat-platform.ts';
import { userKey } from '../conversation/chat-platform.ts';
import { PermissionError } from '../errors.ts';

export type AccessDecision =
  | { allowed: true; by: 'everyone' | 'user' | 'role'; id?: string }
  | { allowed: false; error: PermissionError };

const WHO: Record<PlatformName, { you: (u: UserRef) => string; groups: string }> = {
  slack: { you: (u) => `your Slack user id \`${u.user}\``, groups: 'or a user group you are in' },
  discord: { you: (u) => `your Discord user id \`${u.user}\``, groups: 'or one of your roles' },
  shell: { you: (u) => `your name \`${u.user}\``, groups: '' },
};

/** Whether `user` may query `connection`; a refusal carries the message and what to ask an admin for. */
export function checkAccess(
  connection: Pick<ConnectionConfig, 'name' | 'access'>,
  user: UserRef,
): AccessDecision {
  if (!connection.access) return { allowed: true, by: 'everyone' };
  const listed = connection.access[user.platform] ?? [];
  if (listed.includes(user.user)) return { allowed: true, by: 'user', id: user.user };
  const role = (user.roles ?? []).find((r) => listed.includes(r));
  if (role) return { allowed: true, by: 'role', id: role };
  const who = WHO[user.platform];
  const add = [who.you(user), who.groups].filter(Boolean).join(' ');
  return {
    allowed: false,
    error: new PermissionError(
      `You may not query *${connection.name}*: it is open only to the people listed for it.`,
      {
        hint: `Ask a threadql admin to add ${add} to \`access.${user.platform}\` of the connection *${connection.name}* in threadql.yml.`,
        detail: { connection: connection.name, user: userKey(user), reason: 'not_listed' },
      },
    ),
  };
}
