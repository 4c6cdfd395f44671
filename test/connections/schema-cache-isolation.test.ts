/**
 * Two threadql deployments on one Redis, each with a connection named `shop` on a different database: each sees
 * its own schema. (The Redis schema cache was keyed by connection name alone, so one served the other's tables.)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ShellHarness } from '../support/shell-harness.ts';

function sqliteWith(table: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'threadql-cache-')), 'shop.db');
  const db = new Database(path);
  db.exec(`CREATE TABLE ${table} (id INTEGER PRIMARY KEY, label TEXT)`);
  db.close();
  return path;
}

test('the schema cache is per deployment and database, not per connection name', async () => {
  const yaml = (path: string) => `connections:\n  - name: shop\n    type: sqlite\n    url: ${path}\n`;
  const first = await ShellHarness.start('cache-a', {}, yaml(sqliteWith('invoices')));
  const second = await ShellHarness.start('cache-b', {}, yaml(sqliteWith('shipments')));
  try {
    const a = await first.threadql.connections.schema('shop');
    const b = await second.threadql.connections.schema('shop');
    expect(a.tables.map((t) => t.name)).toEqual(['invoices']);
    expect(b.tables.map((t) => t.name)).toEqual(['shipments']);
    // Read again: now from the cache, still each its own.
    expect((await first.threadql.connections.schema('shop')).tables.map((t) => t.name)).toEqual(['invoices']);
  } finally {
    await first.close();
    await second.close();
  }
});
