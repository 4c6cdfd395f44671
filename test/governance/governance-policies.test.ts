import { parseConfigText } from '../../config/load-config.ts';
import type { UserRef } from '../../core/conversation/chat-platform.ts';
import { checkAccess } from '../../core/governance/check-access.ts';
import { checkScheduledReport } from '../../core/governance/check-scheduled-report.ts';
import { deliveryFor, privateDeliveryNote } from '../../core/governance/delivery-policy.ts';
import { describeAccess } from '../../core/governance/describe-access.ts';
import { toUserMessage } from '../../core/errors.ts';

function connection(extra: string) {
  const config = parseConfigText(`connections:\n  - {name: hr, type: postgres, url: x${extra}}\n`, {});
  return config.connections[0]!;
}

const slack = (user: string, roles: string[] = []): UserRef => ({
  platform: 'slack',
  workspace: 'T1',
  user,
  roles,
});
const discord = (user: string, roles: string[] = []): UserRef => ({
  platform: 'discord',
  workspace: 'G1',
  user,
  roles,
});
const shell = (user: string): UserRef => ({ platform: 'shell', workspace: 'local', user });

describe('checkAccess', () => {
  const hr = connection(', access: {slack: [U1, S_ANALYSTS], discord: ["111", "222"], shell: [ana]}');

  it('lets everyone ask a connection without access rules', () => {
    expect(checkAccess(connection(''), slack('U9'))).toEqual({ allowed: true, by: 'everyone' });
  });

  it('allows listed users, Slack user groups and Discord roles', () => {
    expect(checkAccess(hr, slack('U1'))).toEqual({ allowed: true, by: 'user', id: 'U1' });
    expect(checkAccess(hr, slack('U2', ['S_ANALYSTS']))).toEqual({
      allowed: true,
      by: 'role',
      id: 'S_ANALYSTS',
    });
    expect(checkAccess(hr, discord('999', ['222']))).toEqual({ allowed: true, by: 'role', id: '222' });
    expect(checkAccess(hr, discord('111'))).toEqual({ allowed: true, by: 'user', id: '111' });
    expect(checkAccess(hr, shell('ana'))).toMatchObject({ allowed: true });
  });

  it('refuses anyone else with what to ask an admin for', () => {
    const refused = checkAccess(hr, slack('U2', ['S_OTHER']));
    if (refused.allowed) throw new Error('expected a refusal');
    expect(refused.error.code).toBe('permission_denied');
    expect(toUserMessage(refused.error)).toBe(
      'You may not query *hr*: it is open only to the people listed for it.\n' +
        'Ask a threadql admin to add your Slack user id `U2` or a user group you are in to `access.slack` of the connection *hr* in threadql.yml.',
    );
    expect(refused.error.detail).toEqual({ connection: 'hr', user: 'slack:T1:U2', reason: 'not_listed' });
    const role = checkAccess(hr, discord('333', ['444']));
    expect(!role.allowed && toUserMessage(role.error)).toContain(
      'your Discord user id `333` or one of your roles to `access.discord`',
    );
  });

  it('refuses a platform the access rules do not list at all', () => {
    const only = connection(', access: {slack: [U1]}');
    expect(checkAccess(only, discord('111')).allowed).toBe(false);
    expect(checkAccess(only, shell('ana')).allowed).toBe(false);
  });
});

