/**
 * `as <name>` in the terminal shell: switch the acting user (approvers.shell lists names), so one terminal can walk
 * the whole four-eyes flow: request as one person, approve as another.
 */
import type { ApprovalPolicy } from '../../approvals/approval-policy.ts';
import type { CommandArgs } from '../chat-grammar.ts';
import type { Flow } from '../flow.ts';
import type { Turn } from '../turn.ts';

export class ActAsFlow implements Flow {
  private readonly policy: ApprovalPolicy;

  readonly commands = {
    as: (turn: Turn, args: CommandArgs['as']) => this.actAs(turn, args.name),
  };

  constructor(policy: ApprovalPolicy) {
    this.policy = policy;
  }

  private async actAs(turn: Turn, name: string): Promise<void> {
    if (!turn.platform.actAs) {
      await turn.say('`as` switches the acting user in the terminal shell only.');
      return;
    }
    const user = turn.platform.actAs(name);
    const approver = this.policy.qualifies(user).approver;
    await turn.say(`You are now acting as *${name}* (${approver ? 'an approver' : 'not an approver'}).`);
    await turn.services.sessions.audit({
      action: 'shell.act_as',
      actorKey: turn.userKey,
      threadKey: turn.threadKey,
      detail: { as: name, approver },
    });
  }
}
