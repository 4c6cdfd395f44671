import { Types } from 'mongoose';
import { approvalsConfigSchema } from '../../config/approvals-config.ts';
import { ApprovalPolicy } from '../../core/approvals/approval-policy.ts';
import { createApprovalRequest } from '../../core/approvals/create-approval-request.ts';
import { decideApproval, type DecideOutcome } from '../../core/approvals/decide-approval.ts';
import { executeApprovedRequest, type ExecuteOutcome } from '../../core/approvals/execute-approved.ts';
import { expireDueApprovals } from '../../core/approvals/expire-approvals.ts';
import { pendingApprovalsFor } from '../../core/approvals/list-pending-approvals.ts';
import { supersedeApprovalRequest } from '../../core/approvals/supersede-approval.ts';
import type { ThreadRef, UserRef } from '../../core/conversation/chat-platform.ts';
import type { ApprovalRequestFields } from '../../models/approval-request.ts';
import type { DatabaseType } from '../../config/config-file.ts';
import { openModelStore, type ModelStore } from '../models/model-store.ts';
import { openTarget, type Target } from './approval-targets.ts';

const thread: ThreadRef = { platform: 'slack', workspace: 'T1', channel: 'C1', thread: '1700000000.000100' };
const person = (user: string, roles: string[] = []): UserRef => ({
  platform: 'slack',
  workspace: 'T1',
  user,
  roles,
  displayName: user.slice(1).toLowerCase(),
});
// The requester is listed as an approver AND belongs to the approver group SDBAS: neither lets them approve.
const REQUESTER = person('UREQ', ['SDBAS']);
const ANN = person('UANN');
const BOB = person('UBOB', ['SDBAS']);
const EVE = person('UEVE');
const APPROVERS = { slack: ['UANN', 'UREQ', 'SDBAS'], discord: [], shell: [] };
const limits = { timeoutMs: 10_000 };
const T0 = new Date('2031-03-01T09:00:00Z');
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);

const policyWith = (rules: object = {}): ApprovalPolicy =>
  new ApprovalPolicy(APPROVERS, approvalsConfigSchema.parse(rules));

let store: ModelStore;
beforeAll(async () => {
  store = await openModelStore('approvals_domain');
});
afterAll(async () => {
  await store.close();
});

async function requestFor(
  target: Target,
  statement: string,
  policy: ApprovalPolicy,
  requester: UserRef = REQUESTER,
  now: Date = T0,
): Promise<ApprovalRequestFields> {
  const dryRun = await target.driver.dryRun(statement, limits);
  const verdict = await target.driver.dialect.classify(statement);
  const { request } = await createApprovalRequest(
    store.models,
    policy,
    {
      thread,
      requester,
      connection: { id: new Types.ObjectId(), name: target.type },
      statement,
      verdict: verdict.verdict,
      dryRun,
    },
    now,
  );
  return request;
}

/** What a flow does on a click: decide, and execute when this click won the claim. */
async function click(
  target: Target,
  policy: ApprovalPolicy,
  request: ApprovalRequestFields,
  user: UserRef,
  now: Date = at(1),
): Promise<{ decided: DecideOutcome; executed?: ExecuteOutcome }> {
  const decided = await decideApproval(
    store.models,
    policy,
    { requestId: String(request._id), user, decision: 'approve' },
    now,
  );
  if (decided.kind !== 'approved') return { decided };
  const executed = await executeApprovedRequest(store.models, decided.request, target.driver, {
    ...limits,
    now: () => now,
  });
  return { decided, executed };
}

const status = async (request: ApprovalRequestFields) =>
  (await store.models.ApprovalRequest.findById(request._id).lean())!.status;

const DIALECTS: DatabaseType[] = ['postgres', 'mysql', 'sqlite', 'mongodb'];

