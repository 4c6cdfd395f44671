import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MermaidBrowser } from '../../renderers/erd/mermaid-browser.ts';
import { renderErd } from '../../renderers/erd/render-erd.ts';
import { services } from '../support/services.ts';
import { syntheticSchema } from './fixtures/synthetic-schema.ts';
import { pngSize, pngStats } from './support/png-pixels.ts';
import { svgLabels } from './support/svg-labels.ts';

function chromium(): string {
  if (!services.chromiumPath)
    throw new Error('PUPPETEER_EXECUTABLE_PATH is not set: run the suite with scripts/test.sh');
  return services.chromiumPath;
}

const svgTexts = svgLabels;

type Column = { name: string; type: string; nullable: boolean; isPrimaryKey: boolean };

/** A PostgreSQL schema of these tables (name and columns), without relationships. */
function schemaOf(tables: { name: string; columns?: Column[]; primaryKey?: string[] }[]) {
  return {
    databaseType: 'postgres' as const,
    introspectedAt: new Date(0),
    catalogQueries: 1,
    tables: tables.map((t) => ({
      name: t.name,
      kind: 'table' as const,
      columns: t.columns ?? [],
      primaryKey: t.primaryKey ?? [],
      foreignKeys: [],
      indexes: [],
    })),
    relationships: [],
  };
}

const textColumn = (name: string): Column => ({ name, type: 'text', nullable: true, isPrimaryKey: false });

