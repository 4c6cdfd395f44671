import { Types } from 'mongoose';
import { scriptChecksum } from '../../models/migration.ts';
import { findOrCreateSession } from '../../models/query-session.ts';
import { listConnections, readSchemaCache, writeSchemaCache } from '../../models/database-connection.ts';
import { recordFeedback } from '../../models/feedback.ts';
import type { SchemaSnapshot } from '../../core/db/database-dialect.ts';
import { openModelStore, type ModelStore } from './model-store.ts';

let store: ModelStore;

/** Field → message of a document's validation failure (hooks included, unlike validateSync). */
async function validationErrors(doc: { validate(): Promise<void> }): Promise<Record<string, string>> {
  try {
    await doc.validate();
    return {};
  } catch (error) {
    const errors = (error as { errors?: Record<string, { message: string }> }).errors ?? {};
    return Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, v.message]));
  }
}
beforeAll(async () => {
  store = await openModelStore('models_validation');
});
afterAll(async () => {
  await store.close();
});

const thread = { platform: 'slack' as const, workspace: 'T1', channel: 'C1', thread: '1712345.000100' };

describe('DatabaseConnection', () => {
  it('refuses a duplicate name in the same workspace (case-insensitively) and allows it in another', async () => {
    const { DatabaseConnection } = store.models;
    await DatabaseConnection.create({ workspace: 'slack:T1', name: 'shop', databaseType: 'postgres' });
    await expect(
      DatabaseConnection.create({ workspace: 'slack:T1', name: 'Shop', databaseType: 'mysql' }),
    ).rejects.toMatchObject({ code: 11000 });
    const other = await DatabaseConnection.create({
      workspace: 'slack:T2',
      name: 'shop',
      databaseType: 'mysql',
    });
    expect(other.name).toBe('shop');
    expect(other.status).toBe('disconnected');
    expect(other.channels).toEqual(['*']);
  });

  it('validates type, name and masked columns', async () => {
    const { DatabaseConnection } = store.models;
    const bad = new DatabaseConnection({
      workspace: 'slack:T1',
      name: 'no spaces allowed',
      databaseType: 'oracle',
      maskedColumns: ['nodot'],
    });
    const error = bad.validateSync();
    expect(Object.keys(error?.errors ?? {}).sort()).toEqual(['databaseType', 'maskedColumns.0', 'name']);
  });

  it('lists a workspace’s connections plus the config-wide ones, without the schema cache blob', async () => {
    const { DatabaseConnection } = store.models;
    await DatabaseConnection.create({
      workspace: '*',
      name: 'warehouse',
      databaseType: 'postgres',
      source: 'config',
    });
    const mine = await DatabaseConnection.create({
      workspace: 'slack:T9',
      name: 'crm',
      databaseType: 'sqlite',
    });
    const snapshot: SchemaSnapshot = {
      databaseType: 'sqlite',
      tables: [
        { name: 'users', kind: 'table', columns: [], primaryKey: ['id'], foreignKeys: [], indexes: [] },
      ],
      relationships: [],
      introspectedAt: new Date('2025-01-01T00:00:00Z'),
      catalogQueries: 3,
    };
    const now = new Date('2025-01-01T00:10:00Z');
    await writeSchemaCache(DatabaseConnection, mine._id, snapshot, now);
    const list = await listConnections(DatabaseConnection, 'slack:T9');
    expect(list.map((c) => c.name)).toEqual(['crm', 'warehouse']);
    expect(list[0]).not.toHaveProperty('schemaCache');
    expect(list[0]!.schemaCacheUpdatedAt).toEqual(now);

    expect(await readSchemaCache(DatabaseConnection, mine._id, { now })).toEqual(snapshot);
    const later = new Date(now.getTime() + 61 * 60 * 1000);
    expect(await readSchemaCache(DatabaseConnection, mine._id, { now: later })).toBeUndefined();
    expect(await readSchemaCache(DatabaseConnection, mine._id, { now: later, ttlMs: 2 * 3600_000 })).toEqual(
      snapshot,
    );
  });
});

