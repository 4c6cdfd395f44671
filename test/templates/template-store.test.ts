/**
 * Templates in the real store (MongoDB wire) with the Redis search index: saving (reads only, parameters that match
 * the placeholders, one name per workspace), search correct under concurrent saves and deletes and after a Redis
 * flush, exact usage counts under concurrent uses, the 180-day archive with an injected clock, and schedule
 * changes with their permissions.
 */
import type { QueryTemplateFields } from '../../models/query-template.ts';
import { NeedsApprovalError, PermissionError, ValidationError } from '../../core/errors.ts';
import { archiveUnusedTemplates } from '../../core/templates/archive-unused-templates.ts';
import { checkTemplate } from '../../core/templates/check-template.ts';
import type { ParameterDefinition } from '../../core/templates/parameter-values.ts';
import type { Actor } from '../../core/templates/template-store.ts';
import { recordTemplateUse, templateUsage } from '../../core/templates/template-usage.ts';
import { TemplateHarness } from './template-harness.ts';

let clock = new Date('2026-01-15T12:00:00Z');
let h: TemplateHarness;
const WS = 'slack:T1';
const alice: Actor = { key: 'slack:T1:UALICE', admin: false };
const mallory: Actor = { key: 'slack:T1:UMALLORY', admin: false };
const admin: Actor = { key: 'slack:T1:UADMIN', admin: true };

beforeAll(async () => {
  h = await TemplateHarness.start('tpl-store', { now: () => clock });
});
afterAll(async () => h?.close());

async function save(
  name: string,
  sql: string,
  parameters: ParameterDefinition[] = [],
  extra: { workspace?: string; description?: string; question?: string } = {},
): Promise<QueryTemplateFields> {
  await checkTemplate({ databaseType: 'sqlite', sql, parameters }, (q) => h.connections.classify('shop', q));
  return h.services.store.create(
    {
      workspace: extra.workspace ?? WS,
      name,
      description: extra.description ?? '',
      question: extra.question ?? `question for ${name}`,
      sql,
      parameters,
      databaseType: 'sqlite',
      connectionName: 'shop',
      session: null,
    },
    alice,
  );
}