describe.each(DIALECTS)('approvals on %s', (type) => {
  let target: Target;
  beforeAll(async () => {
    target = await openTarget(type);
  });
  afterAll(async () => {
    await target?.close();
  });
  beforeEach(async () => {
    await target.reset();
  });

  it('20 concurrent Approve clicks by two approvers change the data exactly once', async () => {
    const policy = policyWith();
    const request = await requestFor(target, target.bumpDormant, policy);
    expect(request.expectedRows).toBe(10);
    const clicks = Array.from({ length: 20 }, (_, i) => click(target, policy, request, i % 2 ? ANN : BOB));
    const results = await Promise.all(clicks);
    expect(results.filter((r) => r.decided.kind === 'approved')).toHaveLength(1);
    expect(results.filter((r) => r.executed?.kind === 'executed')).toHaveLength(1);
    expect(results.every((r) => ['approved', 'recorded', 'closed'].includes(r.decided.kind))).toBe(true);
    // Ten dormant accounts of 100 each, bumped once: 1010. Twice would be 1020.
    expect(await target.dormantBalance()).toBe(1010);
    expect(await status(request)).toBe('executed');
    expect(await store.models.ApprovalDecision.countDocuments({ request: request._id })).toBe(2);
    const executed = results.find((r) => r.executed)!.executed!;
    expect(executed.kind === 'executed' && executed.result.affectedRows).toBe(10);
    expect(executed.records.audit.map((a) => a.action)).toEqual(['approval.execute']);
  });

  it('with approvals.required 2, one person clicking many times is not enough; two distinct people are', async () => {
    const policy = policyWith({ required: 2 });
    const request = await requestFor(target, target.bumpDormant, policy);
    expect(request.approvalsRequired).toBe(2);
    const alone = await Promise.all(Array.from({ length: 5 }, () => click(target, policy, request, ANN)));
    expect(alone.map((r) => r.decided.kind)).toEqual(Array(5).fill('recorded'));
    expect(await target.dormantBalance()).toBe(1000);
    const both = await Promise.all(
      Array.from({ length: 20 }, (_, i) => click(target, policy, request, i % 2 ? ANN : BOB)),
    );
    expect(both.filter((r) => r.decided.kind === 'approved')).toHaveLength(1);
    expect(await target.dormantBalance()).toBe(1010);
    const approved = both.find((r) => r.decided.kind === 'approved')!.decided.request;
    expect([...approved.approvedBy].sort()).toEqual(['slack:T1:UANN', 'slack:T1:UBOB']);
  });

  it('aborts on drift: the data changed after the dry run, the database is left as it was', async () => {
    const policy = policyWith({ driftTolerance: '10%' });
    const request = await requestFor(target, target.deleteDormant, policy);
    expect(request.expectedRows).toBe(10);
    await target.makeDormant(5);
    const { decided, executed } = await click(target, policy, request, ANN);
    expect(decided.kind).toBe('approved');
    expect(executed).toMatchObject({ kind: 'failed', drift: true, code: 'write_drift' });
    expect(executed!.kind === 'failed' && executed!.message).toMatch(
      /would change 15 rows, but the dry run measured 10/,
    );
    expect(executed!.records.audit[0]).toMatchObject({ action: 'approval.drift_abort', outcome: 'failure' });
    expect(await target.accounts()).toBe(30);
    const stored = await store.models.ApprovalRequest.findById(request._id).lean();
    expect(stored).toMatchObject({ status: 'failed', errorCode: 'write_drift' });
    // A failed request cannot be approved again: a new request (with a new dry run) is needed.
    expect((await click(target, policy, request, BOB)).decided.kind).toBe('closed');
  });
});