describe('MermaidBrowser and renderErd (real Chromium)', () => {
  let profiles: string;
  let browser: MermaidBrowser;

  beforeAll(async () => {
    profiles = await mkdtemp(join(tmpdir(), 'threadql-erd-test-'));
    browser = new MermaidBrowser({ executablePath: chromium(), tmpDir: profiles });
    await browser.start();
  });

  afterAll(async () => {
    await browser.close();
    await rm(profiles, { recursive: true, force: true });
  });

  it('draws a 10-table ERD fitted to a 4K viewer: every table name in the SVG, a real image in the PNG', async () => {
    const schema = syntheticSchema(10);
    const out = await renderErd(schema, { browser });
    expect(out.error).toBeUndefined();
    const image = out.image!;
    expect(pngSize(image.png)).toEqual({ width: image.width, height: image.height });
    // A chain of six tables is tall: more than 2,160 px at 2×, so it gets the density that fits a 4K screen.
    expect(image.scale).toBeGreaterThan(1);
    expect(image.scale).toBeLessThan(2);
    expect(image.height).toBeLessThanOrEqual(2160);
    const texts = svgTexts(image.svg);
    for (const t of schema.tables) expect(texts).toContain(t.name);
    expect(texts).toEqual(expect.arrayContaining(['PK', 'FK', 'UK', 'sales_accounts_id']));
    const stats = pngStats(image.png);
    expect(stats.inkShare).toBeGreaterThan(0.05);
    expect(stats.darkShare).toBeGreaterThan(0.005);
    expect(stats.colours).toBeGreaterThan(8);
    expect(out.mermaid.startsWith('erDiagram')).toBe(true);
  });

  it('keeps 60 tables readable: no max-width shrinking, scale ≥ 1, within the pixel cap', async () => {
    const schema = syntheticSchema(60);
    const out = await renderErd(schema, { browser });
    const image = out.image!;
    expect(image.scale).toBeGreaterThanOrEqual(1);
    expect(image.width * image.height).toBeLessThanOrEqual(36_000_000);
    expect(Math.max(image.width, image.height)).toBeLessThanOrEqual(16_000);
    // Entity boxes keep their natural size: a 60-table diagram is far wider than a thumbnail.
    expect(image.width / image.scale).toBeGreaterThan(2000);
    expect(image.svg).not.toMatch(/max-width:\s*100%/);
    const texts = svgTexts(image.svg);
    for (const t of schema.tables) expect(texts).toContain(t.name);
  });

  it('draws small diagrams at 2× and large ones at what fits the viewer, never below 1×', async () => {
    const ownProfiles = await mkdtemp(join(tmpdir(), 'threadql-erd-viewer-'));
    try {
      // 3 tables fit a 4K screen at 2×; 10 tables are ~740 × 1,600 SVG pixels, so a 3,000-pixel square
      // viewer takes them at ~1.9× and a 500-pixel one would need less than 1×.
      for (const [tables, viewer, lowest, highest] of [
        [3, undefined, 2, 2],
        [10, { width: 3000, height: 3000 }, 1.5, 1.99],
        [10, { width: 500, height: 500 }, 1, 1],
      ] as const) {
        const own = new MermaidBrowser({
          executablePath: chromium(),
          tmpDir: ownProfiles,
          ...(viewer ? { viewer } : {}),
        });
        try {
          const image = (await renderErd(syntheticSchema(tables), { browser: own })).image!;
          expect(image.scale).toBeGreaterThanOrEqual(lowest);
          expect(image.scale).toBeLessThanOrEqual(highest);
          if (viewer && image.scale > 1) expect(image.height).toBeLessThanOrEqual(viewer.height);
          expect(pngSize(image.png)).toEqual({ width: image.width, height: image.height });
        } finally {
          await own.close();
        }
      }
    } finally {
      await rm(ownProfiles, { recursive: true, force: true });
    }
  });

  it('draws the neighbourhood of a table only', async () => {
    const schema = syntheticSchema(30);
    const out = await renderErd(schema, { browser, tables: ['billing_invoices'], depth: 1 });
    expect(out.tables).toEqual([
      'sales_invoices',
      'billing_line_items',
      'billing_invoices',
      'billing_events',
      'catalog_invoices',
    ]);
    const texts = svgTexts(out.image!.svg);
    for (const t of out.tables) expect(texts).toContain(t);
    expect(texts).not.toContain('sales_accounts');
  });

  it('shows odd identifiers under their real names, also with characters XML has no room for', async () => {
    const out = await renderErd(
      schemaOf([
        {
          name: 'order items',
          columns: [
            { name: 'id', type: 'integer', nullable: false, isPrimaryKey: true },
            textColumn('{brace}'),
          ],
          primaryKey: ['id'],
        },
        { name: 'Kunden & Co' },
        // The page writes a no-break space as &nbsp; (not XML) and keeps a control character as it is.
        { name: 'Bestell\u00a0posten', columns: [textColumn('bell\u0007col')] },
      ]),
      { browser },
    );
    expect(out.error).toBeUndefined();
    const texts = svgTexts(out.image!.svg);
    expect(texts).toEqual(
      expect.arrayContaining(['order items', 'Kunden &amp; Co', '{brace}', 'Bestell\u00a0posten', 'bellcol']),
    );
    expect(pngStats(out.image!.png).darkShare).toBeGreaterThan(0.005);
  });

  it('draws markup in identifiers as text: no element of the SVG comes from a name', async () => {
    const hostile = '<img src=x onerror=alert(1)><script>alert(2)</script>';
    const out = await renderErd(
      schemaOf([{ name: hostile, columns: [textColumn(`<a href="javascript:alert(3)">x</a>`)] }]),
      { browser },
    );
    expect(out.error).toBeUndefined();
    const svg = out.image!.svg;
    expect(svg).not.toMatch(/<(img|script|a|foreignObject)\b/i);
    const tags = svg.match(/<[a-z][^>]*>/gi) ?? [];
    expect(tags.filter((tag) => /\son[a-z]+\s*=|javascript:/i.test(tag))).toEqual([]);
    expect(svgLabels(svg).join(' ')).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('queues concurrent renders on the one page', async () => {
    const outs = await Promise.all([10, 6, 12].map((n) => renderErd(syntheticSchema(n), { browser })));
    outs.forEach((out, i) => {
      expect(out.error).toBeUndefined();
      expect(svgTexts(out.image!.svg)).toContain(out.tables.at(-1));
      expect(out.tables).toHaveLength([10, 6, 12][i]!);
    });
  });

  it('rejects text that is not mermaid with render_failed, and keeps working afterwards', async () => {
    await expect(browser.render('erDiagram\n  a ||--|| : broken {')).rejects.toMatchObject({
      code: 'render_failed',
    });
    const out = await renderErd(syntheticSchema(3), { browser });
    expect(out.error).toBeUndefined();
    expect(pngStats(out.image!.png).inkShare).toBeGreaterThan(0.02);
  });

  it('starts a fresh browser when the old one died', async () => {
    const ownProfiles = await mkdtemp(join(tmpdir(), 'threadql-erd-crash-'));
    const own = new MermaidBrowser({ executablePath: chromium(), tmpDir: ownProfiles });
    try {
      await own.render('erDiagram\n  a {\n    int id PK\n  }\n');
      // Kill the Chromium this renderer launched (found by its private user-data-dir) behind its back.
      const [profile] = readdirSync(ownProfiles);
      const pid = chromiumPid(join(ownProfiles, profile!));
      process.kill(pid, 'SIGKILL');
      while (own.started) await new Promise((r) => setTimeout(r, 20));
      const after = await own.render('erDiagram\n  b {\n    int id PK\n  }\n');
      expect(svgTexts(after.svg)).toContain('b');
      expect(readdirSync(ownProfiles)).toHaveLength(1);
    } finally {
      await own.close();
      expect(readdirSync(ownProfiles)).toEqual([]);
      await rm(ownProfiles, { recursive: true, force: true });
    }
  });
});

/** The pid of the Chromium main process started with this user-data-dir. */
function chromiumPid(userDataDir: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.includes(`--user-data-dir=${userDataDir}`) && !args.some((a) => a.startsWith('--type=')))
        return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  throw new Error(`no Chromium process for ${userDataDir}`);
}

describe('without a browser', () => {
  const schema = syntheticSchema(4);

  it('returns the mermaid text and a browser_unavailable error when none is configured', async () => {
    const out = await renderErd(schema);
    expect(out.image).toBeUndefined();
    expect(out.mermaid).toContain('sales_accounts {');
    expect(out.error).toMatchObject({ code: 'browser_unavailable' });
  });

  it('fails clearly, never crashes, when the Chromium path is wrong or missing', async () => {
    const profiles = await mkdtemp(join(tmpdir(), 'threadql-erd-missing-'));
    const missing = new MermaidBrowser({
      executablePath: '/nonexistent/chromium',
      tmpDir: profiles,
      launchTimeoutMs: 5000,
    });
    await expect(missing.start()).rejects.toMatchObject({ code: 'browser_unavailable' });
    const out = await renderErd(schema, { browser: missing });
    expect(out.error).toMatchObject({ code: 'browser_unavailable' });
    expect(out.error!.message).toMatch(/ER-diagram images need a browser/);
    expect(out.mermaid).toContain('erDiagram');
    await missing.close();
    // The throwaway profile folder is removed even when the launch failed.
    expect(readdirSync(profiles)).toEqual([]);
    await rm(profiles, { recursive: true, force: true });

    const unset = new MermaidBrowser({});
    await expect(unset.start()).rejects.toMatchObject({ code: 'browser_unavailable' });
    await unset.close();
    expect(existsSync(profiles)).toBe(false);
  });
});
