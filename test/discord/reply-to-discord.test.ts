import type { Button, Reply } from '../../core/conversation/chat-platform.ts';
import { ConfigError, PlatformError } from '../../core/errors.ts';
import { discordPlatformOptions } from '../../bot/discord/discord-platform-options.ts';
import { decodeCustomId, encodeCustomId } from '../../bot/discord/custom-id.ts';
import { modalToDiscord } from '../../bot/discord/modal-to-discord.ts';
import { replyToDiscord } from '../../bot/discord/reply-to-discord.ts';
import { redactDiscordUrl } from '../../bot/discord/to-platform-error.ts';

const buttons = (n: number): Button[] =>
  Array.from({ length: n }, (_, i) => ({ action: 'pick', label: `Option ${i + 1}`, value: String(i) }));

function embedTextLength(reply: Reply): number {
  return replyToDiscord(reply).body.embeds.reduce(
    (sum, e) => sum + (e.description?.length ?? 0) + (e.footer?.text.length ?? 0) + (e.title?.length ?? 0),
    0,
  );
}

test('custom ids round-trip, keep colons in the value, and refuse anything over 100 characters', () => {
  expect(encodeCustomId('run', 'tok:1:2')).toBe('threadql:run:tok:1:2');
  expect(decodeCustomId('threadql:run:tok:1:2')).toEqual({ action: 'run', value: 'tok:1:2' });
  expect(decodeCustomId('other:run:x')).toBeUndefined();
  expect(encodeCustomId('run', 'v'.repeat(100 - 'threadql:run:'.length))).toHaveLength(100);
  expect(encodeCustomId('run', 'v'.repeat(101 - 'threadql:run:'.length))).toBeUndefined();
});

test('30 buttons: 25 in 5 rows of 5, the rest named in a note; duplicates are sent once', () => {
  const draft = replyToDiscord({
    parts: [{ type: 'buttons', buttons: [...buttons(30), buttons(1)[0]!] }],
    fallback: 'x',
  });
  expect(draft.body.components).toHaveLength(5);
  expect(draft.body.components.every((row) => 'components' in row && row.components.length === 5)).toBe(true);
  expect(draft.notes).toEqual(['5 button(s) left out: Discord shows at most 25']);
  expect(draft.body.embeds).toEqual([]);
  expect(draft.body.content).toBe('-# 5 button(s) left out: Discord shows at most 25');
});

