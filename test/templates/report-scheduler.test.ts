/**
 * Scheduled reports on the real services: the tick runner (claim, run, report, bookkeeping), BullMQ job schedulers
 * on Redis with two replicas, catch-up after downtime, reconcile after a Redis flush, and failure → retry → pause.
 * Ticks are driven with an injected clock and BullMQ jobs (one test uses BullMQ's own per-second scheduling); no
 * assertion depends on the wall clock.
 */
import type { QueryTemplateFields } from '../../models/query-template.ts';
import { findOrCreateSession } from '../../models/query-session.ts';
import { scheduleRunKey } from '../../models/schedule-run.ts';
import { checkTemplate } from '../../core/templates/check-template.ts';
import type { ParameterDefinition, ParameterValue } from '../../core/templates/parameter-values.ts';
import type { ReportScheduler } from '../../core/templates/report-scheduler.ts';
import type { TickOutcome } from '../../core/templates/schedule-runner.ts';
import type { Actor } from '../../core/templates/template-store.ts';
import { TemplateHarness, type Delivery } from './template-harness.ts';

const WS = 'slack:T1';
const owner: Actor = { key: 'slack:T1:UOWNER', admin: false };
const T0 = new Date('2026-03-02T08:00:00Z'); // a Monday
let clock = T0;
let h: TemplateHarness;

beforeAll(async () => {
  h = await TemplateHarness.start('tpl-sched', {
    now: () => clock,
    maxFailures: 2,
    scheduler: { attempts: 2 },
  });
});
afterAll(async () => h?.close());

async function template(
  harness: TemplateHarness,
  name: string,
  sql: string,
  parameters: ParameterDefinition[] = [],
): Promise<QueryTemplateFields> {
  await checkTemplate({ databaseType: 'sqlite', sql, parameters }, (q) =>
    harness.connections.classify('shop', q),
  );
  const thread = { platform: 'slack' as const, workspace: 'T1', channel: 'CSAVE', thread: `${name}.1` };
  const session = await findOrCreateSession(harness.store.models.QuerySession, thread, { question: name });
  return harness.services.store.create(
    {
      workspace: WS,
      name,
      question: `${name}?`,
      sql,
      parameters,
      databaseType: 'sqlite',
      connectionName: 'shop',
      session: session._id,
    },
    owner,
  );
}

async function schedule(
  harness: TemplateHarness,
  t: QueryTemplateFields,
  cron: string,
  values: Record<string, ParameterValue> = {},
  channel = 'CREPORTS',
) {
  const view = await harness.services.store.addSchedule(
    t._id,
    {
      cron,
      timeZone: 'UTC',
      summary: cron,
      target: { platform: 'slack', workspace: 'T1', channel },
      channelName: 'reports',
      parameterValues: values,
    },
    owner,
  );
  return view.schedule;
}

/** Resolves with the next `count` outcomes of `scheduleId` (matching `match`) that any of the schedulers reports. */
function outcomes(
  schedulers: ReportScheduler[],
  scheduleId: string,
  count: number,
  match: (o: TickOutcome) => boolean = () => true,
): Promise<TickOutcome[]> {
  return new Promise<TickOutcome[]>((resolve, reject) => {
    const seen: TickOutcome[] = [];
    const stop = () => {
      clearTimeout(timer);
      for (const s of schedulers) s.off('outcome', on);
    };
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`saw ${seen.length} of ${count} outcomes: ${JSON.stringify(seen)}`));
    }, 30_000);
    const on = (o: TickOutcome, id: string) => {
      if (id !== scheduleId || !match(o)) return;
      seen.push(o);
      if (seen.length === count) {
        stop();
        resolve(seen);
      }
    };
    for (const s of schedulers) s.on('outcome', on);
  });
}

/** A harness of its own for one test (its own store, Redis prefix and clock), closed afterwards. */
async function withHarness(
  label: string,
  options: Parameters<typeof TemplateHarness.start>[1],
  work: (harness: TemplateHarness) => Promise<void>,
): Promise<void> {
  const harness = await TemplateHarness.start(label, options);
  try {
    await work(harness);
  } finally {
    await harness.close();
  }
}

const textOf = (d: Delivery) => d.reply.parts.map((p) => ('text' in p ? p.text : '')).join('\n');
const since = (n: number) => h.sink.deliveries.slice(n);

