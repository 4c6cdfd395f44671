/** `connections` and `use <connection>`: which connections a channel may use, and switching a thread to one. */
import { toUserMessage } from '../../errors.ts';
import { errorReply } from '../build-replies.ts';
import type { CommandArgs } from '../chat-grammar.ts';
import type { ConnectionProvider } from '../engine-ports.ts';
import type { Flow } from '../flow.ts';
import type { Turn } from '../turn.ts';
import type { Governance } from '../../governance/governance.ts';
import { mayQuery } from './query-gate.ts';

export class ConnectionFlow implements Flow {
  private readonly connections: ConnectionProvider;
  private readonly governance: Governance;

  readonly commands = {
    connections: (turn: Turn) => this.list(turn),
    use: (turn: Turn, args: CommandArgs['use']) => this.use(turn, args.connection),
  };

  constructor(connections: ConnectionProvider, governance: Governance) {
    this.connections = connections;
    this.governance = governance;
  }

  private async list(turn: Turn): Promise<void> {
    const names = this.connections.allowedFor(turn.thread);
    await turn.say(
      names.length ? `Connections here: ${names.join(', ')}` : 'No connection may be used in this channel.',
    );
  }

  private async use(turn: Turn, name: string): Promise<void> {
    try {
      const connection = await this.connections.resolve(turn.thread, name);
      if (!(await mayQuery(turn, this.governance, connection.name))) return;
      const existing = await turn.session();
      const { sessions } = turn.services;
      if (existing) await sessions.setConnection(existing.id, connection.name);
      else await sessions.openSession(turn.thread, turn.user, connection.name, `use ${connection.name}`);
      await turn.say(`This thread now uses *${connection.name}*.`);
    } catch (error) {
      await turn.post(errorReply(toUserMessage(error)));
    }
  }
}
