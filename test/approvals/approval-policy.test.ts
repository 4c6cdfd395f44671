import { approvalsConfigSchema } from '../../config/approvals-config.ts';
import { configFileSchema } from '../../config/config-file.ts';
import { ApprovalPolicy } from '../../core/approvals/approval-policy.ts';
import { judgeDecider } from '../../core/approvals/judge-decider.ts';
import type { UserRef } from '../../core/conversation/chat-platform.ts';

const slack = (user: string, roles: string[] = []): UserRef => ({
  platform: 'slack',
  workspace: 'T1',
  user,
  roles,
});
const approvers = { slack: ['UANN', 'SDBAS'], discord: ['111', '222'], shell: ['ann'] };

describe('approvals config', () => {
  it('defaults to one approval, 10% drift tolerance and 24 hours', () => {
    expect(configFileSchema.parse({}).approvals).toEqual({
      required: 1,
      driftTolerance: 0.1,
      ttl: 86_400,
      classes: {},
      connections: {},
    });
  });

  it('reads percentages and durations as people write them', () => {
    expect(approvalsConfigSchema.parse({ driftTolerance: '0%', ttl: '30m' })).toMatchObject({
      driftTolerance: 0,
      ttl: 1800,
    });
    expect(approvalsConfigSchema.parse({ driftTolerance: 0.25, ttl: '7d' })).toMatchObject({
      driftTolerance: 0.25,
      ttl: 604_800,
    });
  });

  it('names what is wrong', () => {
    const result = configFileSchema.safeParse({
      connections: [{ name: 'shop', type: 'sqlite', url: 'x.db' }],
      approvals: { required: 0, ttl: 'soon', classes: { reads: 2 }, connections: { warehouse: {} } },
    });
    const issues = result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(issues).toEqual(
      expect.arrayContaining([
        'approvals.required: at least 1 approval is required',
        expect.stringMatching(/^approvals\.ttl: expected seconds or a duration/),
        expect.stringMatching(/^approvals\.classes: Unrecognized key/),
      ]),
    );
  });
});

describe('ApprovalPolicy', () => {
  const policy = new ApprovalPolicy(
    approvers,
    approvalsConfigSchema.parse({
      required: 1,
      driftTolerance: '10%',
      classes: { ddl: 2 },
      connections: { Warehouse: { required: 3, driftTolerance: 0, classes: { other: 4 } } },
    }),
  );

  it('qualifies approvers by id or by a listed group or role, and says which', () => {
    expect(policy.qualifies(slack('UANN'))).toEqual({ approver: true, via: 'user' });
    expect(policy.qualifies(slack('UBOB', ['SOTHER', 'SDBAS']))).toEqual({ approver: true, via: 'SDBAS' });
    expect(policy.qualifies(slack('UBOB'))).toEqual({ approver: false });
    // Ids are per platform: a Slack id listed does not make a Discord user an approver.
    expect(policy.qualifies({ platform: 'discord', workspace: 'G', user: 'UANN' })).toEqual({
      approver: false,
    });
  });

  it('resolves required counts most specific first: connection class, class, connection, global', () => {
    expect(policy.requiredFor('shop', 'write')).toBe(1);
    expect(policy.requiredFor('shop', 'ddl')).toBe(2);
    expect(policy.requiredFor('warehouse', 'write')).toBe(3);
    expect(policy.requiredFor('warehouse', 'ddl')).toBe(2);
    expect(policy.requiredFor('warehouse', 'other')).toBe(4);
    expect(policy.driftToleranceFor('shop')).toBe(0.1);
    expect(policy.driftToleranceFor('WAREHOUSE')).toBe(0);
    expect(policy.ttlMs).toBe(86_400_000);
  });

  it('never lets the requester approve, even when listed or in a listed group; anyone else needs to be listed', () => {
    const request = { requester: 'slack:T1:UANN' };
    expect(judgeDecider(policy, request, slack('UANN'), 'approve')).toMatchObject({
      allowed: false,
      reason: 'own_request',
    });
    const groupRequest = { requester: 'slack:T1:UBOB' };
    expect(judgeDecider(policy, groupRequest, slack('UBOB', ['SDBAS']), 'approve')).toMatchObject({
      allowed: false,
      reason: 'own_request',
    });
    expect(judgeDecider(policy, request, slack('UEVE'), 'approve')).toMatchObject({
      allowed: false,
      reason: 'not_approver',
      message: 'Only an approver can decide this.',
    });
    expect(judgeDecider(policy, request, slack('UEVE'), 'reject')).toMatchObject({ allowed: false });
    expect(judgeDecider(policy, groupRequest, slack('UANN'), 'approve')).toEqual({
      allowed: true,
      via: 'user',
    });
    // Withdrawing one's own request is allowed: stopping a change needs no second pair of eyes.
    expect(judgeDecider(policy, groupRequest, slack('UBOB'), 'reject')).toEqual({
      allowed: true,
      via: 'requester',
    });
  });
});
