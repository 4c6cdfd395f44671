/**
 * Writes through approval, end to end through the real discord.js client against the loopback fake Discord, on the
 * embedded sample database, with the real Anthropic SDK against the scripted fake model. Approvers: ann by user id
 * and the guild role `dba` (bob holds it, and so does the asker alice, who still cannot approve her own request).
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { FakeAnthropicServer, toolUseReply } from '../fakes/fake-anthropic-server.ts';
import type { FakeUser, JsonRecord } from '../fakes/fake-discord.ts';
import { DiscordHarness } from '../support/discord-harness.ts';

const anthropic = new FakeAnthropicServer({ apiKey: 'sk-discord-approvals' });
let h: DiscordHarness;
let sample: Database.Database;
let ann: FakeUser;
let bob: FakeUser;

beforeAll(async () => {
  const { url } = await anthropic.start();
  let annId = '';
  h = await DiscordHarness.start('discord-approvals', {
    env: { ANTHROPIC_API_KEY: 'sk-discord-approvals', ANTHROPIC_BASE_URL: url },
    yaml: (fake) => {
      annId = fake.user('ann').id;
      return `connections: []\napprovers:\n  discord: ["${annId}", "${fake.dbaRoleId}"]\napprovals:\n  classes: { ddl: 2 }\n`;
    },
  });
  ann = { ...h.fake.user('ann'), id: annId };
  bob = h.fake.user('bob');
  sample = new Database(join(h.dataDir, 'sample', 'shop.db'));
});
afterAll(async () => {
  sample?.close();
  await h?.close();
  await anthropic.close();
});

const dba = (): string[] => [h.fake.dbaRoleId];
const scalar = (sql: string): number => Number(sample.prepare(sql).pluck().get() ?? 0);
const descriptionOf = (m: JsonRecord): string => String(m.embeds?.[0]?.description ?? '');
const footerOf = (m: JsonRecord): string => String(m.embeds?.[0]?.footer?.text ?? '');

/** `user` clicks `action` on a message (with roles); resolves once it was answered and handled. */
async function click(messageId: string, action: string, user: FakeUser, roles: string[] = []) {
  // The id from the card as first posted: a settled card has no buttons left to read it from.
  const customId = ids.get(`${messageId}:${action}`) ?? h.customIdOf(messageId, action);
  const interaction = h.fake.clickButton({ messageId, customId, user, roles });
  await h.until(() => h.callbacksOf(interaction).length > 0, `the ${action} click`);
  return interaction;
}

/** The ephemeral text an interaction was answered with (first answer or a follow-up). */
function ephemeralOf(interaction: { id: string; token: string }): string {
  const answers = [
    ...h.callbacksOf(interaction).map((c) => c.body?.data),
    ...h.followUpsOf(interaction).map((c) => c.body),
  ];
  return answers
    .filter((a) => a && Number(a.flags) & 64)
    .map((a) => String(a.content))
    .join('\n');
}

/** Alice asks (Claude answers with `sql`, or the text is pasted SQL); returns the thread and its write card. */
async function writeCard(question: string, sql?: string) {
  if (sql) anthropic.enqueue(toolUseReply(sql, { explanation: `Answers: ${question}` }));
  const thread = await h.mention(question, h.alice);
  const [card] = h.botMessagesIn(thread);
  return { thread, cardId: card!.id as string, card: card! };
}

const ids = new Map<string, string>();

async function requestApproval(thread: string, cardId: string) {
  await click(cardId, 'approval_request', h.alice, dba());
  const approval = h.botMessagesIn(thread).at(-1)!;
  for (const [action, id] of Object.entries(h.buttonsOf(approval)))
    ids.set(`${String(approval.id)}:${action}`, id);
  return { approval, approvalId: approval.id as string };
}

