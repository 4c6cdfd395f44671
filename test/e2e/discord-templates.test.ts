/**
 * Templates and scheduled reports end to end in Discord: the real discord.js client against the loopback fake
 * (REST and gateway), a real threadql on the embedded sample database without an LLM. A template is saved from a
 * code block, run with a value, scheduled into a channel (a channel the bot may not post in is refused with the
 * permission to grant), and the report arrives there with its CSV; the tick goes through the real BullMQ queue.
 */
import type { JsonRecord, RestCall } from '../fakes/fake-discord.ts';
import { nextRunTimes } from '../../core/templates/run-times.ts';
import { DiscordHarness } from '../support/discord-harness.ts';

let h: DiscordHarness;
beforeAll(async () => {
  h = await DiscordHarness.start('discord-templates');
});
afterAll(async () => h?.close());

const SQL =
  'SELECT status, count(*) AS orders FROM orders WHERE shipping_country = :country GROUP BY status ORDER BY status';
const all = (message: JsonRecord) => JSON.stringify([message.content ?? '', message.embeds ?? []]);
const callText = (call: RestCall) => JSON.stringify([call.body?.content ?? '', call.body?.embeds ?? []]);

async function expectedRows(country: string): Promise<string[]> {
  const { driver } = await h.threadql.connections.resolveByName('sample');
  const result = await driver.executeRead(SQL.replace(':country', `'${country}'`), {
    timeoutMs: 10_000,
    maxRows: 100,
  });
  return result.rows.map((r) => `${String(r[0])} ${String(r[1])}`);
}

/** The rows of a result's code-block table, as `status count`. */
function tableRows(content: string): string[] {
  const table = content.match(/```\n([\s\S]*?)\n```/)?.[1] ?? '';
  return table
    .split('\n')
    .slice(2)
    .map((l) => l.replace(/[│|]/g, ' ').trim().split(/\s+/).join(' '))
    .filter(Boolean);
}

describe('templates in Discord', () => {
  it('saves a template from a code block after the save card', async () => {
    const thread = await h.mention(`template orders-by-status \`\`\`sql\n${SQL}\n\`\`\``);
    const [card] = h.botMessagesIn(thread);
    expect(all(card!)).toContain('Save as template **orders-by-status**');
    expect(all(card!)).toContain('country (text, required)');
    expect(Object.keys(h.buttonsOf(card!)).sort()).toEqual([
      'template_cancel',
      'template_edit',
      'template_save',
    ]);
    await h.click(card!.id as string, 'template_save', h.mallory);
    expect(all(h.message(card!.id as string))).not.toContain('Saved by');
    await h.click(card!.id as string, 'template_save');
    expect(all(h.message(card!.id as string))).toContain('Saved by alice');
  });

  it('runs it with country=DE: the card shows the value; Run returns the rows for DE', async () => {
    const thread = await h.mention('run orders-by-status country=DE');
    const [card] = h.botMessagesIn(thread);
    expect(all(card!)).toContain('Template **orders-by-status** with country=DE');
    expect(Object.keys(h.buttonsOf(card!)).sort()).toEqual(['cancel', 'run']);
    await h.click(card!.id as string, 'run');
    const result = h.botMessagesIn(thread).find((m) => String(m.content).includes('```'))!;
    expect(tableRows(String(result.content))).toEqual(await expectedRows('DE'));
  });

  it('refuses a channel the bot may not post in, naming the permission; schedules into one it may', async () => {
    const muted = h.fake.addChannel('announcements', [
      { id: h.fake.botRoleId, type: 0, allow: '0', deny: String(1 << 11) },
    ]);
    const refused = await h.mention(`schedule orders-by-status daily at 07:00 in <#${muted}> country=US`);
    expect(all(h.botMessagesIn(refused).at(-1)!)).toContain('I lack Send Messages there');

    const reports = h.fake.addChannel('reports');
    const thread = await h.mention(
      `schedule orders-by-status weekdays at 08:30 tz Europe/Berlin in <#${reports}> country=US`,
    );
    const answer = all(h.botMessagesIn(thread).at(-1)!);
    expect(answer).toContain(
      'Scheduled **orders-by-status** into #reports: weekdays (Mon–Fri) at 08:30 (Europe/Berlin)',
    );
    expect(answer).toMatch(/Next runs: \w{3} \d+ \w{3} \d{4}, 08:30 CES?T · /);
    const id = /Schedule id `([a-z0-9]{8})`/.exec(answer)![1]!;

    const [tick] = nextRunTimes('30 8 * * 1-5', 'Europe/Berlin', new Date(), 1);
    const scheduler = h.threadql.templates.scheduler;
    const done = new Promise<void>((resolve) =>
      scheduler.on('outcome', (o, sid) => (sid === id && o.tick === tick!.getTime() ? resolve() : undefined)),
    );
    await scheduler.enqueueTick(id, tick!);
    await done;
    const posts = h.fake.callsTo('POST', new RegExp(`^/channels/${reports}/messages$`));
    expect(posts).toHaveLength(1);
    expect(callText(posts[0]!)).toContain('orders-by-status');
    expect(callText(posts[0]!)).toContain('country=US');
    expect(tableRows(String(posts[0]!.body.content))).toEqual(await expectedRows('US'));
    // The CSV, and the chart this shape suits (status × count: a bar chart).
    expect(posts[0]!.files.map((f) => f.filename)).toEqual([
      expect.stringMatching(/^orders-by-status-.*\.csv$/),
      expect.stringMatching(/^orders-by-status-.*-chart\.png$/),
    ]);
    expect(posts[0]!.files[0]!.data.toString('utf8').split(/\r?\n/)[0]).toBe('status,orders');
  });
});