describe('the tick runner', () => {
  it('posts the report with values, table, CSV and a footer naming the tick, and records the run everywhere', async () => {
    clock = T0;
    const t = await template(
      h,
      'orders-by-status',
      'SELECT status, count(*) AS orders FROM orders WHERE shipping_country = :country GROUP BY status ORDER BY status',
      [{ name: 'country', type: 'text', default: 'US', required: false }],
    );
    const s = await schedule(h, t, '0 9 * * 1', { country: 'DE' });
    const tick = new Date('2026-03-09T09:00:00Z');
    clock = new Date(tick.getTime() + 2_000);
    const before = h.sink.deliveries.length;
    const outcome = await h.services.runner.run({
      scheduleId: s._id,
      tick: tick.getTime(),
      jobId: 'job-a',
      attemptsMade: 0,
      maxAttempts: 2,
    });
    expect(outcome).toMatchObject({ kind: 'posted', tick: tick.getTime(), late: false });

    const [report] = since(before);
    expect(report).toMatchObject({ kind: 'channel', to: 'slack:T1:CREPORTS' });
    const parts = report!.reply.parts;
    expect(textOf(report!)).toContain('📊 *orders-by-status* · country=DE');
    const table = parts.find((p) => p.type === 'table');
    expect(table?.type === 'table' && table.result.columns.map((c) => c.name)).toEqual(['status', 'orders']);
    const csv = parts.find((p) => p.type === 'file');
    expect(csv?.type === 'file' && csv.file.data.toString('utf8').split(/\r?\n/)[0]).toBe('status,orders');
    expect(textOf(report!)).toMatch(
      /shop · \d+ rows? · query \d+ ms · tick Mon 9 Mar 2026, 09:00 UTC · schedule [a-z0-9]{8} \(0 9 \* \* 1\)/,
    );

    const run = await h.store.models.ScheduleRun.findById(scheduleRunKey(s._id, tick)).lean();
    expect(run).toMatchObject({ status: 'success', claimedBy: 'job-a', late: false });
    expect(await h.store.models.ScheduleState.findById(s._id).lean()).toMatchObject({
      lastStatus: 'success',
      consecutiveFailures: 0,
    });
    const history = await h.store.models.QueryHistory.find({ session: t.session }).lean();
    expect(history.map((e) => e.executionStatus)).toEqual(['success']);
    expect(history[0]?.userInput).toContain('scheduled report orders-by-status');
    expect((await h.services.store.byId(t._id))?.usageCount).toBe(1);
    expect(
      await h.store.models.AuditEvent.countDocuments({ action: 'schedule.run', target: `Schedule:${s._id}` }),
    ).toBe(1);

    // The same tick again, from another job: claimed already, nothing posted.
    const again = await h.services.runner.run({
      scheduleId: s._id,
      tick: tick.getTime(),
      jobId: 'job-b',
      attemptsMade: 0,
      maxAttempts: 2,
    });
    expect(again).toEqual({ kind: 'duplicate', tick: tick.getTime() });
    expect(since(before)).toHaveLength(1);
  });

  it('classifies again at every run: a template that is no longer a read is not run, and its owner is told', async () => {
    clock = T0;
    const t = await template(h, 'turned-write', 'SELECT count(*) AS n FROM customers');
    const s = await schedule(h, t, '0 10 * * *');
    // The stored statement changed behind the scheduler's back (an edit, or a stricter classifier).
    await h.services.lock.with(String(t._id), () =>
      h.store.models.QueryTemplate.updateOne({ _id: t._id }, { $set: { sql: 'DELETE FROM customers' } }),
    );
    clock = new Date('2026-03-02T10:00:01Z');
    const before = h.sink.deliveries.length;
    const outcome = await h.services.runner.run({
      scheduleId: s._id,
      tick: Date.parse('2026-03-02T10:00:00Z'),
      jobId: 'j',
      attemptsMade: 0,
      maxAttempts: 2,
    });
    expect(outcome).toMatchObject({ kind: 'failed', paused: false });
    const told = since(before);
    expect(told.map((d) => d.kind)).toEqual(['direct']);
    expect(told[0]!.to).toBe(owner.key);
    expect(textOf(told[0]!)).toContain('classified as write');
    expect(
      (await h.store.models.ScheduleRun.findById(scheduleRunKey(s._id, outcome.tick)).lean())?.status,
    ).toBe('refused');
  });
});