describe('saving', () => {
  it('keeps a parameterised read, with its audit event', async () => {
    const t = await save('signups-by-country', 'SELECT name FROM customers WHERE country = :country', [
      { name: 'country', type: 'text', default: 'DE', required: false },
    ]);
    expect(t.parameters).toEqual([{ name: 'country', type: 'text', default: 'DE', required: false }]);
    const audit = await h.store.models.AuditEvent.findOne({
      action: 'template.save',
      target: `QueryTemplate:${t._id}`,
    }).lean();
    expect(audit).toMatchObject({ actor: alice.key, outcome: 'success', workspace: WS });
    expect(audit?.sqlHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a statement that is not a read, parameters that do not match, and a taken name', async () => {
    await expect(
      save('wipe', 'DELETE FROM customers WHERE country = :country', [
        { name: 'country', type: 'text', required: true },
      ]),
    ).rejects.toBeInstanceOf(NeedsApprovalError);
    const mismatch = save('odd', 'SELECT * FROM customers WHERE country = :country', [
      { name: 'since', type: 'date', required: true },
    ]);
    await expect(mismatch).rejects.toThrow(
      'The template does not fit together:\n• the query uses :country without a definition\n• parameter(s) since not used in the query',
    );
    await expect(save('two', 'SELECT 1; SELECT 2')).rejects.toThrow(
      'A template runs one statement; this one has 2.',
    );
    await save('taken', 'SELECT 1');
    const error = await save('Taken', 'SELECT 2').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe(
      'There is already a template named "taken" in this workspace.',
    );
    // Another workspace may use the name.
    await save('taken', 'SELECT 3', [], { workspace: 'discord:G1' });
  });
});

describe('search', () => {
  it('matches every word in name, description or question, name matches first, then the most used', async () => {
    await save('revenue-daily', 'SELECT 1', [], { description: 'Daily revenue (EUR) for finance' });
    await save('churn', 'SELECT 1', [], {
      question: 'who left last month and what did they pay in revenue?',
    });
    const hits = await h.services.store.search(WS, 'Revenue');
    expect(hits.map((t) => t.name)).toEqual(['revenue-daily', 'churn']);
    expect((await h.services.store.search(WS, 'revenue (eur)')).map((t) => t.name)).toEqual([
      'revenue-daily',
    ]);
    expect(await h.services.store.search(WS, 'nothing like this')).toEqual([]);
    expect((await h.services.store.search('discord:G1', '')).map((t) => t.name)).toEqual(['taken']);
  });

  it('stays exact under concurrent saves and deletes racing a rebuild, and after Redis is flushed', async () => {
    const names = Array.from({ length: 24 }, (_, i) => `race-${i}`);
    await Promise.all(names.slice(0, 12).map((n) => save(n, 'SELECT 1', [], { description: 'racing' })));
    await h.flushRedis(); // the index is gone: the next search rebuilds while the writes below run
    await Promise.all([
      ...names.slice(12).map((n) => save(n, 'SELECT 1', [], { description: 'racing' })),
      ...names.slice(0, 6).map((n) => h.services.store.delete(WS, n, alice)),
      h.services.store.search(WS, 'racing'),
      h.services.index.rebuild(WS),
    ]);
    const expected = names.slice(6).sort();
    const inMongo = (
      await h.store.models.QueryTemplate.find({ workspace: WS, description: 'racing' }, { name: 1 }).lean()
    )
      .map((t) => t.name)
      .sort();
    expect(inMongo).toEqual(expected);
    expect((await h.services.store.search(WS, 'racing', { limit: 100 })).map((t) => t.name).sort()).toEqual(
      expected,
    );
    await h.flushRedis();
    expect((await h.services.store.search(WS, 'racing', { limit: 100 })).map((t) => t.name).sort()).toEqual(
      expected,
    );
  });
});

describe('usage', () => {
  it('counts every one of 40 concurrent uses exactly; the mirror catches up', async () => {
    const t = await save('popular', 'SELECT 1');
    const deps = { models: h.store.models, lock: h.services.lock, index: h.services.index };
    const numbers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        recordTemplateUse(deps, t._id, {
          actor: `slack:T1:U${i}`,
          via: 'run',
          at: new Date(clock.getTime() + i),
        }),
      ),
    );
    expect([...numbers].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const stored = (await h.services.store.byId(t._id))!;
    expect(await templateUsage(h.store.models, stored)).toEqual({
      usageCount: 40,
      lastUsedAt: new Date(clock.getTime() + 39),
    });
    // The mirror is best effort under contention (a use that finds the lock busy leaves it to the holder)…
    expect(stored.usageCount).toBeLessThanOrEqual(40);
    // …and exact again after the next uncontended use, which probes the log above it.
    await recordTemplateUse(deps, t._id, {
      actor: 'slack:T1:U40',
      via: 'run',
      at: new Date(clock.getTime() + 40),
    });
    expect((await h.services.store.byId(t._id))!.usageCount).toBe(41);
    expect((await h.services.store.search(WS, 'popular'))[0]?.usageCount).toBe(41);
  });
});

describe('archive after 180 idle days', () => {
  it('archives idle templates (not scheduled ones), hides them, and a use brings them back', async () => {
    clock = new Date('2026-02-01T00:00:00Z');
    const idle = await save('idle-report', 'SELECT 1', [], { description: 'archive me' });
    const used = await save('used-report', 'SELECT 1', [], { description: 'archive me' });
    const scheduled = await save('scheduled-report', 'SELECT 1', [], { description: 'archive me' });
    await h.services.store.addSchedule(
      scheduled._id,
      {
        cron: '0 9 * * 1',
        timeZone: 'UTC',
        summary: 'every Monday at 09:00',
        target: { platform: 'slack', workspace: 'T1', channel: 'C1' },
        parameterValues: {},
      },
      alice,
    );
    const deps = { models: h.store.models, lock: h.services.lock, index: h.services.index };
    await recordTemplateUse(deps, used._id, {
      actor: alice.key,
      via: 'run',
      at: new Date('2026-05-01T00:00:00Z'),
    });

    clock = new Date('2026-08-01T00:00:00Z'); // 181 days after creation, 92 after the use
    const archived = await archiveUnusedTemplates(h.services.store, h.store.models, clock);
    expect(archived.filter((n) => n.endsWith('-report'))).toEqual([`${WS}/idle-report`]);
    expect((await h.services.store.byId(idle._id))?.archivedAt).toEqual(clock);
    expect((await h.services.store.search(WS, 'archive me')).map((t) => t.name).sort()).toEqual([
      'scheduled-report',
      'used-report',
    ]);
    expect((await h.services.store.search(WS, 'archive me', { includeArchived: true })).length).toBe(3);
    expect(
      await h.store.models.AuditEvent.countDocuments({
        action: 'template.archive',
        target: `QueryTemplate:${idle._id}`,
      }),
    ).toBe(1);

    await recordTemplateUse(deps, idle._id, { actor: alice.key, via: 'run', at: clock });
    expect((await h.services.store.byId(idle._id))?.archivedAt).toBeNull();
    expect((await h.services.store.search(WS, 'archive me')).length).toBe(3);
    clock = new Date('2026-01-15T12:00:00Z');
  });
});

