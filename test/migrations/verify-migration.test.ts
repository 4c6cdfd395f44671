import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { DatabaseDriver } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { redisMigrationLock, type MigrationLock } from '../../core/migrations/migration-lock.ts';
import { verifyMigration } from '../../core/migrations/verify-migration.ts';
import { services } from '../support/services.ts';
import {
  emptyDatabase,
  shopDatabase,
  TEST_SETTINGS,
  type SqlEngine,
  type TestDatabase,
} from './migration-databases.ts';

let redis: Redis;
let lock: MigrationLock;
const opened: { drivers: DatabaseDriver[]; databases: TestDatabase[] } = { drivers: [], databases: [] };

beforeAll(() => {
  redis = new Redis(services.redisUrl);
  lock = redisMigrationLock(redis, { prefix: `tq:test:lock:${randomBytes(4).toString('hex')}:` });
});

afterAll(async () => {
  await Promise.all(opened.drivers.map((d) => d.close()));
  await Promise.all(opened.databases.map((d) => d.drop()));
  redis.disconnect();
});

async function database(type: SqlEngine, label: string, shop = true): Promise<TestDatabase> {
  const db = shop ? await shopDatabase(type, label) : await emptyDatabase(type, label);
  opened.databases.push(db);
  return db;
}

async function driverFor(db: TestDatabase): Promise<DatabaseDriver> {
  const driver = await dialectFor(db.type).createDriver(db.url);
  opened.drivers.push(driver);
  return driver;
}

const dropIndex = (type: SqlEngine, name: string) =>
  type === 'mysql' ? `DROP INDEX ${name} ON orders` : `DROP INDEX ${name}`;

const GOOD = (type: SqlEngine) => ({
  up: 'CREATE INDEX orders_customer_id_idx ON orders (customer_id);',
  down: `${dropIndex(type, 'orders_customer_id_idx')};`,
});

const TOTAL = (type: SqlEngine) => ({
  up: 'CREATE INDEX orders_total_idx ON orders (total);',
  down: `${dropIndex(type, 'orders_total_idx')};`,
});

// Up creates two indexes; down drops only one of them.
const BAD = (type: SqlEngine) => ({
  up: 'CREATE INDEX orders_customer_id_idx ON orders (customer_id);\nCREATE INDEX orders_status_idx ON orders (status);',
  down: `${dropIndex(type, 'orders_status_idx')};`,
});

async function indexNames(db: TestDatabase): Promise<string[]> {
  const sql =
    db.type === 'postgres'
      ? "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'orders'"
      : db.type === 'mysql'
        ? "SELECT DISTINCT INDEX_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'orders'"
        : "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders'";
  return (await db.rows(sql)).map((r) => String(r.name)).sort();
}

