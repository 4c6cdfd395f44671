import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suggestPrompts } from '../../core/conversation/suggest-prompts.ts';
import { sqliteDialect } from '../../core/db/sqlite/sqlite-dialect.ts';
import { createSampleDatabase } from '../../core/sample/sample-database.ts';

describe('suggestPrompts', () => {
  it('draws questions from a real schema: a time series, a top-N over a foreign key, a breakdown, the ERD', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'threadql-prompts-')), 'shop.db');
    createSampleDatabase(path, new Date('2026-06-01T00:00:00Z'));
    const driver = await sqliteDialect.createDriver(path);
    try {
      const prompts = suggestPrompts(await driver.introspect());
      expect(prompts).toHaveLength(4);
      expect(prompts.map((p) => p.message)).toEqual([
        'How many orders per month over the last year (by ordered at)?',
        'Top 10 customers by total cents in orders',
        'How many orders are there per status?',
        'schema orders',
      ]);
      for (const p of prompts) expect(p.title.length).toBeGreaterThan(0);
    } finally {
      await driver.close();
    }
  });

  it('falls back to generic prompts for an empty schema', () => {
    expect(suggestPrompts({ tables: [], relationships: [] })).toEqual([
      { title: 'What can I ask?', message: 'help' },
    ]);
  });
});