describe('before each report', () => {
  it('a sensitive connection does not report into a public channel, and a channel the bot left is named', async () => {
    let now = new Date('2026-03-07T06:00:00Z');
    await withHarness('tpl-gov', { now: () => now, sensitive: true }, async (x) => {
      const t = await template(x, 'salaries', 'SELECT count(*) AS n FROM customers');
      const open = await schedule(x, t, '0 9 * * *', {}, 'CPUBLIC');
      const left = await schedule(x, t, '0 10 * * *', {}, 'CLEFT');
      x.sink.channels.set('CPUBLIC', { canPost: true, audience: 'public', name: 'general' });
      x.sink.channels.set('CLEFT', {
        canPost: false,
        audience: 'private',
        name: 'hr',
        problem:
          'I am not a member of #hr, so I cannot post there. Invite me: type `/invite @threadql` in #hr, then try again.',
      });
      const run = (id: string, tick: string) => {
        now = new Date(Date.parse(tick) + 1000);
        return x.services.runner.run({
          scheduleId: id,
          tick: Date.parse(tick),
          jobId: 'j',
          attemptsMade: 0,
          maxAttempts: 3,
        });
      };
      expect(await run(open._id, '2026-03-07T09:00:00Z')).toMatchObject({ kind: 'failed', paused: false });
      expect(await run(left._id, '2026-03-07T10:00:00Z')).toMatchObject({ kind: 'failed', paused: false });
      // Refusals go to the owner only, and nothing reached either channel.
      expect(x.sink.deliveries.map((d) => [d.kind, d.to])).toEqual([
        ['direct', owner.key],
        ['direct', owner.key],
      ]);
      expect(textOf(x.sink.deliveries[0]!)).toContain(
        'the connection is marked sensitive and #general is public',
      );
      expect(textOf(x.sink.deliveries[1]!)).toContain('Invite me');
      const runs = await x.store.models.ScheduleRun.find({ schedule: { $in: [open._id, left._id] } }).lean();
      expect(runs.map((r) => r.status)).toEqual(['refused', 'refused']);
    });
  });
});

describe('BullMQ, two replicas on one Redis', () => {
  it('a tick reached by both replicas, and by a second job, posts once; two schedules due the same minute both post', async () => {
    let now = T0;
    await withHarness('tpl-two', { now: () => now }, async (first) => {
      const replica = await TemplateHarness.start('tpl-two', { replicaOf: first, now: () => now });
      try {
        const a = await template(first, 'minutely-a', 'SELECT count(*) AS customers FROM customers');
        const b = await template(first, 'minutely-b', 'SELECT count(*) AS orders FROM orders');
        const sa = await schedule(first, a, '* * * * *');
        const sb = await schedule(first, b, '* * * * *');
        await first.services.scheduler.start();
        await replica.services.scheduler.start();
        const tick = new Date('2026-03-02T08:05:00Z');
        now = new Date(tick.getTime() + 1_000);
        const schedulers = [first.services.scheduler, replica.services.scheduler];
        const atTick = (o: TickOutcome) => o.tick === tick.getTime();
        const doneA = outcomes(schedulers, sa._id, 1, atTick);
        const doneB = outcomes(schedulers, sb._id, 1, atTick);
        // Each replica queues the tick of each schedule (the same job id: BullMQ keeps one), and a stray run for
        // schedule A's tick arrives under another job id too.
        await Promise.all([
          first.services.scheduler.enqueueTick(sa._id, tick),
          replica.services.scheduler.enqueueTick(sa._id, tick),
          first.services.scheduler.enqueueTick(sb._id, tick),
          replica.services.scheduler.enqueueTick(sb._id, tick),
        ]);
        const stray = await first.services.runner.run({
          scheduleId: sa._id,
          tick: tick.getTime(),
          jobId: 'stray',
          attemptsMade: 0,
          maxAttempts: 1,
        });
        const [[oa], [ob]] = await Promise.all([doneA, doneB]);
        expect([stray.kind, oa!.kind].sort()).toEqual(['duplicate', 'posted']);
        expect(ob!.kind).toBe('posted');
        const reports = first.sink.deliveries.filter((d) => d.kind === 'channel');
        expect(reports.map((d) => textOf(d).split('\n')[0]).sort()).toEqual([
          '📊 *minutely-a*',
          '📊 *minutely-b*',
        ]);
        const runs = await first.store.models.ScheduleRun.find({
          schedule: { $in: [sa._id, sb._id] },
        }).lean();
        expect(runs.map((r) => [r.schedule, r.tick.toISOString(), r.status]).sort()).toEqual(
          [
            [sa._id, tick.toISOString(), 'success'],
            [sb._id, tick.toISOString(), 'success'],
          ].sort(),
        );
      } finally {
        await replica.close();
      }
    });
  });

  it('BullMQ’s own scheduling: two replicas working one job scheduler post each tick once', async () => {
    // Real time here: BullMQ fires the ticks (every second, a six-field cron only tests use).
    await withHarness('tpl-own', { now: () => new Date() }, async (own) => {
      const replica = await TemplateHarness.start('tpl-own', { replicaOf: own, now: () => new Date() });
      try {
        const t = await template(own, 'every-second', 'SELECT count(*) AS customers FROM customers');
        const s = await schedule(own, t, '* * * * * *');
        const schedulers = [own.services.scheduler, replica.services.scheduler];
        const posted = outcomes(schedulers, s._id, 3, (o) => o.kind === 'posted');
        await Promise.all(schedulers.map((x) => x.start()));
        await posted;
        await own.services.store.setScheduleEnabled(s._id, false, owner, 'test over');
        await own.services.scheduler.sync(s._id);
        await Promise.all(schedulers.map((x) => x.close()));
        // One report per claimed tick, and no tick claimed twice (the claim's key is the schedule and tick).
        const reports = own.sink.reports();
        expect(reports.length).toBeGreaterThanOrEqual(3);
        const runs = await own.store.models.ScheduleRun.find({ schedule: s._id, status: 'success' }).lean();
        expect(runs).toHaveLength(reports.length);
        expect(new Set(runs.map((r) => r.tick.getTime())).size).toBe(runs.length);
        expect((await own.services.scheduler.jobSchedulers()).map((j) => j.key)).toEqual([
          'maintenance-daily',
        ]);
      } finally {
        await replica.close();
      }
    });
  });
});

