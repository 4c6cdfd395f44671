/**
 * SlackDirectory with the real WebClient against the loopback fake: display names from users.info, approver-group
 * membership from usergroups.users.list, both cached with a TTL (an injected clock), and every failure degrading
 * to the ref as it came (no name, no roles) with one warning.
 */
import { webApi } from '@slack/bolt';
import type { UserRef } from '../../core/conversation/chat-platform.ts';
import { SlackDirectory, slackDisplayName } from '../../bot/slack/slack-directory.ts';
import { FAKE_TEAM_ID, FakeSlackApi } from '../fakes/fake-slack-api.ts';

const fake = new FakeSlackApi();
let client: webApi.WebClient;
let clock = 0;
let warnings: string[] = [];

function user(id: string, displayName?: string): UserRef {
  return { platform: 'slack', workspace: FAKE_TEAM_ID, user: id, ...(displayName ? { displayName } : {}) };
}

function directory(options: { userGroups?: string[]; displayNames?: boolean; timeoutMs?: number } = {}) {
  return new SlackDirectory({
    client,
    ...options,
    ttlMs: 300_000,
    failureTtlMs: 60_000,
    now: () => clock,
    warn: (message) => warnings.push(message),
  });
}

beforeAll(async () => {
  await fake.start();
  client = new webApi.WebClient('xoxb-directory-test', {
    slackApiUrl: fake.apiUrl,
    retryConfig: { retries: 0 },
    logLevel: webApi.LogLevel.ERROR,
  });
  fake.setUser('U0ANA', { display_name: 'Ana', real_name: 'Ana Pereira' });
  fake.setUser('U0BEN', { real_name: 'Ben Okafor' });
  fake.setUser('U0GONE', { display_name: 'Former', deleted: true });
  fake.setUserGroup('S0DBA', ['U0ANA', 'U0BEN']);
  fake.setUserGroup('S0LEADS', ['U0BEN']);
});

afterAll(async () => {
  await fake.stop();
});

beforeEach(() => {
  fake.reset();
  clock = 1_000_000;
  warnings = [];
});

