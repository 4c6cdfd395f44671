/**
 * Migrations through the ApprovalRequest machinery on the real store, Redis and a SQLite target: requests bound to
 * the scripts, the policy's required count for class `migration`, exactly one execution for concurrent approvals,
 * an edit after the request voiding it, expiry, and roll back requested only for the newest applied migration.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Types } from 'mongoose';
import { approvalsConfigSchema } from '../../config/approvals-config.ts';
import { ApprovalPolicy } from '../../core/approvals/approval-policy.ts';
import { decideApproval } from '../../core/approvals/decide-approval.ts';
import type { UserRef } from '../../core/conversation/chat-platform.ts';
import type { DatabaseDriver } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import {
  approvalStatement,
  executeMigrationApproval,
  requestMigrationApproval,
} from '../../core/migrations/migration-approvals.ts';
import type { MigrationContext } from '../../core/migrations/migration-context.ts';
import { redisMigrationLock } from '../../core/migrations/migration-lock.ts';
import { editMigration, proposeMigration } from '../../core/migrations/propose-migration.ts';
import { readSchemaHistory } from '../../core/migrations/schema-history.ts';
import { verifyMigration } from '../../core/migrations/verify-migration.ts';
import type { MigrationFields } from '../../models/migration.ts';
import { openModelStore, type ModelStore } from '../models/model-store.ts';
import { services } from '../support/services.ts';
import { shopDatabase, TEST_SETTINGS, type TestDatabase } from './migration-databases.ts';

const user = (id: string, displayName: string): UserRef => ({
  platform: 'slack',
  workspace: 'T1',
  user: id,
  displayName,
});
const alice = user('UALICE', 'Alice');
const bob = user('UBOB', 'Bob');
const carol = user('UCAROL', 'Carol');
const thread = { platform: 'slack' as const, workspace: 'T1', channel: 'C1', thread: '1.000' };

let store: ModelStore;
let redis: Redis;
let db: TestDatabase;
let driver: DatabaseDriver;
let ctx: MigrationContext;
let clock: Date;

beforeAll(async () => {
  store = await openModelStore('migration_approvals');
  redis = new Redis(services.redisUrl);
  db = await shopDatabase('sqlite', 'approvals');
  driver = await dialectFor('sqlite').createDriver(db.url);
  clock = new Date('2026-11-28T09:30:00Z');
  ctx = {
    models: store.models,
    target: { id: new Types.ObjectId(), name: 'shop', driver },
    settings: TEST_SETTINGS,
    lock: redisMigrationLock(redis, { prefix: `tq:test:appr:${randomBytes(4).toString('hex')}:` }),
    now: () => clock,
  };
});
afterAll(async () => {
  await driver.close();
  await db.drop();
  await store.close();
  redis.disconnect();
});

const policy = (migration = 1) =>
  new ApprovalPolicy(
    { slack: ['UBOB', 'UCAROL', 'UALICE'], discord: [], shell: [] },
    approvalsConfigSchema.parse({ classes: { migration } }),
  );

async function propose(name: string, up: string, down: string): Promise<MigrationFields> {
  const verification = await verifyMigration({
    target: driver,
    connection: 'shop',
    up,
    down,
    settings: TEST_SETTINGS,
    lock: ctx.lock,
    now: ctx.now,
  });
  return proposeMigration(ctx, {
    name,
    up,
    down,
    source: 'pasted',
    proposedBy: 'slack:T1:UALICE',
    proposedByName: 'Alice',
    thread,
    verification,
  });
}

const indexes = async () =>
  (await db.rows("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders'")).map((r) =>
    String(r.name),
  );

describe('migration approvals', () => {
  it('binds the request to both scripts and applies exactly once when two approvers approve at the same moment', async () => {
    const m = await propose(
      'status_index',
      'CREATE INDEX orders_status_idx ON orders (status)',
      'DROP INDEX orders_status_idx',
    );
    const approvals = { models: store.models, policy: policy() };
    const { request, created } = await requestMigrationApproval(ctx, approvals, {
      migrationId: m._id,
      requester: alice,
      thread,
      requestKey: 'k1',
    });
    expect(created).toBe(true);
    expect(request).toMatchObject({
      kind: 'migration',
      status: 'pending',
      approvalsRequired: 1,
      statement: approvalStatement(m, 'apply'),
    });
    expect(request.statement).toContain('DROP INDEX orders_status_idx');
    // A retried "Request approval" (same key) does not make a second request.
    expect(
      (
        await requestMigrationApproval(ctx, approvals, {
          migrationId: m._id,
          requester: alice,
          thread,
          requestKey: 'k1',
        })
      ).created,
    ).toBe(false);

    const own = await decideApproval(
      store.models,
      approvals.policy,
      { requestId: String(request._id), user: alice, decision: 'approve' },
      clock,
    );
    expect(own.kind).toBe('refused');
    const outcomes = await Promise.all(
      [bob, carol, bob, carol].map((u) =>
        decideApproval(
          store.models,
          approvals.policy,
          { requestId: String(request._id), user: u, decision: 'approve' },
          clock,
        ),
      ),
    );
    const winners = outcomes.filter((o) => o.kind === 'approved');
    expect(winners).toHaveLength(1);
    const executions = await Promise.all(
      winners.map((w) => executeMigrationApproval(ctx, store.models, w.request)),
    );
    expect(executions.map((e) => e.kind)).toEqual(['applied']);
    expect(await indexes()).toContain('orders_status_idx');
    const history = await readSchemaHistory(driver, 'sqlite', 10_000);
    expect(history.filter((r) => r.version === m.version)).toHaveLength(1);
    const settled = await store.models.ApprovalRequest.findById(request._id).lean();
    expect(settled?.status).toBe('executed');
    expect(settled?.resultSummary).toMatch(new RegExp(`^${m.version} applied in \\d+ ms$`));
  });

  it('needs two distinct approvers when the policy says so for migrations', async () => {
    clock = new Date('2026-11-28T10:00:00Z');
    const m = await propose(
      'total_index',
      'CREATE INDEX orders_total_idx ON orders (total)',
      'DROP INDEX orders_total_idx',
    );
    const approvals = { models: store.models, policy: policy(2) };
    const { request } = await requestMigrationApproval(ctx, approvals, {
      migrationId: m._id,
      requester: alice,
      thread,
      requestKey: 'k2',
    });
    expect(request.approvalsRequired).toBe(2);
    const decide = (u: UserRef) =>
      decideApproval(
        store.models,
        approvals.policy,
        { requestId: String(request._id), user: u, decision: 'approve' },
        clock,
      );
    expect((await decide(bob)).kind).toBe('recorded');
    expect((await decide(bob)).kind).toBe('recorded');
    expect(await indexes()).not.toContain('orders_total_idx');
    const last = await decide(carol);
    expect(last.kind).toBe('approved');
    expect((await executeMigrationApproval(ctx, store.models, last.request)).kind).toBe('applied');
    expect(await indexes()).toContain('orders_total_idx');
  });

  it('an approval can never run scripts edited after the request', async () => {
    clock = new Date('2026-11-28T11:00:00Z');
    const m = await propose(
      'note_column',
      'ALTER TABLE orders ADD COLUMN note TEXT',
      'ALTER TABLE orders DROP COLUMN note',
    );
    const approvals = { models: store.models, policy: policy() };
    const { request } = await requestMigrationApproval(ctx, approvals, {
      migrationId: m._id,
      requester: alice,
      thread,
      requestKey: 'k3',
    });
    const up = 'ALTER TABLE orders ADD COLUMN note2 TEXT';
    const down = 'ALTER TABLE orders DROP COLUMN note2';
    const verification = await verifyMigration({
      target: driver,
      connection: 'shop',
      up,
      down,
      settings: TEST_SETTINGS,
      lock: ctx.lock,
    });
    await editMigration(ctx, m._id, { up, down, actor: 'slack:T1:UALICE', verification });
    const outcome = await decideApproval(
      store.models,
      approvals.policy,
      { requestId: String(request._id), user: bob, decision: 'approve' },
      clock,
    );
    expect(outcome.kind).toBe('approved');
    const execution = await executeMigrationApproval(ctx, store.models, outcome.request);
    expect(execution.kind).toBe('failed');
    expect(execution.kind === 'failed' && execution.message).toMatch(/are not the ones that were approved/);
    const columns = (await driver.introspect()).tables
      .find((t) => t.name === 'orders')!
      .columns.map((c) => c.name);
    expect(columns).not.toContain('note');
    expect(columns).not.toContain('note2');
    expect((await store.models.ApprovalRequest.findById(request._id).lean())?.status).toBe('failed');
  });

  it('asks for a roll back only of the newest applied migration, naming the newer one', async () => {
    const applied = await store.models.Migration.find({ connection: ctx.target.id, status: 'applied' })
      .sort({ version: 1 })
      .lean<MigrationFields[]>();
    expect(applied).toHaveLength(2);
    const approvals = { models: store.models, policy: policy() };
    await expect(
      requestMigrationApproval(ctx, approvals, {
        migrationId: applied[0]!._id,
        requester: alice,
        thread,
        requestKey: 'k4',
      }),
    ).rejects.toThrow(`roll back ${applied[1]!.version} first`);
    const { request, action } = await requestMigrationApproval(ctx, approvals, {
      migrationId: applied[1]!._id,
      requester: alice,
      thread,
      requestKey: 'k5',
    });
    expect(action).toBe('rollback');
    expect(request.statement).toBe(approvalStatement(applied[1]!, 'rollback'));
    const outcome = await decideApproval(
      store.models,
      approvals.policy,
      { requestId: String(request._id), user: carol, decision: 'approve' },
      clock,
    );
    expect((await executeMigrationApproval(ctx, store.models, outcome.request)).kind).toBe('rolled_back');
    expect(await indexes()).not.toContain('orders_total_idx');
  });

  it('expires a request nobody decided, so it can no longer be approved', async () => {
    clock = new Date('2026-11-28T12:00:00Z');
    const m = await propose(
      'country_index',
      'CREATE INDEX orders_c_idx ON orders (customer_id, total)',
      'DROP INDEX orders_c_idx',
    );
    const approvals = { models: store.models, policy: policy() };
    const { request } = await requestMigrationApproval(ctx, approvals, {
      migrationId: m._id,
      requester: alice,
      thread,
      requestKey: 'k6',
    });
    const late = new Date(request.expiresAt.getTime() + 1000);
    const outcome = await decideApproval(
      store.models,
      approvals.policy,
      { requestId: String(request._id), user: bob, decision: 'approve' },
      late,
    );
    expect(outcome).toMatchObject({ kind: 'closed', status: 'expired' });
    expect(await indexes()).not.toContain('orders_c_idx');
  });
});
