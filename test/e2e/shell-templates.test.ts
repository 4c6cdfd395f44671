/**
 * Templates and scheduled reports in the terminal: `template <name>` with an inline code block, the save card's
 * numbered choices, `run` with a typed value (and a wrong one), a channel whose binding does not allow the
 * connection, and a scheduled report printed as it fires with the channel's name. Real store, Redis and SQLite.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSampleDatabase } from '../../core/sample/sample-database.ts';
import { nextRunTimes } from '../../core/templates/run-times.ts';
import { ShellHarness } from '../support/shell-harness.ts';

let h: ShellHarness;
const shop = join(mkdtempSync(join(tmpdir(), 'tq-shell-templates-')), 'shop.db');

beforeAll(async () => {
  createSampleDatabase(shop);
  // The shop may be used in the terminal's own channel (tty) and in #finance, not in #random.
  h = await ShellHarness.start(
    'shell-templates',
    {},
    [
      'connections:',
      `  - {name: shop, type: sqlite, url: "${shop}", channels: [tty, finance], default: true}`,
      `  - {name: vault, type: sqlite, url: "${shop}", channels: [tty], access: {shell: [boss]}}`,
      '',
    ].join('\n'),
  );
});
afterAll(() => h?.close());

const SQL =
  'SELECT id, total_cents FROM orders WHERE total_cents >= :min_total ORDER BY total_cents DESC LIMIT 3';

describe('templates in the shell', () => {
  it('saves a template from a code block, parameter typed from its name, after the save card', async () => {
    h.send(`template big-orders \`\`\`${SQL}\`\`\``);
    await h.waitFor(
      /Save as template big-orders\?[\s\S]*min_total \(number, required\)[\s\S]*\[1\] Save {2}\[2\] Edit {2}\[3\] Cancel/,
    );
    h.send('1');
    await h.waitFor(/Saved by ana\. Run it with run big-orders min_total=10/);
  });

  it('runs it with a value; a value of the wrong type says what was expected', async () => {
    h.send('run big-orders min_total=lots');
    await h.waitFor(/min_total: expected a number like 42 or 3\.5, got "lots"/);
    h.send('run big-orders min_total=20000');
    await h.waitFor(/Template big-orders with min_total=20000[\s\S]*\[1\] Run {2}\[2\] Cancel/);
    h.send('1');
    const result = await h.waitFor(/\d+ rows?[\s\S]*?\[1\] 👍/);
    expect(result).toContain('total_cents');
  });

  it('refuses a channel whose binding does not allow the connection, and posts into one that does', async () => {
    h.send('schedule big-orders hourly in #random min_total=20000');
    await h.waitFor(
      /#random may not use the connection shop[\s\S]*Connections allowed in #random: none|No connection is bound to #random/,
    );
    h.send('schedule big-orders every 15 minutes in #finance min_total=20000');
    const confirmed = await h.waitFor(/Schedule id `?([a-z0-9]{8})`?/);
    expect(confirmed).toContain(
      'Scheduled big-orders into #finance: every 15 minutes (UTC) with min_total=20000',
    );
    expect((/Next runs: (.*)/.exec(confirmed)?.[1] ?? '').split(' · ')).toHaveLength(3);
    const id = /Schedule id `?([a-z0-9]{8})/.exec(confirmed)![1]!;
    const [tick] = nextRunTimes('*/15 * * * *', 'UTC', new Date(), 1);
    await h.threadql.templates.scheduler.enqueueTick(id, tick!);
    const report = await h.waitFor(
      /threadql → #finance \(m\d+\)> 📊 big-orders · min_total=20000[\s\S]*?schedule [a-z0-9]{8} \(every 15 minutes\)/,
    );
    expect(report).toContain('total_cents');
    expect(report).toMatch(/📎 .*big-orders-.*\.csv/);
  });

  it('runs or schedules a template only for someone who may query its connection, and audits the refusal', async () => {
    h.send('as boss');
    await h.waitFor(/You are now acting as boss/);
    h.send('use vault');
    await h.waitFor(/This thread now uses vault\./);
    h.send('template vault-orders ```SELECT id FROM orders ORDER BY id LIMIT 2```');
    await h.waitFor(/Save as template vault-orders\?[\s\S]*\[1\] Save/);
    h.send('1');
    await h.waitFor(/Saved by boss\./);

    h.send('as ana');
    await h.waitFor(/You are now acting as ana/);
    h.send('run vault-orders');
    const refusal = await h.waitFor(/threadql \(only you\)> You may not query vault[^\n]*\n/);
    expect(refusal).toContain('vault');
    h.send('schedule vault-orders hourly in #finance');
    await h.waitFor(/threadql \(only you\)> You may not query vault[^\n]*\n/);
    const audit = h.threadql.store.models.AuditEvent!;
    let refused: { actor: string; detail: Record<string, unknown> }[] = [];
    for (let i = 0; i < 100 && refused.length < 2; i++) {
      refused = await audit.find({ action: 'access.refused', actor: 'shell:local:ana' }).lean();
      if (refused.length < 2) await new Promise((r) => setTimeout(r, 20));
    }
    expect(refused.map((r) => r.detail.connection)).toEqual(['vault', 'vault']);
    // No confirm card was offered to ana for the template.
    expect(h.output).not.toMatch(/Template vault-orders[^\n]*\n[\s\S]*\[1\] Run {2}\[2\] Cancel/);
  });
});
