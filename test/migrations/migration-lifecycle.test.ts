import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Types } from 'mongoose';
import type { DatabaseDriver } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { applyMigration } from '../../core/migrations/apply-migration.ts';
import { exportFlyway } from '../../core/migrations/flyway-export.ts';
import { listMigrations } from '../../core/migrations/list-migrations.ts';
import type { MigrationContext } from '../../core/migrations/migration-context.ts';
import { redisMigrationLock } from '../../core/migrations/migration-lock.ts';
import {
  assertApprovable,
  cancelMigration,
  editMigration,
  proposeMigration,
  reopenMigration,
} from '../../core/migrations/propose-migration.ts';
import { rollbackMigration } from '../../core/migrations/rollback-migration.ts';
import { readSchemaHistory } from '../../core/migrations/schema-history.ts';
import { verifyMigration } from '../../core/migrations/verify-migration.ts';
import type { MigrationFields } from '../../models/migration.ts';
import { openModelStore, type ModelStore } from '../models/model-store.ts';
import { services } from '../support/services.ts';
import { shopDatabase, TEST_SETTINGS, type SqlEngine, type TestDatabase } from './migration-databases.ts';

let store: ModelStore;
let redis: Redis;

beforeAll(async () => {
  store = await openModelStore('migration_lifecycle');
  redis = new Redis(services.redisUrl);
});

afterAll(async () => {
  await store.close();
  redis.disconnect();
});

const dropIndex = (type: SqlEngine, name: string) =>
  type === 'mysql' ? `DROP INDEX ${name} ON orders` : `DROP INDEX ${name}`;