describe('QueryTemplate', () => {
  const base = {
    workspace: 'slack:T1',
    question: 'signups per week',
    description: 'Weekly signups by country',
    databaseType: 'postgres' as const,
    connectionName: 'shop',
  };

  it('is unique per workspace, not across workspaces', async () => {
    const { QueryTemplate } = store.models;
    await QueryTemplate.create({ ...base, name: 'weekly-signups', sql: 'SELECT 1' });
    await expect(
      QueryTemplate.create({ ...base, name: 'Weekly-Signups', sql: 'SELECT 2' }),
    ).rejects.toMatchObject({
      code: 11000,
    });
    await QueryTemplate.create({ ...base, workspace: 'discord:G1', name: 'weekly-signups', sql: 'SELECT 1' });
  });

  it('checks parameter definitions: types, duplicates, defaults that fit their type', async () => {
    const { QueryTemplate } = store.models;
    const bad = new QueryTemplate({
      ...base,
      name: 't1',
      sql: 'SELECT 1',
      parameters: [
        { name: 'since', type: 'date', default: 'last tuesday', required: false },
        { name: 'since', type: 'text' },
      ],
    });
    expect(await validationErrors(bad)).toEqual({
      parameters:
        'default of since: expected a date like 2026-01-31, got "last tuesday"; parameter "since" is defined twice',
    });
    const wrongType = new QueryTemplate({
      ...base,
      name: 't2',
      sql: 'SELECT 1',
      parameters: [{ name: 'n', type: 'string' }],
    });
    expect(Object.keys(wrongType.validateSync()?.errors ?? {})).toEqual(['parameters.0.type']);
    const ok = await QueryTemplate.create({
      ...base,
      name: 'signups-by-country',
      sql: 'SELECT 1 WHERE :since IS NOT NULL AND :country IS NOT NULL',
      parameters: [
        { name: 'since', type: 'date', default: '2024-01-01', required: false },
        { name: 'country', type: 'text', required: true },
      ],
      schedules: [
        {
          _id: 'k3x9p2ab',
          cron: '0 9 * * MON',
          timeZone: 'Europe/Berlin',
          target: { platform: 'slack', workspace: 'T1', channel: 'C9' },
        },
      ],
    });
    expect(ok.schedules[0]!.enabled).toBe(true);
    expect(ok.schedules[0]!._id).toBe('k3x9p2ab');
  });

  it('rejects a bad cron expression, time zone or schedule id', () => {
    const { QueryTemplate } = store.models;
    const doc = new QueryTemplate({
      ...base,
      name: 'bad-schedule',
      sql: 'SELECT 1',
      schedules: [
        {
          _id: 'NOT-OK',
          cron: 'every monday',
          timeZone: 'Mars/Olympus',
          target: { platform: 'slack', workspace: 'T1', channel: 'C9' },
        },
      ],
    });
    const errors = doc.validateSync()?.errors ?? {};
    expect(Object.keys(errors).sort()).toEqual([
      'schedules.0._id',
      'schedules.0.cron',
      'schedules.0.timeZone',
    ]);
  });
});

describe('Migration', () => {
  it('is unique by version per schema, computes and checks the SHA-256 of the up script', async () => {
    const { Migration } = store.models;
    const schemaDefinition = new Types.ObjectId();
    const up = 'CREATE INDEX orders_customer ON orders(customer_id)';
    const m = await Migration.create({
      schemaDefinition,
      version: '001',
      description: 'index',
      upScript: up,
      downScript: 'DROP INDEX orders_customer',
    });
    expect(m.checksum).toBe(scriptChecksum(up));
    await expect(
      Migration.create({
        schemaDefinition,
        version: '001',
        description: 'again',
        upScript: up,
        downScript: 'x',
      }),
    ).rejects.toMatchObject({ code: 11000 });
    await Migration.create({
      schemaDefinition: new Types.ObjectId(),
      version: '001',
      description: 'other schema',
      upScript: up,
      downScript: 'x',
    });
    const forged = new Migration({
      schemaDefinition,
      version: '002',
      description: 'd',
      upScript: up,
      downScript: ' ',
      checksum: 'a'.repeat(64),
    });
    expect(Object.keys(await validationErrors(forged)).sort()).toEqual(['checksum', 'downScript']);
    await expect(
      Migration.updateOne({ _id: m._id }, { $set: { upScript: 'DROP TABLE orders' } }),
    ).rejects.toThrow(/immutable/);
  });
});