describe.each(['postgres', 'sqlite'] as const)(
  'verification on %s inside a rolled-back transaction',
  (type) => {
    let db: TestDatabase;
    let driver: DatabaseDriver;
    beforeAll(async () => {
      db = await database(type, `verify_${type}`);
      driver = await driverFor(db);
    });

    it('passes a down that undoes its up, says what up does, and leaves the target untouched', async () => {
      const before = await indexNames(db);
      const now = new Date('2026-11-28T09:30:00Z');
      const outcome = await verifyMigration({
        target: driver,
        connection: 'shop',
        ...GOOD(type),
        settings: TEST_SETTINGS,
        lock,
        now: () => now,
      });
      expect(outcome).toMatchObject({
        status: 'passed',
        where: 'transaction',
        problems: [],
        upChanges: ['adds index orders_customer_id_idx on orders (customer_id)'],
        upClass: 'ddl (CREATE INDEX)',
        downClass: 'ddl (DROP INDEX)',
        checkedAt: now,
      });
      expect(
        outcome.before?.tables.find((t) => t.name === 'orders')?.indexes.map((i) => i.name),
      ).not.toContain('orders_customer_id_idx');
      expect(outcome.after?.tables.find((t) => t.name === 'orders')?.indexes.map((i) => i.name)).toContain(
        'orders_customer_id_idx',
      );
      expect(await indexNames(db)).toEqual(before);
      expect(await db.rows('SELECT count(*) AS n FROM orders')).toEqual([
        { n: type === 'postgres' ? '3' : 3 },
      ]);
    });

    it('fails a down that does not undo its up, naming what it leaves behind', async () => {
      const outcome = await verifyMigration({
        target: driver,
        connection: 'shop',
        ...BAD(type),
        settings: TEST_SETTINGS,
        lock,
      });
      expect(outcome.status).toBe('failed');
      expect(outcome.problems[0]).toMatch(
        /^up fails when run again after down: (PostgreSQL|SQLite): .*orders_customer_id_idx.* already exists/,
      );
      expect(outcome.problems).toContain('down leaves index orders_customer_id_idx behind');
      expect(await indexNames(db)).not.toContain('orders_customer_id_idx');
    });

    it('compares the schemas when every statement succeeds but down removes something up did not add', async () => {
      const outcome = await verifyMigration({
        target: driver,
        connection: 'shop',
        up: 'ALTER TABLE orders ADD COLUMN note text',
        down: 'ALTER TABLE orders DROP COLUMN note;\nALTER TABLE orders DROP COLUMN total',
        settings: TEST_SETTINGS,
        lock,
      });
      expect(outcome.status).toBe('failed');
      expect(outcome.upChanges).toEqual([`adds column orders.note (${type === 'sqlite' ? 'TEXT' : 'text'})`]);
      expect(outcome.problems).toEqual([
        'down removes column orders.total, which was there before up',
        'up run again after down ends without column orders.total, which the first run had',
      ]);
    });

    it('shows a data write as such and refuses transaction control', async () => {
      const write = await verifyMigration({
        target: driver,
        connection: 'shop',
        up: "UPDATE orders SET status = 'closed' WHERE total < 10",
        down: "UPDATE orders SET status = 'open' WHERE total < 10",
        settings: TEST_SETTINGS,
        lock,
      });
      expect(write.upClass).toBe('write (UPDATE)');
      expect(write.notes).toEqual(
        expect.arrayContaining([
          'up only changes data (UPDATE): it is a data write, not a schema change',
          'down only changes data (UPDATE): it is a data write, not a schema change',
        ]),
      );
      expect(await db.rows("SELECT count(*) AS n FROM orders WHERE status = 'closed'")).toEqual([
        { n: type === 'postgres' ? '0' : 0 },
      ]);
      const tx = await verifyMigration({
        target: driver,
        connection: 'shop',
        up: 'CREATE INDEX a_idx ON orders (total); COMMIT;',
        down: 'DROP INDEX a_idx',
        settings: TEST_SETTINGS,
        lock,
      });
      expect(tx.status).toBe('failed');
      expect(tx.problems).toEqual([
        'statement 2 of the up script is COMMIT: threadql runs each migration in its own transaction, so remove transaction control',
      ]);
      expect(await indexNames(db)).not.toContain('a_idx');
    });
  },
);

describe('verification on PostgreSQL waits for locks only as long as lock_timeout', () => {
  it('is inconclusive, not failed, when the table is locked', async () => {
    const db = await database('postgres', 'verify_locked');
    const driver = await driverFor(db);
    await db.exec('BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');
    try {
      const outcome = await verifyMigration({
        target: driver,
        connection: 'shop',
        ...GOOD('postgres'),
        settings: { ...TEST_SETTINGS, lockTimeoutMs: 200 },
        lock,
      });
      expect(outcome.status).toBe('unverified');
      expect(outcome.problems[0]).toMatch(
        /^could not verify: .*PostgreSQL: canceling statement due to lock timeout/,
      );
    } finally {
      await db.exec('ROLLBACK');
    }
  });
});

describe('MariaDB', () => {
  it('says plainly that it could not verify without a shadow database', async () => {
    const db = await database('mysql', 'verify_my');
    const outcome = await verifyMigration({
      target: await driverFor(db),
      connection: 'shop',
      ...GOOD('mysql'),
      settings: TEST_SETTINGS,
      lock,
    });
    expect(outcome.status).toBe('unverified');
    expect(outcome.where).toBe('none');
    expect(outcome.problems[0]).toMatch(
      /^could not verify: DDL commits implicitly on MySQL \/ MariaDB, .*`shadow:` in threadql.yml/,
    );
    expect(await indexNames(db)).toEqual(['PRIMARY', 'orders_customer_fk']);
  });
});