test('a button whose id would exceed 100 characters is left out with a note, never sent broken', () => {
  const draft = replyToDiscord({
    parts: [
      { type: 'buttons', buttons: [{ action: 'run', label: 'Run', value: 'x'.repeat(120) }, buttons(1)[0]!] },
    ],
    fallback: 'x',
  });
  const ids = JSON.stringify(draft.body.components).match(/threadql:[^"]+/g);
  expect(ids).toEqual(['threadql:pick:0']);
  expect(draft.notes[0]).toMatch(/button "Run" left out/);
});

test('files: at most 10 a message and none over the upload limit, each named in a note', () => {
  const file = (i: number, size = 10) => ({
    type: 'file' as const,
    file: { filename: `f${i}.csv`, mimeType: 'text/csv', data: Buffer.alloc(size) },
  });
  const draft = replyToDiscord(
    { parts: [file(0, 2048), ...Array.from({ length: 11 }, (_, i) => file(i + 1))], fallback: 'files' },
    { maxUploadBytes: 1024 },
  );
  expect(draft.files.map((f) => f.name)).toEqual([
    'f1.csv',
    'f2.csv',
    'f3.csv',
    'f4.csv',
    'f5.csv',
    'f6.csv',
    'f7.csv',
    'f8.csv',
    'f9.csv',
    'f10.csv',
  ]);
  expect(draft.body.attachments.map((a) => a.id)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  expect(draft.notes).toEqual([
    'f0.csv left out: 2 KB is over the 1 KB upload limit',
    'f11.csv left out: Discord allows 10 files a message',
  ]);
  expect(draft.body.content).toContain('-# f11.csv left out');
});

test('a card keeps its notes in the embed footer, after the context line', () => {
  const draft = replyToDiscord({
    parts: [
      { type: 'code', code: 'SELECT 1', language: 'sql' },
      { type: 'context', text: 'shop · read' },
      { type: 'buttons', buttons: buttons(26) },
    ],
    fallback: 'x',
  });
  expect(draft.body.embeds[0]!.footer!.text).toBe(
    'shop · read\n1 button(s) left out: Discord shows at most 25',
  );
});

test('backticks in data cannot break out of a code block', () => {
  const draft = replyToDiscord({
    parts: [{ type: 'code', code: "SELECT '```' AS fence", language: 'sql' }],
    fallback: 'x',
  });
  const description = draft.body.embeds[0]!.description!;
  expect(description.match(/```/g)).toHaveLength(2);
  expect(description.startsWith('```sql\n')).toBe(true);
});

test('an empty reply still sends something: its fallback text', () => {
  expect(replyToDiscord({ parts: [], fallback: 'Working…' }).body.content).toBe('Working…');
});

test('the embed stays within 6,000 characters even with a maximal description and footer', () => {
  const reply: Reply = {
    parts: [
      { type: 'code', code: 'x'.repeat(10_000), language: 'sql' },
      { type: 'context', text: 'y'.repeat(5_000) },
    ],
    fallback: 'x',
  };
  const draft = replyToDiscord(reply);
  expect(draft.body.embeds[0]!.description!.length).toBeLessThanOrEqual(4096);
  expect(draft.body.embeds[0]!.footer!.text.length).toBeLessThanOrEqual(2048);
  expect(embedTextLength(reply)).toBeLessThanOrEqual(6000);
});

test('mentions in results never ping: allowed_mentions parses nothing', () => {
  expect(
    replyToDiscord({ parts: [{ type: 'text', text: '@everyone <@123>' }], fallback: 'x' }).body
      .allowed_mentions,
  ).toEqual({ parse: [] });
});

test('modal: refuses an SQL longer than a Discord text box rather than cutting it', () => {
  const spec = { id: 'edit_sql', title: 'Edit SQL', submitLabel: 'Check', value: 'tok' };
  expect(
    modalToDiscord({ ...spec, fields: [{ id: 'sql', label: 'SQL', value: 'SELECT 1', multiline: false }] })
      .components,
  ).toEqual([
    {
      type: 18,
      label: 'SQL',
      component: {
        type: 4,
        custom_id: 'sql',
        style: 1,
        value: 'SELECT 1',
        required: false,
        max_length: 4000,
      },
    },
  ]);
  const tooLong = () =>
    modalToDiscord({
      ...spec,
      fields: [{ id: 'sql', label: 'SQL', value: 'x'.repeat(4001), multiline: true }],
    });
  expect(tooLong).toThrow(PlatformError);
  expect(tooLong).toThrow('"SQL" is 4,001 characters; a Discord text box holds 4,000.');
});

test('interaction and webhook tokens are redacted from URLs', () => {
  expect(
    redactDiscordUrl('https://discord.com/api/v10/webhooks/123/aW50ZXJhY3Rpb24/messages/@original'),
  ).toBe('https://discord.com/api/v10/webhooks/123/[token]/messages/@original');
  expect(redactDiscordUrl('http://x/api/v10/interactions/9/secret.token/callback')).toBe(
    'http://x/api/v10/interactions/9/[token]/callback',
  );
});

test('options come from env and threadql.yml; a missing token or guild list is a config error', () => {
  const env = {
    DISCORD_TOKEN: 'tkn',
    DISCORD_APPLICATION_ID: '123456',
    DISCORD_API_URL: 'http://127.0.0.1:9/api',
  };
  expect(discordPlatformOptions(env, { discord: { commands: 'guild', guildIds: ['42'] } })).toEqual({
    token: 'tkn',
    applicationId: '123456',
    apiUrl: 'http://127.0.0.1:9/api',
    commands: { mode: 'guild', guildIds: ['42'] },
  });
  expect(() =>
    discordPlatformOptions(
      { ...env, DISCORD_TOKEN: undefined },
      { discord: { commands: 'global', guildIds: [] } },
    ),
  ).toThrow(ConfigError);
  expect(() => discordPlatformOptions(env, { discord: { commands: 'guild', guildIds: [] } })).toThrow(
    /discord.guildIds/,
  );
});

test('mentions ping from the content, only the ids named, roles told apart from users', () => {
  const draft = replyToDiscord(
    {
      parts: [
        { type: 'text', text: 'Approval needed @everyone <@999>' },
        { type: 'code', code: 'UPDATE t SET a = 1', language: 'sql' },
      ],
      fallback: 'Approval needed',
      mentions: ['111', '222'],
    },
    { isRole: (id) => id === '222' },
  );
  expect(draft.body.content.split('\n')[0]).toBe('<@111> <@&222>');
  expect(draft.body.allowed_mentions).toEqual({ parse: [], users: ['111'], roles: ['222'] });
  // The card's own text stays in the embed, where nothing pings.
  expect(draft.body.embeds[0]?.description).toContain('@everyone');
  const plain = replyToDiscord({ parts: [{ type: 'text', text: 'hi' }], fallback: 'hi' });
  expect(plain.body.allowed_mentions).toEqual({ parse: [] });
});

test('an optional modal field is not required', () => {
  const modal = modalToDiscord({
    id: 'reject_reason',
    title: 'Reject',
    submitLabel: 'Reject',
    value: 'r1',
    fields: [{ id: 'reason', label: 'Reason (optional)', value: '', multiline: true, optional: true }],
  });
  const field = (modal.components[0] as unknown as { component: { required: boolean; custom_id: string } })
    .component;
  expect(field).toMatchObject({ custom_id: 'reason', required: false });
});
