import { Types } from 'mongoose';
import { StateTransitionError, ThreadqlError } from '../../core/errors.ts';
import { approvalStatus, transitionApproval } from '../../models/approval-request.ts';
import { connectionStatus, transitionConnection } from '../../models/database-connection.ts';
import { migrationStatus, transitionMigration } from '../../models/migration.ts';
import {
  findOrCreateSession,
  sessionStatus,
  transitionSession,
  archiveIdleSessions,
} from '../../models/query-session.ts';
import { schemaStatus, transitionSchemaDefinition } from '../../models/schema-definition.ts';
import { canTransition, nextStates, transitionKey, type StateMachine } from '../../models/state-machine.ts';
import { openModelStore, type ModelStore } from './model-store.ts';

let store: ModelStore;
beforeAll(async () => {
  store = await openModelStore('models_transitions');
});
afterAll(async () => {
  await store.close();
});

const thread = { platform: 'slack' as const, workspace: 'T1', channel: 'C1', thread: '1.2' };

function legalPairs(machine: StateMachine<string>): string[] {
  return machine.states.flatMap((from) => nextStates(machine, from).map((to) => `${from}>${to}`));
}

describe('transition tables', () => {
  it('answer canTransition from the table', () => {
    expect(canTransition(approvalStatus, 'pending', 'approved')).toBe(true);
    expect(canTransition(approvalStatus, 'approved', 'pending')).toBe(false);
  });

  it('match DESIGN §3 exactly', () => {
    expect(legalPairs(connectionStatus)).toEqual([
      'disconnected>connecting',
      'connecting>connected',
      'connecting>error',
      'connected>disconnected',
      'connected>error',
      'error>connecting',
      'error>disconnected',
    ]);
    expect(legalPairs(migrationStatus)).toEqual([
      'pending>applied',
      'pending>failed',
      'pending>cancelled',
      'applied>rolled_back',
      'failed>pending',
      'failed>cancelled',
      'rolled_back>pending',
    ]);
    expect(legalPairs(approvalStatus)).toEqual([
      'pending>approved',
      'pending>rejected',
      'pending>expired',
      'pending>superseded',
      'approved>executed',
      'approved>failed',
    ]);
    expect(legalPairs(sessionStatus)).toEqual(['active>archived', 'archived>active']);
    expect(legalPairs(schemaStatus)).toEqual(['draft>synced', 'synced>outdated', 'outdated>synced']);
  });
});

async function newApproval() {
  return store.models.ApprovalRequest.create({
    kind: 'write',
    workspace: 'slack:T1',
    connection: new Types.ObjectId(),
    connectionName: 'shop',
    statement: 'UPDATE users SET active = false',
    sqlHash: 'c'.repeat(64),
    verdict: 'write',
    requester: 'slack:T1:U1',
    thread,
    expiresAt: new Date(Date.now() + 3600_000),
  });
}