describe('deliveryFor', () => {
  const audiences = ['direct', 'private', 'public', 'shared'] as const;
  const where = (extra: string) =>
    audiences
      .map((audience) => deliveryFor(connection(extra), { audience }).to)
      .concat(deliveryFor(connection(extra), undefined).to);

  it("channel: always in the thread (today's behaviour, the default)", () => {
    expect(where('')).toEqual(['thread', 'thread', 'thread', 'thread', 'thread']);
    expect(where(', visibility: channel, sensitive: true')).toEqual([
      'thread',
      'thread',
      'thread',
      'thread',
      'thread',
    ]);
  });

  it('requester: privately, except in a direct message (already private)', () => {
    expect(where(', visibility: requester')).toEqual(['thread', 'private', 'private', 'private', 'private']);
  });

  it('auto: a sensitive connection goes private in public, shared and unknown channels', () => {
    expect(where(', visibility: auto, sensitive: true')).toEqual([
      'thread',
      'thread',
      'private',
      'private',
      'private',
    ]);
    expect(where(', visibility: auto')).toEqual(['thread', 'thread', 'thread', 'thread', 'thread']);
  });

  it('says why, for the note left in the thread', () => {
    const shared = deliveryFor(connection(', visibility: auto, sensitive: true'), { audience: 'shared' });
    if (shared.to !== 'private') throw new Error('expected private');
    expect(privateDeliveryNote(shared, 'Ana')).toBe(
      '📬 Sent the result to Ana privately: *hr* is sensitive and this channel is shared with another organisation.',
    );
  });
});

describe('checkScheduledReport', () => {
  it('refuses a sensitive connection in a public, shared or unknown channel, and says why', () => {
    const hr = connection(', sensitive: true');
    const growth = checkScheduledReport(hr, { audience: 'public', name: 'growth' });
    if (growth.allowed) throw new Error('expected a refusal');
    expect(toUserMessage(growth.error)).toBe(
      "I won't post reports of *hr* into #growth: the connection is marked sensitive and #growth is public (anyone in the workspace can read it).\n" +
        'Schedule it into a private channel or a direct message, or ask an admin to change `sensitive` of the connection in threadql.yml.',
    );
    const partners = checkScheduledReport(hr, { audience: 'shared', name: 'partners' });
    expect(!partners.allowed && partners.error.message).toContain(
      '#partners is shared with another organisation',
    );
    expect(checkScheduledReport(hr, undefined).allowed).toBe(false);
    expect(checkScheduledReport(hr, { audience: 'private', name: 'hr-team' })).toEqual({ allowed: true });
    expect(checkScheduledReport(hr, { audience: 'direct' })).toEqual({ allowed: true });
  });

  it('allows any channel for a connection that is not sensitive, and only DMs for visibility: requester', () => {
    expect(checkScheduledReport(connection(''), { audience: 'public' })).toEqual({ allowed: true });
    const requester = connection(', visibility: requester');
    expect(checkScheduledReport(requester, { audience: 'private', name: 'x' }).allowed).toBe(false);
    expect(checkScheduledReport(requester, { audience: 'direct' })).toEqual({ allowed: true });
  });
});

describe('describeAccess', () => {
  it('shows who may query, where, what is masked and how results and reports are delivered', () => {
    const hr = connection(
      ', channels: [C1, C2], access: {slack: [U1, S2]}, maskedColumns: [staff.email, {column: "*.salary", mode: hide}], visibility: auto, sensitive: true',
    );
    const text = describeAccess(hr, {
      platform: 'slack',
      mention: (id, kind) => (kind === 'channel' ? `<#${id}>` : `<@${id}>`),
    });
    expect(text.split('\n')).toEqual([
      '*hr* (postgres)',
      '• Who may ask: only those listed (users, groups, roles): slack: <@U1>, <@S2>; discord: nobody; shell: nobody',
      '• Where: <#C1>, <#C2>',
      '• Masked: `staff.email` (values shown as •••), `*.salary` (column dropped); the model sees these columns marked, never their values',
      '• Results: privately to the person who asked when the channel is public or shared with another organisation; in the thread otherwise',
      '• Scheduled reports: only into private channels and direct messages (sensitive)',
    ]);
  });

  it('describes an open connection plainly', () => {
    const text = describeAccess(connection(''), { platform: 'discord' });
    expect(text).toContain('• Who may ask: everyone in the channels below');
    expect(text).toContain('• Where: any channel');
    expect(text).toContain('• Masked: nothing');
    expect(text).toContain('• Results: in the thread, for everyone in the channel');
  });
});
