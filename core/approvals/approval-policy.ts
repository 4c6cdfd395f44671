/**
 * Who may decide an approval and what a change needs, from threadql.yml (`approvers`, `approvals`). Pure: no I/O.
 */
import type { ApprovalClass, ApprovalsConfig } from '../../config/approvals-config.ts';
import { DEFAULT_APPROVALS } from '../../config/approvals-config.ts';
import type { ConfigFile } from '../../config/config-file.ts';
import type { PlatformName, UserRef } from '../conversation/chat-platform.ts';

export type ApproverLists = ConfigFile['approvers'];

/** Why a user counts as an approver: listed by id (`user`), or through a listed group/role id. */
export interface Qualification {
  approver: boolean;
  via?: string;
}

/** The approval rules of one threadql: approver lists, required counts, drift tolerance and time to live. */
export class ApprovalPolicy {
  readonly #approvers: ApproverLists;
  readonly #rules: ApprovalsConfig;

  constructor(approvers: ApproverLists, rules: ApprovalsConfig = DEFAULT_APPROVALS) {
    this.#approvers = approvers;
    this.#rules = rules;
  }

  /** The ids (users, groups, roles) threadql.yml lists as approvers on a platform. */
  approverIds(platform: PlatformName): string[] {
    return [...(this.#approvers[platform] ?? [])];
  }

  /** Is this user an approver on their platform, listed by id or through a group or role they hold? */
  qualifies(user: UserRef): Qualification {
    const list = this.#approvers[user.platform] ?? [];
    if (list.includes(user.user)) return { approver: true, via: 'user' };
    const role = (user.roles ?? []).find((r) => list.includes(r));
    return role === undefined ? { approver: false } : { approver: true, via: role };
  }

  /**
   * Distinct approvals a change needs on a connection: the connection's rule for the class, the global rule for the
   * class, the connection's count, the global count, in that order.
   */
  requiredFor(connectionName: string, cls: ApprovalClass): number {
    const connection = this.#connection(connectionName);
    return (
      connection?.classes?.[cls] ?? this.#rules.classes[cls] ?? connection?.required ?? this.#rules.required
    );
  }

  /** How many more rows than its dry run an approved write may change on this connection (fraction). */
  driftToleranceFor(connectionName: string): number {
    return this.#connection(connectionName)?.driftTolerance ?? this.#rules.driftTolerance;
  }

  /** How long a request stays pending, in milliseconds. */
  get ttlMs(): number {
    return this.#rules.ttl * 1000;
  }

  #connection(name: string) {
    const key = Object.keys(this.#rules.connections).find((k) => k.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : this.#rules.connections[key];
  }
}
