import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionConfig } from '../../config/config-file.ts';
import { ConfiguredConnections } from '../../core/connections/connection-provider.ts';
import type { ThreadRef } from '../../core/conversation/chat-platform.ts';
import type { SchemaSnapshot } from '../../core/db/database-dialect.ts';
import { createSampleDatabase } from '../../core/sample/sample-database.ts';

const dir = mkdtempSync(join(tmpdir(), 'threadql-connections-'));
const shop = join(dir, 'shop.db');
createSampleDatabase(shop, new Date('2026-01-01T00:00:00Z'));

const base = { maskedColumns: [], default: false };
const configs: ConnectionConfig[] = [
  { ...base, name: 'shop', type: 'sqlite', url: shop, channels: ['*'], default: true },
  { ...base, name: 'finance', type: 'sqlite', url: shop, channels: ['C_FIN'] },
  { ...base, name: 'broken', type: 'sqlite', url: join(dir, 'missing', 'nope.db'), channels: ['C_FIN'] },
];
const thread = (channel: string): ThreadRef => ({
  platform: 'slack',
  workspace: 'T1',
  channel,
  thread: '1.0',
});

describe('ConfiguredConnections (channel binding, drivers, schema cache)', () => {
  const cached = new Map<string, SchemaSnapshot>();
  const statuses: string[] = [];
  const connections = new ConfiguredConnections(
    configs,
    { get: async (n) => cached.get(n), set: async (n, s) => void cached.set(n, s) },
    async (name, status) => void statuses.push(`${name}:${status}`),
  );
  afterAll(() => connections.close());

  it('lists only the connections a channel may use and picks the default', async () => {
    expect(connections.allowedFor(thread('C_GENERAL'))).toEqual(['shop']);
    expect(connections.allowedFor(thread('C_FIN'))).toEqual(['shop', 'finance', 'broken']);
    expect((await connections.resolve(thread('C_GENERAL'))).name).toBe('shop');
  });

  it('refuses a connection the channel is not bound to, naming the ones it may use', async () => {
    await expect(connections.resolve(thread('C_GENERAL'), 'finance')).rejects.toMatchObject({
      code: 'permission_denied',
      message: 'The connection "finance" may not be used in this channel.',
      hint: 'Connections allowed here: shop.',
    });
    expect((await connections.resolve(thread('C_FIN'), 'FINANCE')).name).toBe('finance');
    await expect(connections.resolve(thread('C_FIN'), 'nope')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('starts one driver per connection, reports status, and caches the schema', async () => {
    const a = await connections.resolveByName('shop');
    const b = await connections.resolveByName('shop');
    expect(a.driver).toBe(b.driver);
    expect(statuses).toContain('shop:connecting');
    expect(statuses).toContain('shop:connected');
    const schema = await connections.schema('shop');
    expect(schema.tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['customers', 'orders', 'order_items']),
    );
    expect(cached.get('shop')).toBe(schema);
  });

  it('reports a database that cannot be opened as an error status and a database_unavailable error', async () => {
    await expect(connections.resolveByName('broken')).rejects.toMatchObject({ code: 'database_unavailable' });
    expect(statuses).toContain('broken:error');
  });

  it('classifies with the connection dialect', async () => {
    expect((await connections.classify('shop', 'DELETE FROM orders')).verdict).toBe('write');
    expect((await connections.classify('shop', 'SELECT count(*) FROM orders')).verdict).toBe('read');
  });
});
