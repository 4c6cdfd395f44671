/** The guarded driver (breakers, shutdown signal, metrics) keeps every capability of the driver it wraps. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { guardDriver } from '../../core/connections/guarded-driver.ts';
import { createDriver } from '../../core/db/dialects.ts';

test('a schema session on a guarded SQLite driver sees its own change and rolls it back', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'threadql-guard-')), 'g.db');
  new Database(path).close();
  const driver = await createDriver('sqlite', path);
  const guarded = guardDriver(driver, { name: 'g' });
  try {
    expect(guarded.schemaSession).toBeDefined();
    const inside = await guarded.schemaSession!(
      { commit: false, timeoutMs: 5000, lockTimeoutMs: 1000 },
      async (s) => {
        await s.execute('CREATE TABLE added (id INTEGER PRIMARY KEY)');
        return (await s.introspect()).tables.map((t) => t.name);
      },
    );
    expect(inside).toEqual(['added']);
    expect((await guarded.introspect()).tables).toEqual([]);
  } finally {
    await guarded.close();
  }
});

test('a driver without schema sessions (MongoDB) stays without them when guarded', async () => {
  const driver = await createDriver('mongodb', 'mongodb://127.0.0.1:1/none');
  const guarded = guardDriver(driver, { name: 'm' });
  expect(guarded.schemaSession).toBeUndefined();
  await guarded.close();
});