describe('downtime and a flushed Redis', () => {
  it('ticks missed while no replica ran give one catch-up report marked late, not a burst', async () => {
    let now = new Date('2026-03-03T06:10:00Z');
    await withHarness('tpl-late', { now: () => now }, async (x) => {
      const t = await template(x, 'hourly-catchup', 'SELECT count(*) AS n FROM orders');
      const s = await schedule(x, t, '0 * * * *');
      // Every replica is down from 06:10 to 11:30: the 07:00 … 11:00 ticks are missed.
      now = new Date('2026-03-03T11:30:00Z');
      const seen = outcomes([x.services.scheduler], s._id, 2);
      const started = await x.services.scheduler.start();
      expect(started.caughtUp).toBe(1);
      // A stale BullMQ job for the 07:00 tick surfaces too: it stands for the newest due tick, already claimed.
      await x.services.scheduler.enqueueTick(s._id, new Date('2026-03-03T07:00:00Z'));
      expect((await seen).map((o) => o.kind).sort()).toEqual(['duplicate', 'posted']);
      const reports = x.sink.reports();
      expect(reports).toHaveLength(1);
      expect(textOf(reports[0]!)).toContain('⏰ Late: this report was due Tue 3 Mar 2026, 11:00 UTC');
      const runs = await x.store.models.ScheduleRun.find({ schedule: s._id }).lean();
      expect(runs.map((r) => [r.tick.toISOString(), r.late])).toEqual([['2026-03-03T11:00:00.000Z', true]]);
    });
  });

  it('a replica starting after Redis was flushed rebuilds every job scheduler from MongoDB', async () => {
    const now = new Date('2026-03-04T06:00:00Z');
    await withHarness('tpl-flush', { now: () => now }, async (first) => {
      const a = await template(first, 'flush-a', 'SELECT 1 AS one');
      const b = await template(first, 'flush-b', 'SELECT 2 AS two');
      const sa = await schedule(first, a, '0 9 * * 1-5');
      const sb = await schedule(first, b, '30 7 * * *');
      const paused = await schedule(first, b, '0 12 * * *');
      await first.services.store.setScheduleEnabled(paused._id, false, owner);
      await first.services.scheduler.start();
      const keysOf = async (harness: TemplateHarness) =>
        (await harness.services.scheduler.jobSchedulers())
          .filter((j) => j.key.startsWith('report-'))
          .map((j) => [j.key, j.pattern, j.tz])
          .sort();
      const expected = [
        [`report-${sa._id}`, '0 9 * * 1-5', 'UTC'],
        [`report-${sb._id}`, '30 7 * * *', 'UTC'],
      ].sort();
      expect(await keysOf(first)).toEqual(expected);
      await first.services.scheduler.close();

      expect(await first.flushRedis()).toBeGreaterThan(0);
      const second = await TemplateHarness.start('tpl-flush', { replicaOf: first, now: () => now });
      try {
        expect(await keysOf(second)).toEqual([]);
        const summary = await second.services.scheduler.start();
        expect(summary.upserted).toBe(2);
        expect(await keysOf(second)).toEqual(expected);
        // A schedule deleted meanwhile loses its job scheduler at the next reconcile.
        await second.services.store.removeSchedule(sb._id, owner);
        expect((await second.services.scheduler.reconcile()).removed).toBe(1);
        expect((await keysOf(second)).map((k) => k[0])).toEqual([`report-${sa._id}`]);
      } finally {
        await second.close();
      }
    });
  });
});