describe.each(['postgres', 'mysql', 'sqlite'] as const)('migration lifecycle on %s', (type) => {
  let db: TestDatabase;
  let driver: DatabaseDriver;
  let ctx: MigrationContext;
  let clock: Date;
  const alice = `slack:T1:UALICE`;
  const bob = `slack:T1:UBOB`;

  beforeAll(async () => {
    db = await shopDatabase(type, `life_${type}`);
    driver = await dialectFor(type).createDriver(db.url);
    clock = new Date('2026-11-28T09:30:00Z');
    ctx = {
      models: store.models,
      target: { id: new Types.ObjectId(), name: `shop_${type}`, driver },
      settings: TEST_SETTINGS,
      lock: redisMigrationLock(redis, { prefix: `tq:test:life:${randomBytes(4).toString('hex')}:` }),
      now: () => clock,
    };
  });

  afterAll(async () => {
    await driver.close();
    await db.drop();
  });

  async function propose(name: string, up: string, down: string): Promise<MigrationFields> {
    const verification = await verifyMigration({
      target: driver,
      connection: ctx.target.name,
      up,
      down,
      settings: TEST_SETTINGS,
      lock: ctx.lock,
      now: ctx.now,
    });
    return proposeMigration(ctx, { name, up, down, source: 'pasted', proposedBy: alice, verification });
  }

  const approvedFor = (m: MigrationFields) => ({
    migrationId: m._id,
    actor: bob,
    approvedBy: [bob],
    approvedChecksum: m.checksum,
    approvedDownChecksum: m.downChecksum,
  });

  async function indexNames(): Promise<string[]> {
    const snapshot = await driver.introspect();
    return snapshot.tables.find((t) => t.name === 'orders')!.indexes.map((i) => i.name);
  }

  it('applies, records the schema history in the target, rolls back, and applies again', async () => {
    const m = await propose(
      'add_orders_total_index',
      'CREATE INDEX orders_total_idx ON orders (total);',
      `${dropIndex(type, 'orders_total_idx')};`,
    );
    expect(m).toMatchObject({
      version: '20261128093000_add_orders_total_index',
      name: 'add_orders_total_index',
      description: 'add orders total index',
      status: 'pending',
      proposedBy: alice,
      connectionName: `shop_${type}`,
    });
    expect(m.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(m.downChecksum).not.toBe(m.checksum);

    clock = new Date('2026-11-28T10:00:00Z');
    const applied = await applyMigration(ctx, approvedFor(m));
    expect(applied.outcome).toBe('applied');
    expect(applied.migration).toMatchObject({
      status: 'applied',
      appliedBy: bob,
      approvedBy: [bob],
      appliedAt: clock,
    });
    expect(await indexNames()).toContain('orders_total_idx');

    const history = await readSchemaHistory(driver, type, 10_000);
    expect(history).toEqual([
      {
        installedRank: 1,
        version: m.version,
        description: 'add orders total index',
        type: 'SQL',
        script: 'V20261128093000__add_orders_total_index.sql',
        checksum: m.checksum,
        downChecksum: m.downChecksum,
        installedBy: bob,
        installedOn: clock,
        executionTime: expect.any(Number),
        success: true,
      },
    ]);

    const definition = await store.models.SchemaDefinition.findOne({ connection: ctx.target.id }).lean();
    expect(definition?.status).toBe('synced');
    expect(definition?.tables.map((t) => t.name).sort()).toEqual(['customers', 'orders']);
    expect(definition?.tables.find((t) => t.name === 'orders')?.indexes.map((i) => i.name)).toContain(
      'orders_total_idx',
    );
    expect(definition?.mermaidDiagram).toMatch(/^erDiagram\n/);

    clock = new Date('2026-11-28T11:00:00Z');
    const rolled = await rollbackMigration(ctx, {
      migrationId: m._id,
      actor: bob,
      approvedDownChecksum: m.downChecksum,
    });
    expect(rolled.outcome).toBe('rolled_back');
    expect(rolled.migration).toMatchObject({ status: 'rolled_back', rolledBackBy: bob, rolledBackAt: clock });
    expect(await indexNames()).not.toContain('orders_total_idx');
    const afterRollback = await readSchemaHistory(driver, type, 10_000);
    expect(afterRollback.map((r) => [r.installedRank, r.type, r.version, r.script])).toEqual([
      [1, 'SQL', m.version, 'V20261128093000__add_orders_total_index.sql'],
      [2, 'UNDO_SQL', m.version, 'U20261128093000__add_orders_total_index.sql'],
    ]);
    const synced = await store.models.SchemaDefinition.findOne({ connection: ctx.target.id }).lean();
    expect(synced?.tables.find((t) => t.name === 'orders')?.indexes.map((i) => i.name)).not.toContain(
      'orders_total_idx',
    );

    await reopenMigration(ctx, m._id, alice);
    const again = await applyMigration(ctx, approvedFor(m));
    expect(again.outcome).toBe('applied');
    expect(await indexNames()).toContain('orders_total_idx');
    expect((await readSchemaHistory(driver, type, 10_000)).map((r) => r.type)).toEqual([
      'SQL',
      'UNDO_SQL',
      'SQL',
    ]);
    const listing = await listMigrations(ctx);
    expect(listing.drift).toEqual([]);
    expect(listing.outside).toEqual([]);
    expect(listing.migrations.map((x) => [x.version, x.status])).toEqual([[m.version, 'applied']]);
  });

  it('refuses a script changed after approval and one tampered with in the store', async () => {
    const m = await propose(
      'add_status_index',
      'CREATE INDEX orders_status_idx ON orders (status)',
      dropIndex(type, 'orders_status_idx'),
    );
    const edited = await editMigration(ctx, m._id, {
      up: 'CREATE INDEX orders_status_idx ON orders (status, total)',
      down: dropIndex(type, 'orders_status_idx'),
      actor: alice,
      verification: m.verification as never,
    });
    expect(edited.checksum).not.toBe(m.checksum);
    await expect(applyMigration(ctx, approvedFor(m))).rejects.toThrow(/changed after it was approved/);

    // Someone rewrites the script in the store behind threadql's back (no hooks, no checksum update).
    await store.models.Migration.collection.updateOne(
      { _id: m._id },
      { $set: { upScript: 'DROP TABLE orders' } },
    );
    await expect(applyMigration(ctx, approvedFor(edited))).rejects.toThrow(
      /does not match its checksum .*changed outside threadql, so it was not applied/,
    );
    expect(await db.rows('SELECT count(*) AS n FROM orders')).toHaveLength(1);
    expect((await store.models.Migration.findById(m._id).lean())?.status).toBe('pending');
    await store.models.Migration.collection.updateOne(
      { _id: m._id },
      { $set: { upScript: edited.upScript } },
    );
    await cancelMigration(ctx, m._id, alice);
  });

  it('rolls back newest first only, naming the newer migrations', async () => {
    clock = new Date('2026-11-28T12:00:00Z');
    const older = (await listMigrations(ctx)).migrations.find((x) => x.status === 'applied')!;
    const newer = await propose(
      'add_orders_note',
      'ALTER TABLE orders ADD COLUMN note varchar(100)',
      'ALTER TABLE orders DROP COLUMN note',
    );
    expect(newer.version > older.version).toBe(true);
    expect((await applyMigration(ctx, approvedFor(newer))).outcome).toBe('applied');
    await expect(
      rollbackMigration(ctx, {
        migrationId: older._id,
        actor: bob,
        approvedDownChecksum: older.downChecksum,
      }),
    ).rejects.toThrow(
      `Migration ${older.version} is not the newest applied migration of shop_${type}: roll back ${newer.version} first.`,
    );
    expect(await indexNames()).toContain('orders_total_idx');
    const rolled = await rollbackMigration(ctx, {
      migrationId: newer._id,
      actor: bob,
      approvedDownChecksum: newer.downChecksum,
    });
    expect(rolled.outcome).toBe('rolled_back');
    const columns = (await driver.introspect()).tables
      .find((t) => t.name === 'orders')!
      .columns.map((c) => c.name);
    expect(columns).not.toContain('note');
  });

  it('refuses to apply a migration that failed verification', async () => {
    clock = new Date('2026-11-28T12:30:00Z');
    const m = await propose(
      'bad_table',
      'ALTER TABLE orders ADD COLUMN flag integer;\nALTER TABLE no_such_table ADD COLUMN x integer',
      'ALTER TABLE orders DROP COLUMN flag',
    );
    if (type === 'mysql') {
      expect(m.verification).toMatchObject({ status: 'unverified' });
    } else {
      expect(m.verification?.problems[0]).toMatch(
        /^up fails: .*no_such_table.*\(statement 2: ALTER TABLE no_such_table/,
      );
      expect(() => assertApprovable(m)).toThrow(
        /failed verification, so approval cannot be requested: up fails: /,
      );
      await expect(applyMigration(ctx, approvedFor(m))).rejects.toThrow(/failed verification/);
    }
    await cancelMigration(ctx, m._id, alice);
  });

  it('marks a migration failed when the data changed since verification, and an edit puts it back to pending', async () => {
    clock = new Date('2026-11-28T13:00:00Z');
    const up =
      'ALTER TABLE orders ADD COLUMN flag integer;\nCREATE UNIQUE INDEX orders_total_key ON orders (total)';
    const down = `${dropIndex(type, 'orders_total_key')};\nALTER TABLE orders DROP COLUMN flag`;
    const m = await propose('unique_total', up, down);
    expect(m.verification?.status).toBe(type === 'mysql' ? 'unverified' : 'passed');
    expect(() => assertApprovable(m)).not.toThrow();
    // Between verification and approval someone adds an order with a total that already exists.
    await db.exec('INSERT INTO orders (customer_id, total) VALUES (2, 10)');
    const result = await applyMigration(ctx, approvedFor(m));
    expect(result.outcome).toBe('failed');
    expect(result.migration.status).toBe('failed');
    expect(result.migration.error).toMatch(
      /^Up failed: .*\(statement 2: CREATE UNIQUE INDEX orders_total_key ON orders \(total\)\)/,
    );
    const columns = (await driver.introspect()).tables
      .find((t) => t.name === 'orders')!
      .columns.map((c) => c.name);
    if (type === 'mysql') {
      // DDL commits as it runs on MariaDB: the first statement stayed, and the history says the apply failed.
      expect(result.migration.error).toMatch(/part-way/);
      expect(columns).toContain('flag');
      const history = await readSchemaHistory(driver, type, 10_000);
      expect(history.at(-1)).toMatchObject({ version: m.version, type: 'SQL', success: false });
      expect((await listMigrations(ctx)).drift).toContain(
        `threadql_schema_history row ${history.at(-1)!.installedRank} records a failed apply of ${m.version}: the database may be part-way`,
      );
      // What a DBA does after a part-way failure (Flyway's "repair"): undo by hand and drop the failed row.
      await db.exec('ALTER TABLE orders DROP COLUMN flag');
      await db.exec(`DELETE FROM threadql_schema_history WHERE success = 0`);
    } else {
      expect(result.migration.error).toMatch(/Nothing was changed\.$/);
      expect(columns).not.toContain('flag');
    }
    await db.exec('DELETE FROM orders WHERE customer_id = 2 AND total = 10');
    const fixed = await editMigration(ctx, m._id, {
      up,
      down,
      actor: alice,
      verification: m.verification as never,
    });
    expect(fixed).toMatchObject({ status: 'pending', error: null });
    await cancelMigration(ctx, m._id, alice);
  });

  it('reports drift between the store and threadql_schema_history, and schema changes made outside threadql', async () => {
    const before = await listMigrations(ctx);
    const applied = before.migrations.find((x) => x.status === 'applied')!;
    await db.exec(
      `INSERT INTO threadql_schema_history (installed_rank, version, description, type, script, checksum, down_checksum, installed_by, installed_on, execution_time, success)
       VALUES (999, '20300101000000_hand_made', 'made by hand', 'SQL', 'V20300101000000__hand_made.sql', '${'ab'.repeat(32)}', '${'cd'.repeat(32)}', 'dba', '2030-01-01 00:00:00', 1, ${type === 'postgres' ? 'true' : '1'})`,
    );
    await db.exec('CREATE TABLE audit_notes (id integer PRIMARY KEY, body varchar(100))');
    const listing = await listMigrations(ctx);
    expect(listing.drift).toContain(
      `threadql_schema_history row 999 (SQL 20300101000000_hand_made, checksum abababababab…) is a migration threadql does not know`,
    );
    expect(listing.outside).toEqual(['adds table audit_notes']);
    expect((await store.models.SchemaDefinition.findOne({ connection: ctx.target.id }).lean())?.status).toBe(
      'outdated',
    );
    await db.exec('DELETE FROM threadql_schema_history WHERE installed_rank = 999');
    // A migration marked applied that the database's history does not know.
    await db.exec(`DELETE FROM threadql_schema_history WHERE version = '${applied.version}'`);
    expect((await listMigrations(ctx)).drift).toEqual([
      `${applied.version} is marked applied in threadql, but threadql_schema_history does not have it applied`,
    ]);
  });

  it('exports Flyway V and U files', async () => {
    const { migrations } = await listMigrations(ctx);
    const files = exportFlyway(migrations);
    const applied = migrations.filter((m) => m.status === 'applied');
    expect(files.map((f) => f.name)).toEqual(
      applied.flatMap((m) => [
        `V${m.version.slice(0, 14)}__${m.name}.sql`,
        `U${m.version.slice(0, 14)}__${m.name}.sql`,
      ]),
    );
    expect(files[0]!.content).toContain('CREATE INDEX orders_total_idx ON orders (total);');
    expect(files[1]!.content).toContain(dropIndex(type, 'orders_total_idx'));
  });
});