describe('schedules', () => {
  it('adds, finds by short id, pauses, resumes and removes, for the owner or an admin only', async () => {
    const t = await save('weekly', 'SELECT 1');
    const { schedule } = await h.services.store.addSchedule(
      t._id,
      {
        cron: '0 9 * * 1',
        timeZone: 'Europe/Berlin',
        summary: 'every Monday at 09:00',
        target: { platform: 'slack', workspace: 'T1', channel: 'C9' },
        channelName: 'growth',
        parameterValues: {},
      },
      alice,
    );
    expect(schedule._id).toMatch(/^[a-z0-9]{8}$/);
    const found = await h.services.store.findSchedule(schedule._id.toUpperCase());
    expect(found?.template.name).toBe('weekly');

    await expect(h.services.store.setScheduleEnabled(schedule._id, false, mallory)).rejects.toBeInstanceOf(
      PermissionError,
    );
    const paused = await h.services.store.setScheduleEnabled(schedule._id, false, alice, 'holiday');
    expect(paused.schedule).toMatchObject({ enabled: false, pausedReason: 'holiday' });
    clock = new Date('2026-01-20T08:00:00Z');
    const resumed = await h.services.store.setScheduleEnabled(schedule._id, true, admin);
    expect(resumed.schedule).toMatchObject({ enabled: true, pausedReason: null, activeSince: clock });

    expect((await h.services.store.listSchedules(WS)).map((v) => v.schedule._id)).toContain(schedule._id);
    await expect(h.services.store.removeSchedule(schedule._id, mallory)).rejects.toBeInstanceOf(
      PermissionError,
    );
    await h.services.store.removeSchedule(schedule._id, alice);
    expect(await h.services.store.findSchedule(schedule._id)).toBeUndefined();
    const actions = (await h.store.models.AuditEvent.find({ target: `Schedule:${schedule._id}` }).lean()).map(
      (e) => e.action,
    );
    expect(actions).toEqual(['schedule.create', 'schedule.pause', 'schedule.resume', 'schedule.delete']);
  });

  it('a pause is not lost to uses recorded at the same moment (all template writes share the lock)', async () => {
    const t = await save('busy', 'SELECT 1');
    const { schedule } = await h.services.store.addSchedule(
      t._id,
      {
        cron: '* * * * *',
        timeZone: 'UTC',
        summary: 'every minute',
        target: { platform: 'slack', workspace: 'T1', channel: 'C9' },
        parameterValues: {},
      },
      alice,
    );
    const deps = { models: h.store.models, lock: h.services.lock, index: h.services.index };
    await Promise.all([
      ...Array.from({ length: 10 }, () =>
        recordTemplateUse(deps, t._id, { actor: 'x', via: 'schedule', at: clock }),
      ),
      h.services.store.setScheduleEnabled(schedule._id, false, alice, 'stop'),
      ...Array.from({ length: 10 }, () =>
        recordTemplateUse(deps, t._id, { actor: 'x', via: 'schedule', at: clock }),
      ),
    ]);
    const stored = (await h.services.store.byId(t._id))!;
    expect(stored.schedules[0]).toMatchObject({ enabled: false, pausedReason: 'stop' });
    expect((await templateUsage(h.store.models, stored)).usageCount).toBe(20);
  });

  it('deleting a template is for its owner or an admin', async () => {
    await save('mine', 'SELECT 1');
    await expect(h.services.store.delete(WS, 'mine', mallory)).rejects.toThrow(
      'Only its owner or an admin can delete the template "mine".',
    );
    await h.services.store.delete(WS, 'mine', admin);
    await expect(h.services.store.get(WS, 'mine')).rejects.toThrow('There is no template named "mine".');
  });
});
