/**
 * `access [connection]`: the admin view of a connection (who may query it, where, what is masked, how results go).
 * Answered in a direct message with the bot, or to an admin anywhere (privately in a channel, so the policy is
 * not posted for the room); anyone else is told where to ask, and the refusal is audited.
 */
import { PermissionError, toUserMessage } from '../../errors.ts';
import { channelInfo, type Governance } from '../../governance/governance.ts';
import type { CommandArgs } from '../chat-grammar.ts';
import type { Flow } from '../flow.ts';
import type { Turn } from '../turn.ts';

export class AccessFlow implements Flow {
  private readonly governance: Governance;

  readonly commands = {
    access: (turn: Turn, args: CommandArgs['access']) => this.show(turn, args.connection),
  };

  constructor(governance: Governance) {
    this.governance = governance;
  }

  private async show(turn: Turn, connection: string | undefined): Promise<void> {
    const direct = (await channelInfo(turn.platform, turn.thread))?.audience === 'direct';
    if (!direct && !turn.isAdmin()) {
      const refusal = new PermissionError(
        '`access` answers in a direct message with me, or to a threadql admin.',
        {
          hint: 'Send `access` to me in a direct message, or ask an admin (threadql.yml `admins`).',
        },
      );
      await turn.privately(toUserMessage(refusal));
      await turn.audit('access.refused', { command: 'access', reason: 'not_direct_or_admin' });
      return;
    }
    const { platform, thread } = turn;
    const mention = (id: string, kind: 'user' | 'channel') =>
      kind === 'channel'
        ? platform.name === 'shell'
          ? `#${id}`
          : `<#${id}>`
        : (platform.mention?.(id, thread) ?? `\`${id}\``);
    let text: string;
    try {
      const names = connection ? [connection] : this.governance.connections.map((c) => c.name);
      text =
        names
          .map((name) => this.governance.describe(name, { platform: platform.name, mention }))
          .join('\n\n') || 'No connections are configured.';
    } catch (error) {
      text = toUserMessage(error);
    }
    if (direct) await turn.say(text);
    else await turn.privately(text);
  }
}
