import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerRenderCommand, renderDemo } from '../../bot/commands/render.ts';
import { services } from '../support/services.ts';
import { pngStats } from './support/png-pixels.ts';

describe('threadql render --demo', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'threadql-render-demo-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes charts, a table and the ERD from the sample database, each a real image', async () => {
    if (!services.chromiumPath)
      throw new Error('PUPPETEER_EXECUTABLE_PATH is not set: run the suite with scripts/test.sh');
    const out = join(dir, 'with-browser');
    const lines: string[] = [];
    const files = await renderDemo({
      dir: out,
      databasePath: join(dir, 'shop.db'),
      chromiumPath: services.chromiumPath,
      log: (line) => lines.push(line),
    });
    const names = readdirSync(out).sort();
    expect(names).toEqual(
      expect.arrayContaining([
        'line-monthly-revenue.png',
        'line-monthly-revenue.vl.json',
        'bar-revenue-by-product.png',
        'heatmap-orders-by-weekday-hour.png',
        'big-number-revenue-last-12-months.png',
        'table-top-customers.png',
        'table-revenue-by-country.txt',
        'top-customers.csv',
        'erd-shop.png',
        'erd-shop.mmd',
      ]),
    );
    expect(files).toHaveLength(names.length);
    expect(lines.some((l) => l.includes('line-monthly-revenue.png  line'))).toBe(true);
    for (const name of names.filter((n) => n.endsWith('.png'))) {
      const stats = pngStats(readFileSync(join(out, name)));
      expect({ name, drawn: stats.inkShare > 0.01 && stats.darkShare > 0.001 }).toEqual({
        name,
        drawn: true,
      });
      expect(stats.width).toBeGreaterThan(500);
    }
    const spec = JSON.parse(readFileSync(join(out, 'line-monthly-revenue.vl.json'), 'utf8')) as {
      data: { values: unknown[] };
    };
    expect(spec.data.values.length).toBeGreaterThan(12);
    const mermaid = readFileSync(join(out, 'erd-shop.mmd'), 'utf8');
    for (const table of ['customers', 'orders', 'order_items', 'products', 'payments', 'support_tickets']) {
      expect(mermaid).toContain(`  ${table} {`);
    }
    expect(readFileSync(join(out, 'table-revenue-by-country.txt'), 'utf8')).toMatch(
      /^country +│ customers │/,
    );
  });

  it('still writes the mermaid text when no browser is available', async () => {
    const out = join(dir, 'no-browser');
    const lines: string[] = [];
    await renderDemo({ dir: out, databasePath: join(dir, 'shop.db'), log: (line) => lines.push(line) });
    expect(existsSync(join(out, 'erd-shop.mmd'))).toBe(true);
    expect(existsSync(join(out, 'erd-shop.png'))).toBe(false);
    expect(lines).toContain(
      'erd-shop.png: not drawn: ER-diagram images need a browser, and none is configured.\n' +
        'The diagram is included as mermaid text; paste it into any mermaid viewer.',
    );
  });

  it('registers as a commander subcommand that requires --demo', () => {
    const program = new Command('threadql').exitOverride();
    registerRenderCommand(program);
    const render = program.commands.find((c) => c.name() === 'render')!;
    expect(render.options.map((o) => o.long)).toEqual(['--demo', '--chromium', '--database']);
    render.exitOverride().configureOutput({ writeErr: () => undefined });
    expect(() => program.parse(['render'], { from: 'user' })).toThrow(/--demo/);
  });
});
