/**
 * Templates and scheduled reports end to end in Slack: the real Bolt app (HTTP) against the fake Web API, a real
 * threadql on the embedded sample database, Claude's parameter proposal from the fake Messages API. A query is run
 * and saved with a proposed parameter, run again with another value, scheduled into a channel, and the report
 * arrives there as a new message with its CSV; ticks are driven through the real BullMQ queue (no wall clock).
 */
import { FakeAnthropicServer, toolCallReply } from '../fakes/fake-anthropic-server.ts';
import type { RecordedCall } from '../fakes/fake-slack-api.ts';
import { nextRunTimes } from '../../core/templates/run-times.ts';
import { SlackHarness } from '../support/slack-harness.ts';

type Block = { type: string; elements?: Record<string, unknown>[] } & Record<string, unknown>;

const anthropic = new FakeAnthropicServer({ apiKey: 'sk-slack-templates' });
let h: SlackHarness;

beforeAll(async () => {
  const { url } = await anthropic.start();
  h = await SlackHarness.start('slack-templates', {
    env: { ANTHROPIC_API_KEY: 'sk-slack-templates', ANTHROPIC_BASE_URL: url },
    yaml: 'connections: []\nadmins:\n  slack: ["U0ADMIN"]\n',
  });
  h.fake.setUser('U0ALICE', { display_name: 'Alice' });
  h.fake.setChannel('C0REPORTS', { name: 'reports' });
  h.fake.setChannel('C0OUTSIDE', { name: 'outside', is_member: false });
});
afterAll(async () => {
  await h?.close();
  await anthropic.close();
});

const blocksOf = (call: RecordedCall): Block[] => (call.args.blocks as Block[] | undefined) ?? [];
const textOf = (call: RecordedCall): string => JSON.stringify(blocksOf(call));
function buttonsOf(call: RecordedCall): Record<string, string> {
  const buttons: Record<string, string> = {};
  for (const block of blocksOf(call)) {
    if (block.type !== 'actions') continue;
    for (const el of block.elements ?? []) buttons[String(el.action_id)] = String(el.value);
  }
  return buttons;
}

/** Sends `text` as a mention (new thread, or into `threadTs`); returns the thread and the bot's first answer. */
async function say(text: string, threadTs?: string) {
  const before = h.fake.callsOf('chat.postMessage').length;
  const mention = h.mention(text, threadTs ? { threadTs } : {});
  expect(await h.event(mention)).toBe(200);
  await h.settle();
  const thread = threadTs ?? String(mention.ts);
  const answer = h.postsIn(thread).find((c) => h.fake.callsOf('chat.postMessage').indexOf(c) >= before)!;
  expect(answer).toBeDefined();
  const ts = h.tsOf(answer);
  return { thread, answer, ts, last: h.updatesOf(ts).at(-1) ?? answer };
}

async function click(messageTs: string, threadTs: string, action: string, value: string, user = 'U0ALICE') {
  expect(await h.click({ messageTs, threadTs, actionId: `threadql:${action}`, value, user })).toBe(200);
  await h.settle();
}

/** Rows of a Slack table block in a result message (header first). */
function tableRows(call: RecordedCall): string[][] {
  const table = blocksOf(call).find((b) => b.type === 'table') as { rows: { text: string }[][] } | undefined;
  return (table?.rows ?? []).map((r) => r.map((c) => c.text));
}

async function expected(sql: string): Promise<string[][]> {
  const { driver } = await h.threadql.connections.resolveByName('sample');
  const result = await driver.executeRead(sql, { timeoutMs: 10_000, maxRows: 100 });
  return result.rows.map((r) => r.map((v) => String(v)));
}

const QUERY =
  "SELECT shipping_country, count(*) AS orders FROM orders WHERE status = 'delivered' GROUP BY shipping_country ORDER BY orders DESC, shipping_country";
let scheduleId = '';

