import { GRAMMAR, helpText, parseChatMessage } from '../../core/conversation/chat-grammar.ts';
import { fencedBlocks, keyValues } from '../../core/conversation/grammar-tokens.ts';

const command = (text: string, platform?: 'slack' | 'discord' | 'shell') => parseChatMessage(text, platform);

describe('the chat grammar', () => {
  it.each([
    ['help', { name: 'help', args: {} }],
    ['?', { name: 'help', args: {} }],
    ['', { name: 'help', args: {} }],
    ['/threadql help', { name: 'help', args: {} }],
    ['```sql\nSELECT 1\n```', { name: 'question', args: { text: '```sql\nSELECT 1\n```' } }],
    ['connections', { name: 'connections', args: {} }],
    ['use shop', { name: 'use', args: { connection: 'shop' } }],
    ['schema', { name: 'schema', args: { tables: [] } }],
    ['schema around orders, customers', { name: 'schema', args: { tables: ['orders', 'customers'] } }],
    ['erd orders', { name: 'schema', args: { tables: ['orders'] } }],
    ['ask how many orders?', { name: 'question', args: { text: 'how many orders?' } }],
    ['save as weekly-signups', { name: 'save', args: { name: 'weekly-signups' } }],
    ['template Weekly-Signups', { name: 'template', args: { name: 'weekly-signups' } }],
    ['templates', { name: 'templates', args: { search: '' } }],
    ['templates revenue by week', { name: 'templates', args: { search: 'revenue by week' } }],
    ['run weekly-signups', { name: 'run', args: { name: 'weekly-signups', values: {} } }],
    [
      'run by-country country="United States" since=2026-01-01',
      {
        name: 'run',
        args: { name: 'by-country', values: { country: 'United States', since: '2026-01-01' } },
      },
    ],
    ['delete template old-report', { name: 'delete-template', args: { name: 'old-report' } }],
    ['schedules', { name: 'schedules', args: {} }],
    ['pause 3f2a9c', { name: 'pause', args: { id: '3f2a9c' } }],
    ['resume 3f2a9c', { name: 'resume', args: { id: '3f2a9c' } }],
    ['unschedule 3f2a9c', { name: 'unschedule', args: { id: '3f2a9c' } }],
    ['approvals', { name: 'approvals', args: {} }],
    ['migrations', { name: 'migrations', args: {} }],
    ['migrations export flyway', { name: 'migrations', args: { export: 'flyway' } }],
    ['rollback', { name: 'rollback', args: {} }],
    ['rollback 20261128093000_add_idx', { name: 'rollback', args: { version: '20261128093000_add_idx' } }],
    ['access', { name: 'access', args: {} }],
    ['access shop', { name: 'access', args: { connection: 'shop' } }],
  ])('%s', (text, expected) => {
    expect(command(text)).toEqual({ kind: 'command', ...expected });
  });

  it('a template with a fenced SQL block saves that SQL', () => {
    expect(
      command('template by-country\n```sql\nSELECT * FROM orders WHERE country = :country\n```'),
    ).toEqual({
      kind: 'command',
      name: 'template',
      args: { name: 'by-country', sql: 'SELECT * FROM orders WHERE country = :country' },
    });
  });

  it('a pasted migration: a name and two fenced blocks, up then down (Slack sends one-line fences too)', () => {
    const text =
      'migrate add_orders_customer_index\n```sql\nCREATE INDEX i ON orders (customer_id);\n```\n```DROP INDEX i;```';
    expect(command(text)).toEqual({
      kind: 'command',
      name: 'migrate',
      args: {
        name: 'add_orders_customer_index',
        up: 'CREATE INDEX i ON orders (customer_id);',
        down: 'DROP INDEX i;',
      },
    });
    expect(command('migrate\n```CREATE INDEX i ON t (a)```\n```DROP INDEX i```')).toMatchObject({
      name: 'migrate',
      args: { up: 'CREATE INDEX i ON t (a)', down: 'DROP INDEX i' },
    });
  });

  it('schedules: the text between the name and the last `in <channel>` is the time, then key=value pairs', () => {
    expect(
      command('schedule weekly-signups every monday at 09:00 tz Europe/Berlin in <#C0GROWTH|growth>'),
    ).toEqual({
      kind: 'command',
      name: 'schedule',
      args: {
        name: 'weekly-signups',
        when: 'every monday at 09:00 tz Europe/Berlin',
        channel: '<#C0GROWTH|growth>',
        values: {},
      },
    });
    expect(command('schedule by-country “0 9 * * 1” in <#123456789012345678> country=DE')).toMatchObject({
      name: 'schedule',
      args: { when: '“0 9 * * 1”', channel: '<#123456789012345678>', values: { country: 'DE' } },
    });
  });

  it('a command that is clearly meant but malformed says how to write it', () => {
    expect(command('schedule weekly-signups daily at 09:00')).toMatchObject({
      kind: 'invalid',
      name: 'schedule',
      usage: 'schedule <name> <when> in <channel> [key=value …]',
    });
    expect(command('migrate x\n```CREATE INDEX i ON t (a)```')).toMatchObject({
      kind: 'invalid',
      name: 'migrate',
    });
    expect(command('save as my report')).toMatchObject({ kind: 'invalid', name: 'save' });
    expect(command('pause')).toMatchObject({ kind: 'invalid', name: 'pause' });
    expect(command('migrations export csv')).toMatchObject({ kind: 'invalid', name: 'migrations' });
  });

  it.each([
    'run the numbers for last week',
    'schedule of deliveries last week',
    'template for monthly revenue?',
    'use the orders table to count signups',
    'connections per country',
    'delete the test customers',
    'migrate customers from the free plan to pro',
    'rollback of orders in march',
    'access logs by day',
    'as of today, how many orders?',
  ])('a question that begins like a command stays a question: %s', (text) => {
    expect(command(text)).toEqual({ kind: 'command', name: 'question', args: { text } });
  });

  it('`as <name>` exists only in the shell', () => {
    expect(command('as bob', 'shell')).toEqual({ kind: 'command', name: 'as', args: { name: 'bob' } });
    expect(command('as bob', 'slack')).toEqual({
      kind: 'command',
      name: 'question',
      args: { text: 'as bob' },
    });
  });

  it('help is generated from the grammar: every usage once, filtered by platform and by what is available', () => {
    const all = helpText('shell');
    for (const entry of GRAMMAR) expect(all).toContain(`\`${entry.usage}\``);
    expect(helpText('slack')).not.toContain('`as <name>`');
    const some = helpText('slack', (name) => name === 'question' || name === 'schema');
    expect(some).toContain('`schema [table …]`');
    expect(some).not.toContain('`run <name>');
    expect(some).not.toContain('*Templates*');
  });

  it('every grammar entry has a distinct name', () => {
    const names = GRAMMAR.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('grammar tokens', () => {
  it('fenced blocks: language tags are dropped, one-line fences kept whole', () => {
    expect(fencedBlocks('```sql\nSELECT 1\n```')).toEqual(['SELECT 1']);
    expect(fencedBlocks('```SELECT 1```')).toEqual(['SELECT 1']);
    expect(fencedBlocks('a ```json\n{"a": 1}\n``` b ```\nSELECT 2\n```')).toEqual(['{"a": 1}', 'SELECT 2']);
    expect(fencedBlocks('no code')).toEqual([]);
  });

  it('key=value pairs with straight and typographic quotes; anything else is not a list of pairs', () => {
    expect(keyValues(['a=1', 'b="x', 'y"', "c='z'", 'd=“q r”', 'e=""'])).toEqual({
      a: '1',
      b: 'x y',
      c: 'z',
      d: 'q r',
      e: '',
    });
    expect(keyValues(['a=1', 'oops'])).toBeUndefined();
    expect(keyValues(['a="unterminated'])).toBeUndefined();
    expect(keyValues([])).toEqual({});
  });
});