describe('who may decide, edits, rejections and expiry (PostgreSQL)', () => {
  let target: Target;
  const policy = policyWith();
  beforeAll(async () => {
    target = await openTarget('postgres');
  });
  afterAll(async () => {
    await target?.close();
  });
  beforeEach(async () => {
    await target.reset();
  });

  it('refuses self-approval, also when the requester is listed and in an approver group, and audits it', async () => {
    const request = await requestFor(target, target.bumpDormant, policy, REQUESTER);
    const own = await click(target, policy, request, REQUESTER);
    expect(own.decided).toMatchObject({ kind: 'refused', reason: 'own_request' });
    expect(own.decided.records.audit).toEqual([
      expect.objectContaining({ action: 'approval.refused', outcome: 'denied', actorKey: 'slack:T1:UREQ' }),
    ]);
    // A requester who is an approver only through the group is refused the same way.
    const bobs = await requestFor(target, target.bumpDormant, policy, BOB);
    expect((await click(target, policy, bobs, BOB)).decided).toMatchObject({
      kind: 'refused',
      reason: 'own_request',
    });
    expect(await target.dormantBalance()).toBe(1000);
    expect(await status(request)).toBe('pending');
    expect(await store.models.ApprovalDecision.countDocuments({ request: request._id })).toBe(0);
  });

  it('refuses a stranger with "only an approver can decide this", approve or reject', async () => {
    const request = await requestFor(target, target.bumpDormant, policy);
    const approve = await click(target, policy, request, EVE);
    expect(approve.decided).toMatchObject({ kind: 'refused', message: 'Only an approver can decide this.' });
    const reject = await decideApproval(
      store.models,
      policy,
      { requestId: String(request._id), user: EVE, decision: 'reject' },
      at(1),
    );
    expect(reject.kind).toBe('refused');
    expect(await status(request)).toBe('pending');
    expect(await target.dormantBalance()).toBe(1000);
  });

  it('rejects with a reason; a rejected request can no longer be approved', async () => {
    const request = await requestFor(target, target.deleteDormant, policy);
    const rejected = await decideApproval(
      store.models,
      policy,
      { requestId: String(request._id), user: ANN, decision: 'reject', reason: 'not during the sale' },
      at(1),
    );
    expect(rejected).toMatchObject({ kind: 'rejected', message: 'Request rejected: not during the sale' });
    expect(rejected.request).toMatchObject({
      rejectedBy: 'slack:T1:UANN',
      rejectionReason: 'not during the sale',
    });
    expect(rejected.records.history).toEqual([
      expect.objectContaining({ type: 'approval', status: 'cancelled' }),
    ]);
    const late = await click(target, policy, request, BOB);
    expect(late.decided).toMatchObject({ kind: 'closed', status: 'rejected' });
    expect(await target.accounts()).toBe(30);
    // Ann cannot turn her reject into an approve either.
    expect((await click(target, policy, request, ANN)).decided.kind).toBe('closed');
  });

  it('lets the requester withdraw their own request', async () => {
    const request = await requestFor(target, target.deleteDormant, policy);
    const withdrawn = await decideApproval(
      store.models,
      policy,
      { requestId: String(request._id), user: REQUESTER, decision: 'reject' },
      at(1),
    );
    expect(withdrawn).toMatchObject({ kind: 'rejected', message: 'Request withdrawn by the requester.' });
  });

  it('an edit supersedes the request: its approval can never run the other statement', async () => {
    const request = await requestFor(target, target.deleteDormant, policy);
    const edited = `${target.bumpDormant} AND id <= 3`;
    const outcome = await supersedeApprovalRequest(
      store.models,
      policy,
      String(request._id),
      {
        requester: REQUESTER,
        statement: edited,
        verdict: 'write',
        dryRun: await target.driver.dryRun(edited, limits),
      },
      at(1),
    );
    expect(outcome.kind).toBe('superseded');
    if (outcome.kind !== 'superseded') return;
    expect(outcome.previous).toMatchObject({ status: 'superseded', supersededBy: outcome.request._id });
    expect(outcome.request).toMatchObject({ status: 'pending', supersedes: request._id, expectedRows: 3 });
    expect(outcome.request.sqlHash).not.toBe(request.sqlHash);
    expect(outcome.records.audit.map((a) => a.action)).toEqual(['approval.supersede', 'approval.request']);
    const old = await click(target, policy, request, ANN, at(2));
    expect(old.decided).toMatchObject({ kind: 'closed', status: 'superseded' });
    expect(await target.accounts()).toBe(30);
    const fresh = await click(target, policy, outcome.request, ANN, at(2));
    expect(fresh.executed?.kind).toBe('executed');
    expect(await target.dormantBalance()).toBe(1003);
    expect(await target.accounts()).toBe(30);
    // A stranger may not edit; a decided request cannot be edited.
    const stranger = await supersedeApprovalRequest(store.models, policy, String(outcome.request._id), {
      requester: EVE,
      statement: 'DELETE FROM x',
      verdict: 'write',
      dryRun: { performed: true, statements: [], durationMs: 0 },
    });
    expect(stranger.kind).toBe('refused');
    const closed = await supersedeApprovalRequest(store.models, policy, String(outcome.request._id), {
      requester: REQUESTER,
      statement: 'DELETE FROM x',
      verdict: 'write',
      dryRun: { performed: true, statements: [], durationMs: 0 },
    });
    expect(closed.kind).toBe('closed');
  });

  it('expires pending requests after the TTL, by a click or by the sweep, with an injected clock', async () => {
    const short = policyWith({ ttl: '1h' });
    const clicked = await requestFor(target, target.deleteDormant, short, REQUESTER, T0);
    const swept = await requestFor(target, target.deleteDormant, short, REQUESTER, T0);
    expect(clicked.expiresAt).toEqual(at(60));
    // 59 minutes in: nothing is due.
    expect(await expireDueApprovals(store.models, at(59))).toEqual([]);
    const late = await click(target, short, clicked, ANN, at(61));
    expect(late.decided).toMatchObject({
      kind: 'closed',
      status: 'expired',
      message: expect.stringMatching(/expired/),
    });
    expect(late.decided.records.audit[0]).toMatchObject({ action: 'approval.expire', actorKey: 'system' });
    const expired = await expireDueApprovals(store.models, at(61));
    expect(expired.map((e) => String(e.request._id))).toContain(String(swept._id));
    expect(expired.map((e) => String(e.request._id))).not.toContain(String(clicked._id));
    expect(await status(swept)).toBe('expired');
    expect((await click(target, short, swept, ANN, at(62))).decided.kind).toBe('closed');
    expect(await target.accounts()).toBe(30);
  });

  it('lists the pending requests a user may decide: not their own, not decided yet, approvers only', async () => {
    const mine = await requestFor(target, target.bumpDormant, policy, ANN);
    const theirs = await requestFor(target, target.bumpDormant, policy, REQUESTER);
    const decided = await requestFor(target, target.deleteDormant, policyWith({ required: 2 }), REQUESTER);
    await click(target, policyWith({ required: 2 }), decided, ANN);
    const list = await pendingApprovalsFor(store.models, policy, ANN, at(1));
    const ids = list.map((p) => String(p.request._id));
    expect(ids).toContain(String(theirs._id));
    expect(ids).not.toContain(String(mine._id));
    expect(ids).not.toContain(String(decided._id));
    const bobs = await pendingApprovalsFor(store.models, policy, BOB, at(1));
    expect(bobs.find((p) => String(p.request._id) === String(decided._id))).toMatchObject({ approvals: 1 });
    expect(await pendingApprovalsFor(store.models, policy, EVE, at(1))).toEqual([]);
    expect(await pendingApprovalsFor(store.models, policy, BOB, at(60 * 25))).toEqual([]);
  });

  it('creates one request per key, however often "Request approval" is retried', async () => {
    const dryRun = await target.driver.dryRun(target.bumpDormant, limits);
    const input = {
      thread,
      requester: REQUESTER,
      connection: { id: new Types.ObjectId(), name: 'postgres' },
      statement: target.bumpDormant,
      verdict: 'write' as const,
      dryRun,
      requestKey: `confirm-${new Types.ObjectId().toHexString()}`,
    };
    const results = await Promise.all(
      Array.from({ length: 5 }, () => createApprovalRequest(store.models, policy, input, T0)),
    );
    expect(new Set(results.map((r) => String(r.request._id))).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('refuses to request what cannot run as written, and never runs a statement whose hash changed', async () => {
    const batch = `BEGIN; ${target.deleteDormant}; COMMIT`;
    await expect(requestFor(target, batch, policy)).rejects.toMatchObject({
      code: 'validation_failed',
      message: expect.stringMatching(/controls the transaction/),
    });
    const request = await requestFor(target, target.bumpDormant, policy);
    // Someone with store access swaps the statement: the hash no longer matches, so it does not run.
    await store.models.ApprovalRequest.updateOne(
      { _id: request._id },
      { $set: { statement: target.deleteDormant } },
    );
    const { executed } = await click(target, policy, request, ANN);
    expect(executed).toMatchObject({ kind: 'failed', code: 'confirmation_invalid' });
    expect(await target.accounts()).toBe(30);
  });
});
