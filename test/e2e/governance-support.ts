/**
 * What the governance end-to-end tests share: the embedded sample database with a masked column configured, the
 * raw values that must never show, and the chart a masked result must be drawn as (rendered here from the masked
 * chart data, so a posted PNG can be compared byte for byte with it, and with the raw chart it must not be).
 */
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MaskedColumnConfig } from '../../config/config-file.ts';
import type { QueryResult } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { ResultMasker } from '../../core/governance/result-masker.ts';
import { ensureSampleDatabase } from '../../core/sample/sample-database.ts';
import { renderChart } from '../../renderers/chart/render-chart.ts';

export const MASKED_EMAIL: MaskedColumnConfig = { column: 'customers.email', mode: 'redact' };

/** A fresh copy of the sample shop database; its path goes into threadql.yml as a sqlite connection. */
export async function sampleDatabase(label: string): Promise<string> {
  return ensureSampleDatabase(join(mkdtempSync(join(tmpdir(), `threadql-${label}-db-`)), 'shop.db'));
}

/** Every customer email in the sample database: none of them may reach a thread, a file or the model. */
export function sampleEmails(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT email FROM customers').all() as { email: string }[]).map((r) => r.email);
  } finally {
    db.close();
  }
}

/** The raw values found in `text` (the test expects none). */
export function leaked(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((s) => text.includes(s));
}

/**
 * The chart PNG threadql must post for `query`: the masked result's chart data drawn with the title the run uses;
 * and the PNG the raw result would give, which it must not post.
 */
export async function expectedCharts(
  path: string,
  query: string,
  title: string,
  masked: MaskedColumnConfig[] = [MASKED_EMAIL],
): Promise<{ masked: Buffer; raw: Buffer }> {
  const driver = await dialectFor('sqlite').createDriver(path);
  try {
    const raw = await driver.executeRead(query, { timeoutMs: 10_000, maxRows: 5000 });
    const masker = new ResultMasker([{ name: 'shop', type: 'sqlite', maskedColumns: masked }], {
      // Redacted dimensions are numbered, not hashed: the key does not matter here.
      hashKey: 'governance-e2e-chart-key',
    });
    const shown = masker.mask(await masker.plan('shop', query, await driver.introspect()), raw);
    return { masked: await png(shown.chart, title), raw: await png(raw, title) };
  } finally {
    await driver.close();
  }
}

async function png(result: QueryResult, title: string): Promise<Buffer> {
  const chart = await renderChart(result, { title });
  if (chart.type === 'none') throw new Error('expected a chart for this result');
  return Buffer.from(chart.png);
}