describe('SchemaDefinition', () => {
  it('refuses duplicate tables and relationships to unknown tables', async () => {
    const { SchemaDefinition } = store.models;
    const table = (name: string) => ({
      name,
      kind: 'table',
      columns: [{ name: 'id', type: 'int', nullable: false, isPrimaryKey: true }],
      primaryKey: ['id'],
      foreignKeys: [],
      indexes: [],
    });
    const def = new SchemaDefinition({
      workspace: 'slack:T1',
      name: 'shop',
      databaseType: 'postgres',
      tables: [table('orders'), table('orders')],
      relationships: [
        {
          fromTable: 'orders',
          fromColumns: ['customer_id'],
          toTable: 'customers',
          toColumns: ['id'],
          cardinality: 'many-to-one',
        },
      ],
    });
    expect(await validationErrors(def)).toEqual({
      tables: 'table "orders" appears twice',
      relationships: 'relationship refers to unknown table "customers"',
    });
    def.tables.pop();
    def.tables.push(table('customers') as never);
    await def.validate();
  });
});

describe('QuerySession, User, Feedback, AuditEvent', () => {
  it('keys a session by its thread; concurrent first messages share one session', async () => {
    const { QuerySession } = store.models;
    const sessions = await Promise.all(
      Array.from({ length: 5 }, () =>
        findOrCreateSession(QuerySession, thread, {
          question:
            '  how many\ncustomers signed up each week this quarter, by country, for the growth dashboard please?',
        }),
      ),
    );
    expect(new Set(sessions.map((s) => s._id)).size).toBe(1);
    expect(sessions[0]!._id).toBe('slack:T1:C1:1712345.000100');
    expect(sessions[0]!.title).toBe(
      'how many customers signed up each week this quarter, by country, for the growth…',
    );
    expect(await QuerySession.countDocuments({ _id: sessions[0]!._id })).toBe(1);
    await expect(
      QuerySession.create({ _id: 'wrong', thread, workspace: 'slack:T1', title: 'x' }),
    ).rejects.toThrow(/thread key/);
  });

  it('validates user identities and roles', async () => {
    const { User } = store.models;
    const u = await User.create({
      _id: 'slack:T1:U1',
      displayName: 'Ada',
      linkedIdentities: ['discord:G1:42'],
    });
    expect(u.role).toBe('member');
    const bad = new User({ _id: 'U1', displayName: 'x', role: 'root' });
    expect(Object.keys(bad.validateSync()?.errors ?? {}).sort()).toEqual(['_id', 'role']);
  });

  it('keeps one vote per user and answer; changing it updates the same document', async () => {
    const { Feedback } = store.models;
    const entry = 'slack:T1:C1:1712345.000100:1';
    await recordFeedback(Feedback, {
      session: 'slack:T1:C1:1712345.000100',
      historyEntry: entry,
      user: 'slack:T1:U1',
      rating: 'up',
    });
    const changed = await recordFeedback(Feedback, {
      session: 'slack:T1:C1:1712345.000100',
      historyEntry: entry,
      user: 'slack:T1:U1',
      rating: 'down',
      correctedSql: 'SELECT 2',
    });
    expect(changed.rating).toBe('down');
    expect(await Feedback.countDocuments({ historyEntry: entry })).toBe(1);
  });

  it('audit events are append-only', async () => {
    const { AuditEvent } = store.models;
    const e = await AuditEvent.create({
      actor: 'slack:T1:U1',
      action: 'query.run',
      outcome: 'success',
      sqlHash: 'b'.repeat(64),
    });
    await expect(
      AuditEvent.updateOne({ _id: e._id }, { $set: { outcome: 'failure' } }),
    ).rejects.toMatchObject({ code: 'illegal_transition' });
    await expect(AuditEvent.findOneAndUpdate({ _id: e._id }, { actor: 'x' })).rejects.toMatchObject({
      code: 'illegal_transition',
    });
    await expect(
      AuditEvent.replaceOne({ _id: e._id }, { actor: 'x', action: 'a.b', outcome: 'success' }),
    ).rejects.toThrow(/immutable/);
    e.outcome = 'denied';
    await expect(e.save()).rejects.toThrow(/immutable/);
    expect((await AuditEvent.findById(e._id).lean())!.outcome).toBe('success');
    expect(
      new AuditEvent({ actor: 'x', action: 'Run', outcome: 'ok' }).validateSync()?.errors,
    ).toHaveProperty('action');
  });
});
