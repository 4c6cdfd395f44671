import { toDiscordMarkdown, withoutSlackEmphasis } from '../../bot/discord/discord-markdown.ts';
import { replyToDiscord } from '../../bot/discord/reply-to-discord.ts';
import { confirmCardReply, needsApprovalReply, textReply } from '../../core/conversation/build-replies.ts';
import { helpText } from '../../core/conversation/chat-grammar.ts';

test('Slack *bold* becomes Discord **bold**; SQL stars, code spans and fences are left alone', () => {
  expect(toDiscordMarkdown('This thread now uses *shop*.')).toBe('This thread now uses **shop**.');
  expect(toDiscordMarkdown('*threadql* turns questions into SQL, click *Run*.')).toBe(
    '**threadql** turns questions into SQL, click **Run**.',
  );
  expect(toDiscordMarkdown('classified as *write*, so (*not run*)')).toBe(
    'classified as **write**, so (**not run**)',
  );
  expect(toDiscordMarkdown('SELECT * FROM t; count(*) and 2 * 3 * 4')).toBe(
    'SELECT * FROM t; count(*) and 2 * 3 * 4',
  );
  expect(toDiscordMarkdown('already **bold** stays')).toBe('already **bold** stays');
  expect(toDiscordMarkdown('paste `SELECT *a* FROM t` then *Run*')).toBe(
    'paste `SELECT *a* FROM t` then **Run**',
  );
  expect(toDiscordMarkdown('*x*\n```sql\nSELECT *y* FROM t\n```\n*z*')).toBe(
    '**x**\n```sql\nSELECT *y* FROM t\n```\n**z**',
  );
  expect(toDiscordMarkdown('a*b*c stays (not at a word edge)')).toBe('a*b*c stays (not at a word edge)');
  expect(withoutSlackEmphasis('connection *shop* · read')).toBe('connection shop · read');
});

test('the engine’s replies reach Discord with bold as **…**, and embed footers without stars', () => {
  const help = replyToDiscord(textReply(helpText('discord'))).body.content;
  expect(help).toContain('**threadql** turns questions into SQL');
  expect(help).toContain('click **Run**.');
  expect(help).not.toMatch(/(^|[^*])\*threadql\*/);

  const verdict = { verdict: 'write', statements: [], reasons: ['UPDATE changes rows'] } as const;
  const blocked = replyToDiscord(needsApprovalReply('UPDATE t SET a = 1', verdict as never, 'shop')).body;
  expect(blocked.embeds[0]!.description).toContain('classified as **write**');
  expect(blocked.embeds[0]!.footer!.text).toBe('connection shop · UPDATE changes rows');

  const card = replyToDiscord(
    confirmCardReply({
      confirmation: {
        id: 'tok',
        sql: 'SELECT * FROM orders',
        explanation: 'All *orders*.',
        connectionName: 'shop',
        verdict: 'read',
      } as never,
    }),
  ).body;
  expect(card.embeds[0]!.description).toBe('All **orders**.\n```sql\nSELECT * FROM orders\n```');
  expect(card.embeds[0]!.footer!.text).toBe('connection shop · read');
});