describe('failures are loud', () => {
  it('a failed run is retried; still failing, the channel and the owner are told; at maxFailures it pauses itself', async () => {
    let now = new Date('2026-03-05T06:00:00Z');
    const options = { now: () => now, maxFailures: 2, scheduler: { attempts: 2 } };
    await withHarness('tpl-fail', options, async (x) => {
      const t = await template(x, 'broken', 'SELECT * FROM no_such_table');
      const s = await schedule(x, t, '0 * * * *');
      await x.services.scheduler.start();

      const tick1 = new Date('2026-03-05T07:00:00Z');
      now = new Date(tick1.getTime() + 1000);
      const first = outcomes([x.services.scheduler], s._id, 1);
      await x.services.scheduler.enqueueTick(s._id, tick1);
      expect((await first)[0]).toMatchObject({ kind: 'failed', paused: false, tick: tick1.getTime() });
      const run1 = await x.store.models.ScheduleRun.findById(scheduleRunKey(s._id, tick1)).lean();
      expect(run1).toMatchObject({ status: 'failed', attempts: 2 });
      expect(run1?.error).toContain('no such table');
      const notices = [...x.sink.deliveries];
      expect(notices.map((d) => d.kind).sort()).toEqual(['channel', 'direct']);
      expect(textOf(notices.find((d) => d.kind === 'channel')!)).toMatch(
        /⚠️ The scheduled report \*broken\* for Thu 5 Mar 2026, 07:00 UTC failed: .*no such table.* Its owner has been told\./,
      );
      const dm = notices.find((d) => d.kind === 'direct')!;
      expect(dm.to).toBe(owner.key);
      expect(textOf(dm)).toContain('Failures in a row: 1 of 2');

      const tick2 = new Date('2026-03-05T08:00:00Z');
      now = new Date(tick2.getTime() + 1000);
      const second = outcomes([x.services.scheduler], s._id, 1);
      await x.services.scheduler.enqueueTick(s._id, tick2);
      expect((await second)[0]).toMatchObject({ kind: 'failed', paused: true, tick: tick2.getTime() });
      const pausedNotes = x.sink.deliveries.filter((d) =>
        textOf(d).includes('has paused itself after 2 failed runs'),
      );
      expect(pausedNotes.map((d) => d.kind).sort()).toEqual(['channel', 'direct']);
      const view = await x.services.store.getSchedule(s._id);
      expect(view.schedule.enabled).toBe(false);
      expect(view.schedule.pausedReason).toContain('paused after 2 failed runs in a row');
      expect(view.state).toMatchObject({ consecutiveFailures: 2, lastStatus: 'failed' });
      expect((await x.services.scheduler.jobSchedulers()).map((j) => j.key)).not.toContain(`report-${s._id}`);
      const actions = (await x.store.models.AuditEvent.find({ target: `Schedule:${s._id}` }).lean()).map(
        (e) => [e.action, e.actor],
      );
      expect(actions).toEqual([
        ['schedule.create', owner.key],
        ['schedule.run_failed', `schedule:${s._id}`],
        ['schedule.run_failed', `schedule:${s._id}`],
        ['schedule.pause', 'system'],
      ]);
      const history = await x.store.models.QueryHistory.find({ session: t.session }).lean();
      expect(history.map((e) => e.executionStatus)).toEqual(['error', 'error']);
    });
  });

  it('a chat platform error is retried and the report posted once; the streak resets', async () => {
    let now = new Date('2026-03-06T06:00:00Z');
    await withHarness(
      'tpl-flaky',
      { now: () => now, maxFailures: 2, scheduler: { attempts: 2 } },
      async (x) => {
        const t = await template(x, 'flaky-post', 'SELECT count(*) AS n FROM products');
        const s = await schedule(x, t, '0 * * * *');
        await x.services.scheduler.start();
        const tick = new Date('2026-03-06T07:00:00Z');
        now = new Date(tick.getTime() + 1000);
        x.sink.failChannelPosts = 1;
        const done = outcomes([x.services.scheduler], s._id, 1);
        await x.services.scheduler.enqueueTick(s._id, tick);
        expect((await done)[0]).toMatchObject({ kind: 'posted' });
        expect(x.sink.deliveries.map((d) => d.kind)).toEqual(['channel']);
        expect(await x.store.models.ScheduleRun.findById(scheduleRunKey(s._id, tick)).lean()).toMatchObject({
          status: 'success',
          attempts: 1,
        });
        expect(await x.services.failures.current(s._id)).toBe(0);
      },
    );
  });
});