describe('templates in Slack', () => {
  it('runs a query, saves it with the parameter Claude proposes, and confirms on the save card', async () => {
    const asked = await say(`\`\`\`sql\n${QUERY}\n\`\`\``);
    const run = buttonsOf(asked.last)['threadql:run']!;
    await click(asked.ts, asked.thread, 'run', run);
    expect(h.postsIn(asked.thread).some((c) => tableRows(c).length > 1)).toBe(true);

    anthropic.enqueue(
      toolCallReply('propose_parameters', {
        sql: QUERY.replace("'delivered'", ':status'),
        parameters: [{ name: 'status', type: 'text', literal: "'delivered'", description: 'order status' }],
      }),
    );
    const save = await say('save as orders-by-country', asked.thread);
    const card = h.updatesOf(save.ts).at(-1)!;
    expect(textOf(card)).toContain('Save as template *orders-by-country*');
    expect(textOf(card)).toContain('WHERE status = :status');
    expect(textOf(card)).toContain('status (text, default delivered)');
    // Claude saw the query it was asked about.
    expect(JSON.stringify(anthropic.requests.at(-1)!.body.messages)).toContain("status = 'delivered'");
    const buttons = buttonsOf(card);
    expect(Object.keys(buttons).sort()).toEqual(
      [
        'threadql:template_cancel',
        'threadql:template_edit',
        'threadql:template_save',
        'threadql:template_save_plain',
      ].sort(),
    );
    // Someone else cannot save it.
    await click(save.ts, save.thread, 'template_save', buttons['threadql:template_save']!, 'U0MALLORY');
    expect(String(h.ephemeralsIn(save.thread).at(-1)?.args.text)).toContain('Only the person saving');
    await click(save.ts, save.thread, 'template_save', buttons['threadql:template_save']!);
    const saved = h.updatesOf(save.ts).at(-1)!;
    expect(textOf(saved)).toContain('Saved by Alice');
    expect(textOf(saved)).toContain('run orders-by-country status=delivered');
    expect(buttonsOf(saved)).toEqual({});
    const stored = await h.threadql.templates.store.get(`slack:T0FAKE`, 'orders-by-country');
    expect(stored.parameters).toEqual([
      { name: 'status', type: 'text', default: 'delivered', required: false, description: 'order status' },
    ]);
    expect(stored.session).toBe(`slack:T0FAKE:${h.channel}:${asked.thread}`);
  });

  it('runs the template with key=value: the confirm card shows the values, Run returns the rows for that value', async () => {
    const asked = await say('run orders-by-country status=shipped');
    const card = asked.last;
    expect(textOf(card)).toContain('Template *orders-by-country* with status=shipped');
    expect(textOf(card)).toContain('WHERE status = :status');
    expect(Object.keys(buttonsOf(card)).sort()).toEqual(['threadql:cancel', 'threadql:run']);
    await click(asked.ts, asked.thread, 'run', buttonsOf(card)['threadql:run']!);
    const result = h.postsIn(asked.thread).find((c) => tableRows(c).length > 0)!;
    const rows = tableRows(result);
    expect(rows[0]).toEqual(['shipping_country', 'orders']);
    expect(rows.slice(1)).toEqual(await expected(QUERY.replace("'delivered'", "'shipped'")));
    expect(rows.slice(1)).not.toEqual(await expected(QUERY));
    expect(await h.threadql.templates.store.get('slack:T0FAKE', 'orders-by-country')).toMatchObject({
      usageCount: 1,
    });
  });

  it('an unknown parameter is refused in the thread, naming the parameters there are', async () => {
    const asked = await say('run orders-by-country colour=red');
    expect(textOf(asked.last)).toContain('colour: this template has no such parameter');
  });

  it('lists, searches and shows templates', async () => {
    expect(textOf((await say('templates country')).answer)).toContain('*orders-by-country*');
    const shown = await say('template orders-by-country');
    expect(textOf(shown.answer)).toContain('used 1 time');
    expect(textOf(shown.answer)).toContain('No schedules');
  });

  it('schedules into a channel (next three runs shown) and refuses a channel the bot is not in, with the fix', async () => {
    const outside = await say('schedule orders-by-country every monday at 09:00 in <#C0OUTSIDE|outside>');
    expect(textOf(outside.last)).toContain('I am not a member of #outside');
    expect(textOf(outside.last)).toContain('/invite @threadql');

    const asked = await say(
      'schedule orders-by-country “* * * * *” in <#C0REPORTS|reports> status=delivered',
    );
    const text = textOf(asked.answer);
    expect(text).toContain('Scheduled *orders-by-country* into #reports');
    expect(text).toContain('with status=delivered');
    expect((/Next runs: ([^\\]*)/.exec(text)?.[1] ?? '').split(' · ')).toHaveLength(3);
    scheduleId = /Schedule id `([a-z0-9]{8})`/.exec(text)![1]!;
    expect(h.fake.callsOf('conversations.info').map((c) => c.args.channel)).toContain('C0REPORTS');
  });

  it('the report arrives in the channel as a new message with its table and CSV, once per tick', async () => {
    const [tick] = nextRunTimes('* * * * *', 'UTC', new Date(), 1);
    const scheduler = h.threadql.templates.scheduler;
    const done = new Promise<void>((resolve) =>
      scheduler.on('outcome', (outcome, id) => {
        if (id === scheduleId && outcome.tick === tick!.getTime()) resolve();
      }),
    );
    // Two jobs for the same tick (as two replicas would queue): one report.
    await scheduler.enqueueTick(scheduleId, tick!);
    await h.threadql.templates.runner
      .run({ scheduleId, tick: tick!.getTime(), jobId: 'other-replica', attemptsMade: 0, maxAttempts: 1 })
      .catch(() => undefined);
    await done;
    const reports = h.fake.callsOf('chat.postMessage').filter((c) => c.args.channel === 'C0REPORTS');
    expect(reports).toHaveLength(1);
    const [report] = reports;
    expect(report!.args).not.toHaveProperty('thread_ts');
    expect(textOf(report!)).toContain('orders-by-country');
    expect(textOf(report!)).toContain('status=delivered');
    expect(tableRows(report!).slice(1)).toEqual(await expected(QUERY));
    const uploads = h.fake
      .callsOf('files.completeUploadExternal')
      .filter((c) => c.args.channel_id === 'C0REPORTS');
    expect(uploads).toHaveLength(1);
    expect(uploads[0]!.args).not.toHaveProperty('thread_ts');
    const csv = h.fake.uploads.find(
      (u) => u.filename.startsWith('orders-by-country') && u.filename.endsWith('.csv'),
    );
    expect(csv?.data.toString('utf8').split(/\r?\n/)[0]).toBe('shipping_country,orders');
  });

  it('lists schedules, pauses and resumes them (owner or admin only), and unschedules', async () => {
    expect(textOf((await say('schedules')).answer)).toContain(scheduleId);
    const mallory = h.mention(`pause ${scheduleId}`, { user: 'U0MALLORY' });
    await h.event(mallory);
    await h.settle();
    expect(textOf(h.postsIn(String(mallory.ts))[0]!)).toContain('Only its owner or an admin');
    expect(textOf((await say(`pause ${scheduleId}`)).answer)).toContain('Paused schedule');
    expect((await h.threadql.templates.scheduler.jobSchedulers()).map((j) => j.key)).not.toContain(
      `report-${scheduleId}`,
    );
    const admin = h.mention(`resume ${scheduleId}`, { user: 'U0ADMIN' });
    await h.event(admin);
    await h.settle();
    expect(textOf(h.postsIn(String(admin.ts))[0]!)).toContain('Resumed schedule');
    expect((await h.threadql.templates.scheduler.jobSchedulers()).map((j) => j.key)).toContain(
      `report-${scheduleId}`,
    );
    expect(textOf((await say(`unschedule ${scheduleId}`)).answer)).toContain('Removed schedule');
    expect((await h.threadql.templates.scheduler.jobSchedulers()).map((j) => j.key)).not.toContain(
      `report-${scheduleId}`,
    );
  });
});
