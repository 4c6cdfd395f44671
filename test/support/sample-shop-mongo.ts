import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MongoClient } from 'mongodb';
import { createSampleDatabase } from '../../core/sample/sample-database.ts';

/** The sample shop's tables copied into MongoDB; timestamps (`*_at` columns) become BSON dates. */
export const SAMPLE_SHOP_COLLECTIONS = ['customers', 'products', 'orders'] as const;

export interface SampleShopInMongo {
  /** The SQLite original, open read-only: expectations are computed from it with SQL. */
  sqlite: Database.Database;
  /** Documents inserted per collection. */
  counts: Record<string, number>;
  close(): Promise<void>;
}

/**
 * Generates the embedded sample shop (core/sample) and loads its rows into the MongoDB database at `uri` (one
 * private to the test), one collection per table, `_id` = the row id. The caller drops the database.
 */
export async function loadSampleShopIntoMongo(uri: string): Promise<SampleShopInMongo> {
  const dir = mkdtempSync(join(tmpdir(), 'threadql-shop-'));
  const path = join(dir, 'shop.sqlite');
  createSampleDatabase(path);
  const sqlite = new Database(path, { readonly: true });
  const client = new MongoClient(uri);
  const counts: Record<string, number> = {};
  try {
    const db = client.db();
    for (const table of SAMPLE_SHOP_COLLECTIONS) {
      const rows = sqlite.prepare(`SELECT * FROM ${table} ORDER BY id`).all() as Record<string, unknown>[];
      const docs = rows.map(({ id, ...rest }) => {
        const doc: Record<string, unknown> = { _id: id };
        for (const [key, value] of Object.entries(rest)) {
          doc[key] = key.endsWith('_at') && typeof value === 'string' ? new Date(value) : value;
        }
        return doc;
      });
      for (let i = 0; i < docs.length; i += 1000)
        await db.collection(table).insertMany(docs.slice(i, i + 1000));
      counts[table] = docs.length;
    }
  } finally {
    await client.close();
  }
  return {
    sqlite,
    counts,
    async close() {
      sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