describe('Discord: writes through approval on the sample database', () => {
  it('write card → request → approval card pinging ann and @dba → own and stranger Approve change nothing → two approvers at once run it once', async () => {
    const category = String(sample.prepare('SELECT category FROM products LIMIT 1').pluck().get());
    const count = scalar(`SELECT count(*) FROM products WHERE category = '${category}'`);
    const sum = () => scalar(`SELECT sum(price_cents) FROM products WHERE category = '${category}'`);
    const before = sum();
    const sql = `UPDATE products SET price_cents = price_cents + 100 WHERE category = '${category}'`;
    const { thread, cardId, card } = await writeCard(`raise ${category} prices by a dollar`, sql);
    expect(footerOf(card)).toContain(`connection sample · write · dry run: would change ${count} rows`);
    expect(Object.keys(h.buttonsOf(card)).sort()).toEqual(['approval_request', 'cancel', 'edit']);

    const { approval, approvalId } = await requestApproval(thread, cardId);
    expect(String(approval.content).split('\n')[0]).toBe(`<@${ann.id}> <@&${h.fake.dbaRoleId}>`);
    const posted = h.postsIn(thread).at(-1)!;
    expect(posted.body.allowed_mentions).toEqual({ parse: [], users: [ann.id], roles: [h.fake.dbaRoleId] });
    expect(descriptionOf(approval)).toMatch(/asks to run this write statement on \*\*sample\*\*/);
    expect(Object.keys(h.buttonsOf(approval)).sort()).toEqual(['approval_edit', 'approve', 'reject']);

    // Alice holds the approver role, yet cannot approve her own request; mallory is nobody.
    expect(ephemeralOf(await click(approvalId, 'approve', h.alice, dba()))).toBe(
      'You requested this change, so someone else has to approve it.',
    );
    expect(ephemeralOf(await click(approvalId, 'approve', h.mallory))).toBe(
      'Only an approver can decide this.',
    );
    expect(sum()).toBe(before);

    const customId = h.customIdOf(approvalId, 'approve');
    const clicks = [
      h.fake.clickButton({ messageId: approvalId, customId, user: ann }),
      h.fake.clickButton({ messageId: approvalId, customId, user: bob, roles: dba() }),
    ];
    await h.until(() => clicks.every((c) => h.callbacksOf(c).length > 0), 'both approvals');
    expect(sum()).toBe(before + 100 * count);
    const result = h.botMessagesIn(thread).at(-1)!;
    expect(String(result.content)).toContain(`**Executed** on **sample**: ${count} rows affected in`);
    expect(String(result.content)).toMatch(/requested by alice · approved by (ann|bob)/);
    expect(footerOf(h.message(approvalId))).toContain(`executed: ${count} rows affected`);
    expect(h.buttonsOf(h.message(approvalId))).toEqual({});
  });

  it('Reject opens a modal for the optional reason; the card says who rejected and why', async () => {
    const before = scalar('SELECT count(*) FROM support_tickets');
    const { thread, cardId } = await writeCard('DELETE FROM support_tickets WHERE closed_at IS NOT NULL');
    const { approvalId } = await requestApproval(thread, cardId);
    const opened = await click(approvalId, 'reject', ann);
    const modal = h.callbacksOf(opened)[0]!.body;
    expect(modal.type).toBe(9);
    expect(modal.data.custom_id).toMatch(/^threadql:reject_reason:/);
    const submit = h.fake.submitModal({
      customId: String(modal.data.custom_id),
      fields: { reason: 'keep them for the audit' },
      user: ann,
      messageId: approvalId,
    });
    await h.until(() => h.callbacksOf(submit).length > 0, 'the reject submit');
    expect(footerOf(h.message(approvalId))).toContain('rejected by ann: keep them for the audit');
    expect(ephemeralOf(await click(approvalId, 'approve', bob, dba()))).toBe(
      'This request was rejected; it can no longer be approved.',
    );
    expect(scalar('SELECT count(*) FROM support_tickets')).toBe(before);
  });

  it('Edit SQL supersedes the request; the old card cannot run the new statement', async () => {
    const before = scalar("SELECT count(*) FROM customers WHERE plan = 'enterprise'");
    const { thread, cardId } = await writeCard("UPDATE customers SET plan = 'enterprise' WHERE plan = 'pro'");
    const { approvalId } = await requestApproval(thread, cardId);
    const opened = await click(approvalId, 'approval_edit', h.alice, dba());
    const modal = h.callbacksOf(opened)[0]!.body;
    const edited = "UPDATE customers SET plan = 'enterprise' WHERE plan = 'pro' AND country = 'FR'";
    const submit = h.fake.submitModal({
      customId: String(modal.data.custom_id),
      fields: { sql: edited },
      user: h.alice,
      messageId: approvalId,
    });
    await h.until(() => h.callbacksOf(submit).length > 0, 'the edit submit');
    expect(footerOf(h.message(approvalId))).toContain('superseded: alice edited the statement');
    const fresh = h.botMessagesIn(thread).at(-1)!;
    expect(descriptionOf(fresh)).toContain("country = 'FR'");
    expect(ephemeralOf(await click(approvalId, 'approve', ann))).toMatch(/replaced by an edited one/);
    expect(scalar("SELECT count(*) FROM customers WHERE plan = 'enterprise'")).toBe(before);
    const french = scalar("SELECT count(*) FROM customers WHERE plan = 'pro' AND country = 'FR'");
    await click(fresh.id as string, 'approve', ann);
    expect(scalar("SELECT count(*) FROM customers WHERE plan = 'enterprise'")).toBe(before + french);
  });

  it('DDL needs two distinct approvers', async () => {
    const index = `products_category_idx_${Date.now()}`;
    const { thread, cardId } = await writeCard(`CREATE INDEX ${index} ON products (category)`);
    const { approvalId } = await requestApproval(thread, cardId);
    await click(approvalId, 'approve', ann);
    expect(footerOf(h.message(approvalId))).toContain('approved by ann (1 of 2); waiting for 1 more');
    expect(scalar(`SELECT count(*) FROM sqlite_master WHERE name = '${index}'`)).toBe(0);
    await click(approvalId, 'approve', bob, dba());
    expect(scalar(`SELECT count(*) FROM sqlite_master WHERE name = '${index}'`)).toBe(1);
  });
});