describe('SlackDirectory: display names', () => {
  it('uses the profile display name, else the real name, else the handle', async () => {
    const d = directory();
    expect((await d.enrich(user('U0ANA'))).displayName).toBe('Ana');
    expect((await d.enrich(user('U0BEN'))).displayName).toBe('Ben Okafor');
    expect(slackDisplayName({ name: 'carol', profile: { display_name: ' ', real_name: '' } })).toBe('carol');
    expect(fake.callsOf('users.info').map((c) => c.args.user)).toEqual(['U0ANA', 'U0BEN']);
  });

  it('caches a name for the TTL, then asks Slack again', async () => {
    const d = directory();
    await d.enrich(user('U0ANA'));
    await Promise.all([d.enrich(user('U0ANA')), d.enrich(user('U0ANA'))]);
    expect(fake.callsOf('users.info')).toHaveLength(1);
    clock += 300_001;
    fake.setUser('U0ANA', { display_name: 'Ana P.' });
    expect((await d.enrich(user('U0ANA'))).displayName).toBe('Ana P.');
    expect(fake.callsOf('users.info')).toHaveLength(2);
    fake.setUser('U0ANA', { display_name: 'Ana', real_name: 'Ana Pereira' });
  });

  it('without users:read keeps the name the payload had, warns once, and retries after the failure TTL', async () => {
    const d = directory();
    fake.failNext('users.info', { error: 'missing_scope' });
    expect(await d.enrich(user('U0ANA', 'ana'))).toEqual(user('U0ANA', 'ana'));
    fake.failNext('users.info', { error: 'missing_scope' });
    expect(await d.enrich(user('U0BEN'))).toEqual(user('U0BEN'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('users.info failed: missing_scope');
    expect(warnings[0]).toContain('users:read');
    // Still within the failure TTL: no new call.
    await d.enrich(user('U0ANA'));
    expect(fake.callsOf('users.info')).toHaveLength(2);
    clock += 60_001;
    expect((await d.enrich(user('U0ANA'))).displayName).toBe('Ana');
  });

  it('leaves unknown and deactivated users as ids', async () => {
    const d = directory();
    expect(await d.enrich(user('U0NOBODY'))).toEqual(user('U0NOBODY'));
    expect(await d.enrich(user('U0GONE'))).toEqual(user('U0GONE'));
  });

  it('does not hold a turn up for a slow Slack; the answer lands in the cache for the next event', async () => {
    const d = directory({ timeoutMs: 50 });
    fake.delayNext('users.info', 400);
    expect(await d.enrich(user('U0BEN'))).toEqual(user('U0BEN'));
    // The same cached lookup, awaited to its end (no sleeping on the clock).
    expect(await d.displayName('U0BEN')).toBe('Ben Okafor');
    expect((await d.enrich(user('U0BEN'))).displayName).toBe('Ben Okafor');
    expect(fake.callsOf('users.info')).toHaveLength(1);
  });

  it('can be turned off', async () => {
    const d = directory({ displayNames: false });
    expect(await d.enrich(user('U0ANA'))).toEqual(user('U0ANA'));
    expect(fake.callsOf('users.info')).toHaveLength(0);
  });
});

describe('SlackDirectory: approver user groups', () => {
  it('puts the configured groups a user belongs to in roles, ignoring user ids in the approver list', async () => {
    const d = directory({ userGroups: ['U0ROOT', 'S0DBA', 'S0LEADS', 'S0DBA'], displayNames: false });
    expect(d.userGroups).toEqual(['S0DBA', 'S0LEADS']);
    expect((await d.enrich(user('U0ANA'))).roles).toEqual(['S0DBA']);
    expect((await d.enrich(user('U0BEN'))).roles).toEqual(['S0DBA', 'S0LEADS']);
    expect((await d.enrich(user('U0EVE'))).roles).toBeUndefined();
    // One membership call per group, shared by every user until the TTL ends.
    expect(
      fake
        .callsOf('usergroups.users.list')
        .map((c) => c.args.usergroup)
        .sort(),
    ).toEqual(['S0DBA', 'S0LEADS']);
    clock += 300_001;
    fake.setUserGroup('S0LEADS', ['U0BEN', 'U0EVE']);
    expect((await d.enrich(user('U0EVE'))).roles).toEqual(['S0LEADS']);
    expect(fake.callsOf('usergroups.users.list')).toHaveLength(4);
    fake.setUserGroup('S0LEADS', ['U0BEN']);
  });

  it('a group Slack cannot list gives no roles and one warning, and the other groups still count', async () => {
    const d = directory({ userGroups: ['S0DBA', 'S0MISSING'], displayNames: false });
    expect((await d.enrich(user('U0ANA'))).roles).toEqual(['S0DBA']);
    expect((await d.enrich(user('U0BEN'))).roles).toEqual(['S0DBA']);
    expect(warnings).toEqual([
      expect.stringContaining('usergroups.users.list S0MISSING failed: no_such_subteam'),
    ]);
  });

  it('without usergroups:read nobody gets a group role, and the fix is named', async () => {
    const d = directory({ userGroups: ['S0DBA'], displayNames: false });
    fake.failNext('usergroups.users.list', { error: 'missing_scope' });
    expect((await d.enrich(user('U0ANA'))).roles).toBeUndefined();
    expect(warnings[0]).toContain('usergroups:read');
  });

  it('makes no calls when no group is configured, and keeps roles the ref already had', async () => {
    const d = directory({ userGroups: ['U0ROOT'], displayNames: false });
    const ref = { ...user('U0ANA'), roles: ['R1'] };
    expect(await d.enrich(ref)).toEqual(ref);
    expect(fake.calls).toHaveLength(0);
  });
});