describe.each(['postgres', 'mysql', 'sqlite'] as const)('verification on a %s shadow database', (type) => {
  let target: TestDatabase;
  let shadow: TestDatabase;
  let targetDriver: DatabaseDriver;
  let shadowDriver: DatabaseDriver;
  beforeAll(async () => {
    target = await database(type, `vt_${type}`);
    shadow = await database(type, `vs_${type}`, false);
    targetDriver = await driverFor(target);
    shadowDriver = await driverFor(shadow);
  });

  it('rebuilds the target schema there, passes a good migration and never touches the target', async () => {
    const before = await indexNames(target);
    const outcome = await verifyMigration({
      target: targetDriver,
      shadow: shadowDriver,
      connection: 'shop',
      ...TOTAL(type),
      settings: TEST_SETTINGS,
      lock,
    });
    expect(outcome).toMatchObject({
      status: 'passed',
      where: 'shadow',
      upChanges: ['adds index orders_total_idx on orders (total)'],
    });
    expect(await indexNames(target)).toEqual(before);
    // The shadow holds the target's tables (and threadql's marker), without the target's rows.
    const shadowTables = await shadowDriver.introspect();
    expect(shadowTables.tables.map((t) => t.name).sort()).toEqual(['customers', 'orders', 'threadql_shadow']);
    expect(await shadow.rows('SELECT count(*) AS n FROM orders')).toEqual([
      { n: type === 'postgres' ? '0' : 0 },
    ]);
  });

  it('fails a bad migration there with the difference in words', async () => {
    const outcome = await verifyMigration({
      target: targetDriver,
      shadow: shadowDriver,
      connection: 'shop',
      ...BAD(type),
      settings: TEST_SETTINGS,
      lock,
    });
    expect(outcome.status).toBe('failed');
    expect(outcome.where).toBe('shadow');
    expect(outcome.problems).toContain('down leaves index orders_customer_id_idx behind');
    expect(await indexNames(target)).not.toContain('orders_customer_id_idx');
  });

  it('refuses to wipe a shadow that holds tables threadql did not create', async () => {
    const foreign = await database(type, `vf_${type}`);
    const outcome = await verifyMigration({
      target: targetDriver,
      shadow: await driverFor(foreign),
      connection: 'shop',
      ...GOOD(type),
      settings: TEST_SETTINGS,
      lock,
    });
    expect(outcome.status).toBe('unverified');
    expect(outcome.problems[0]).toMatch(
      /^could not verify: The shadow database of shop is not empty \(customers, orders\)/,
    );
    expect(await foreign.rows('SELECT count(*) AS n FROM orders')).toEqual([
      { n: type === 'postgres' ? '3' : 3 },
    ]);
  });
});

describe('a MariaDB shadow database', () => {
  it('catches what only a real run shows: an index a foreign key takes over cannot be dropped again', async () => {
    const target = await database('mysql', 'vfk_t');
    const shadow = await database('mysql', 'vfk_s', false);
    const outcome = await verifyMigration({
      target: await driverFor(target),
      shadow: await driverFor(shadow),
      connection: 'shop',
      ...GOOD('mysql'),
      settings: TEST_SETTINGS,
      lock,
    });
    expect(outcome.status).toBe('failed');
    expect(outcome.problems).toEqual([
      expect.stringMatching(/^down fails after up: MySQL: .*orders_customer_id_idx.*foreign key constraint/),
    ]);
    expect(await indexNames(target)).toEqual(['PRIMARY', 'orders_customer_fk']);
  });
});

describe('an unreachable shadow database', () => {
  it('leaves the migration unverified, saying why, rather than failing the proposal', async () => {
    const target = await database('postgres', 'vdead_t');
    const dead = await dialectFor('postgres').createDriver('postgres://nobody:x@127.0.0.1:1/none', {
      connectTimeoutMs: 2000,
    });
    opened.drivers.push(dead);
    const outcome = await verifyMigration({
      target: await driverFor(target),
      shadow: dead,
      connection: 'shop',
      ...GOOD('postgres'),
      settings: TEST_SETTINGS,
      lock,
    });
    expect(outcome.status).toBe('unverified');
    expect(outcome.problems[0]).toMatch(
      /^could not verify: The shadow database of shop cannot be reached \(PostgreSQL: /,
    );
    expect(outcome.problems[0]).not.toContain('nobody:x');
  });
});