describe('legal and illegal transitions', () => {
  it('walks a connection through its lifecycle and stamps lastConnectedAt', async () => {
    const { DatabaseConnection } = store.models;
    const c = await DatabaseConnection.create({
      workspace: 'slack:T1',
      name: 'life',
      databaseType: 'postgres',
    });
    const now = new Date('2025-03-01T10:00:00Z');
    await transitionConnection(store.models, c._id, 'connecting');
    const failed = await transitionConnection(store.models, c._id, 'error', {
      set: { lastError: 'timeout' },
    });
    expect(failed).toMatchObject({ status: 'error', lastError: 'timeout', statusRevision: 2 });
    await transitionConnection(store.models, c._id, 'connecting');
    const up = await transitionConnection(store.models, c._id, 'connected', { now });
    expect(up).toMatchObject({
      status: 'connected',
      lastConnectedAt: now,
      lastError: null,
      statusRevision: 4,
    });
    await expect(transitionConnection(store.models, c._id, 'connecting')).rejects.toThrow(
      'DatabaseConnection cannot go from "connected" to "connecting"; from "connected" it may go to disconnected | error',
    );
    const down = await transitionConnection(store.models, c._id, 'disconnected');
    expect(down.status).toBe('disconnected');
  });

  it('walks a migration: pending → failed → pending → applied → rolled_back → pending; refuses applied → pending', async () => {
    const { Migration } = store.models;
    const m = await Migration.create({
      schemaDefinition: new Types.ObjectId(),
      version: 'v1',
      description: 'd',
      upScript: 'CREATE TABLE a (id int)',
      downScript: 'DROP TABLE a',
    });
    await transitionMigration(store.models, m._id, 'failed', { set: { error: 'syntax error' } });
    await transitionMigration(store.models, m._id, 'pending');
    const applied = await transitionMigration(store.models, m._id, 'applied', {
      actor: 'slack:T1:U2',
      set: { approvedBy: ['slack:T1:U2'] },
    });
    expect(applied.appliedAt).toBeInstanceOf(Date);
    expect(applied.error).toBeNull();
    expect(applied.approvedBy).toEqual(['slack:T1:U2']);
    const err = await transitionMigration(store.models, m._id, 'pending').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateTransitionError);
    expect(err).toMatchObject({ code: 'illegal_transition', from: 'applied', to: 'pending' });
    const rolled = await transitionMigration(store.models, m._id, 'rolled_back');
    expect(rolled.rolledBackAt).toBeInstanceOf(Date);
    expect((await transitionMigration(store.models, m._id, 'pending')).status).toBe('pending');
    const log = await store.models.StateTransition.find({ entity: 'Migration', doc: String(m._id) })
      .sort({ revision: 1 })
      .lean();
    expect(log.map((e) => `${e.from}>${e.to}`)).toEqual([
      'pending>failed',
      'failed>pending',
      'pending>applied',
      'applied>rolled_back',
      'rolled_back>pending',
    ]);
    expect(log[2]!.actor).toBe('slack:T1:U2');
  });

  it('approval: executed and rejected are final', async () => {
    const a = await newApproval();
    await transitionApproval(store.models, a._id, 'approved');
    const done = await transitionApproval(store.models, a._id, 'executed', {
      set: { resultSummary: '412 rows' },
    });
    expect(done).toMatchObject({ status: 'executed', resultSummary: '412 rows' });
    expect(done.decidedAt).toBeInstanceOf(Date);
    expect(done.executedAt).toBeInstanceOf(Date);
    await expect(transitionApproval(store.models, a._id, 'failed')).rejects.toThrow(
      'ApprovalRequest cannot go from "executed" to "failed"; from "executed" it may go to nothing (final state)',
    );
    const b = await newApproval();
    await transitionApproval(store.models, b._id, 'rejected');
    await expect(transitionApproval(store.models, b._id, 'approved')).rejects.toBeInstanceOf(
      StateTransitionError,
    );
  });

  it('schema definitions: draft → synced → outdated → synced, never back to draft', async () => {
    const { SchemaDefinition } = store.models;
    const d = await SchemaDefinition.create({
      workspace: 'slack:T1',
      name: 'design',
      databaseType: 'postgres',
    });
    expect(d.status).toBe('draft');
    const synced = await transitionSchemaDefinition(store.models, d._id, 'synced');
    expect(synced.syncedAt).toBeInstanceOf(Date);
    await transitionSchemaDefinition(store.models, d._id, 'outdated');
    await transitionSchemaDefinition(store.models, d._id, 'synced');
    await expect(transitionSchemaDefinition(store.models, d._id, 'draft')).rejects.toBeInstanceOf(
      StateTransitionError,
    );
  });

  it('sessions: archived after 30 idle days, active again on activity', async () => {
    const { QuerySession } = store.models;
    const old = new Date('2025-01-01T00:00:00Z');
    const s = await findOrCreateSession(
      QuerySession,
      { ...thread, thread: 'idle' },
      { question: 'q', now: old },
    );
    const fresh = await findOrCreateSession(
      QuerySession,
      { ...thread, thread: 'fresh' },
      { question: 'q', now: new Date('2025-02-05T00:00:00Z') },
    );
    const archived = await archiveIdleSessions(store.models, { now: new Date('2025-02-10T00:00:00Z') });
    expect(archived).toBe(1);
    expect((await QuerySession.findById(s._id).lean())!.status).toBe('archived');
    expect((await QuerySession.findById(fresh._id).lean())!.status).toBe('active');
    const back = await transitionSession(store.models, s._id, 'active');
    expect(back).toMatchObject({ status: 'active', archivedAt: null });
  });

  it('an unknown target state or document is refused', async () => {
    const a = await newApproval();
    await expect(transitionApproval(store.models, a._id, 'done' as never)).rejects.toBeInstanceOf(
      StateTransitionError,
    );
    await expect(transitionApproval(store.models, new Types.ObjectId(), 'approved')).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('with `from`, a stale expectation is a conflict, an impossible one an illegal transition', async () => {
    const { DatabaseConnection } = store.models;
    const c = await DatabaseConnection.create({ workspace: 'slack:T1', name: 'cas', databaseType: 'mysql' });
    await transitionConnection(store.models, c._id, 'connecting');
    await transitionConnection(store.models, c._id, 'error');
    const stale = await transitionConnection(store.models, c._id, 'disconnected', {
      from: 'connected',
    }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ThreadqlError);
    expect(stale).toMatchObject({
      code: 'conflict',
      message: 'DatabaseConnection changed meanwhile: expected "connected", found "error"',
    });
    await expect(
      transitionConnection(store.models, c._id, 'connected', { from: 'connecting' }),
    ).rejects.toBeInstanceOf(StateTransitionError);
  });
});

describe('status is writable only through transition()', () => {
  it('refuses direct updates, saves of a changed status and documents created in a non-initial state', async () => {
    const { ApprovalRequest, DatabaseConnection } = store.models;
    const a = await newApproval();
    await expect(
      ApprovalRequest.updateOne({ _id: a._id }, { $set: { status: 'approved' } }),
    ).rejects.toMatchObject({ code: 'illegal_transition' });
    await expect(ApprovalRequest.updateMany({}, { status: 'expired' })).rejects.toMatchObject({
      code: 'illegal_transition',
    });
    await expect(
      ApprovalRequest.findOneAndUpdate({ _id: a._id }, { $inc: { statusRevision: 1 } }),
    ).rejects.toMatchObject({ code: 'illegal_transition' });
    a.status = 'approved';
    await expect(a.save()).rejects.toMatchObject({ code: 'illegal_transition' });
    await expect(
      DatabaseConnection.create({
        workspace: 'slack:T1',
        name: 'born-connected',
        databaseType: 'postgres',
        status: 'connected',
      }),
    ).rejects.toBeInstanceOf(StateTransitionError);
    expect((await ApprovalRequest.findById(a._id).lean())!.status).toBe('pending');
    // Other fields stay freely updatable.
    await ApprovalRequest.updateOne({ _id: a._id }, { $set: { cardMessageId: '1712.1' } });
    expect((await ApprovalRequest.findById(a._id).lean())!.cardMessageId).toBe('1712.1');
  });
});

describe('concurrent transitions', () => {
  it('a double-clicked Approve is processed once', async () => {
    for (let round = 0; round < 10; round++) {
      const a = await newApproval();
      const results = await Promise.allSettled([
        transitionApproval(store.models, a._id, 'approved', { actor: 'slack:T1:U2' }),
        transitionApproval(store.models, a._id, 'approved', { actor: 'slack:T1:U2' }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(loser.reason).toBeInstanceOf(StateTransitionError);
      expect(loser.reason).toMatchObject({ from: 'approved', to: 'approved' });
      expect(await store.models.StateTransition.countDocuments({ doc: String(a._id) })).toBe(1);
    }
  });

  it('approve racing reject (and expiry): exactly one decision wins and the document shows it', async () => {
    for (let round = 0; round < 10; round++) {
      const a = await newApproval();
      const targets = ['approved', 'rejected', 'expired', 'approved', 'rejected'] as const;
      const results = await Promise.allSettled(
        targets.map((to) => transitionApproval(store.models, a._id, to)),
      );
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [targets[i]] : []));
      expect(won).toHaveLength(1);
      for (const r of results)
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(StateTransitionError);
      expect((await store.models.ApprovalRequest.findById(a._id).lean())!.status).toBe(won[0]);
    }
  });

  it('eight workers connecting the same connection: one moves it, seven are refused', async () => {
    const c = await store.models.DatabaseConnection.create({
      workspace: 'slack:T1',
      name: 'busy',
      databaseType: 'postgres',
    });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => transitionConnection(store.models, c._id, 'connecting')),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('replays a claimed transition the document missed (winner crashed between claim and update)', async () => {
    const a = await newApproval();
    const at = new Date('2025-05-05T05:05:05Z');
    await store.models.StateTransition.create({
      _id: transitionKey('ApprovalRequest', a._id, 1),
      entity: 'ApprovalRequest',
      doc: String(a._id),
      revision: 1,
      from: 'pending',
      to: 'approved',
      at,
      actor: 'slack:T1:U3',
      set: { resultSummary: 'from the lost writer' },
    });
    // The document still says pending; a second approve must see the claim and be refused...
    await expect(transitionApproval(store.models, a._id, 'approved')).rejects.toMatchObject({
      from: 'approved',
    });
    // ...and executing proceeds from approved, repairing the document on the way.
    const done = await transitionApproval(store.models, a._id, 'executed');
    expect(done).toMatchObject({
      status: 'executed',
      statusRevision: 2,
      decidedAt: at,
      resultSummary: 'from the lost writer',
    });
  });
});
