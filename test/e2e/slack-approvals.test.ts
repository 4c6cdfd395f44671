/**
 * Writes through approval, end to end through the real Bolt app (HTTP mode) against the loopback fake Web API, on
 * the embedded sample database (SQLite), with the real Anthropic SDK against the scripted fake model. Approvers:
 * U0ANN by id, the user group S0DBAS (U0BOB and the asker U0ALICE are members), and U0ALICE by id too: neither
 * lets Alice approve her own request. U0MALLORY is nobody.
 */
import { createModels } from '../../models/create-models.ts';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { FakeAnthropicServer, toolUseReply } from '../fakes/fake-anthropic-server.ts';
import type { RecordedCall } from '../fakes/fake-slack-api.ts';
import { SlackHarness } from '../support/slack-harness.ts';

type Block = { type: string; text?: { text?: string }; elements?: Record<string, unknown>[] };

const anthropic = new FakeAnthropicServer({ apiKey: 'sk-slack-approvals' });
let clock = new Date('2031-05-04T09:00:00Z');
let h: SlackHarness;
let sample: Database.Database;

beforeAll(async () => {
  const { url } = await anthropic.start();
  h = await SlackHarness.start('slack-approvals', {
    env: { ANTHROPIC_API_KEY: 'sk-slack-approvals', ANTHROPIC_BASE_URL: url },
    yaml: [
      'connections: []',
      'approvers:',
      '  slack: ["U0ANN", "S0DBAS", "U0ALICE"]',
      'approvals:',
      '  ttl: 1h',
      '  driftTolerance: 0%',
      '  classes: { ddl: 2 }',
      '',
    ].join('\n'),
    now: () => clock,
  });
  h.fake.setUser('U0ALICE', { display_name: 'Alice' });
  h.fake.setUser('U0ANN', { display_name: 'Ann' });
  h.fake.setUser('U0BOB', { display_name: 'Bob' });
  h.fake.setUserGroup('S0DBAS', ['U0BOB', 'U0ALICE']);
  sample = new Database(join(h.dataDir, 'sample', 'shop.db'));
});
afterAll(async () => {
  sample?.close();
  await h?.close();
  await anthropic.close();
});

const blocksOf = (call: RecordedCall): Block[] => (call.args.blocks as Block[] | undefined) ?? [];
const textOf = (call: RecordedCall): string => JSON.stringify(blocksOf(call));
function buttonsOf(call: RecordedCall): Record<string, string> {
  const buttons: Record<string, string> = {};
  for (const block of blocksOf(call))
    if (block.type === 'actions')
      for (const el of block.elements ?? []) buttons[String(el.action_id)] = String(el.value);
  return buttons;
}
const scalar = (sql: string): number => Number((sample.prepare(sql).pluck().get() as number) ?? 0);
const priceSum = (category: string): number =>
  scalar(`SELECT sum(price_cents) FROM products WHERE category = '${category}'`);

/** A write question (Claude writes `sql`), or pasted SQL: the write card, its thread and message. */
async function writeCard(question: string, sql?: string) {
  if (sql) anthropic.enqueue(toolUseReply(sql, { explanation: `Answers: ${question}` }));
  const mention = h.mention(question, { user: 'U0ALICE' });
  const threadTs = String(mention.ts);
  expect(await h.event(mention)).toBe(200);
  await h.settle();
  const cardTs = h.tsOf(h.postsIn(threadTs)[0]!);
  return { threadTs, cardTs, card: h.updatesOf(cardTs).at(-1)! };
}

/** Alice's Request approval on a write card: the approval card posted in the thread. */
async function requestApproval(threadTs: string, cardTs: string, card: RecordedCall) {
  const token = buttonsOf(card)['threadql:approval_request']!;
  expect(token).toBeDefined();
  await h.click({
    messageTs: cardTs,
    threadTs,
    actionId: 'threadql:approval_request',
    value: token,
    user: 'U0ALICE',
  });
  await h.settle();
  const approval = h.postsIn(threadTs).at(-1)!;
  return { approval, approvalTs: h.tsOf(approval), requestId: buttonsOf(approval)['threadql:approve']! };
}

async function clickAs(
  user: string,
  action: string,
  threadTs: string,
  approvalTs: string,
  requestId: string,
) {
  return h.click({ messageTs: approvalTs, threadTs, actionId: `threadql:${action}`, value: requestId, user });
}

const lastEphemeralFor = (threadTs: string, user: string): string =>
  String(
    h
      .ephemeralsIn(threadTs)
      .filter((c) => c.args.user === user)
      .at(-1)?.args.text,
  );

describe('Slack: writes through approval on the sample database', () => {
  it('write card → request → own and stranger Approve change nothing → two approvers at once execute exactly once', async () => {
    const category = String(sample.prepare('SELECT category FROM products LIMIT 1').pluck().get());
    const count = scalar(`SELECT count(*) FROM products WHERE category = '${category}'`);
    const before = priceSum(category);
    const sql = `UPDATE products SET price_cents = price_cents + 100 WHERE category = '${category}'`;
    const { threadTs, cardTs, card } = await writeCard(`raise ${category} prices by a dollar`, sql);

    expect(textOf(card)).toContain(`dry run: would change ${count} rows`);
    expect(Object.keys(buttonsOf(card)).sort()).toEqual([
      'threadql:approval_request',
      'threadql:cancel',
      'threadql:edit',
    ]);

    const { approval, approvalTs, requestId } = await requestApproval(threadTs, cardTs, card);
    // The write card settled; the approval card mentions the approvers (not the requester) natively.
    expect(textOf(h.updatesOf(cardTs).at(-1)!)).toContain('Approval requested by Alice');
    const blocks = blocksOf(approval);
    expect(blocks[0]?.text?.text).toBe('<@U0ANN> <!subteam^S0DBAS>');
    expect(String(approval.args.text)).toMatch(/^<@U0ANN> <!subteam\^S0DBAS> /);
    expect(textOf(approval)).toContain('Alice asks to run this write statement on *sample*');
    expect(textOf(approval)).toContain(`dry run: would change ${count} rows`);
    expect(Object.keys(buttonsOf(approval)).sort()).toEqual([
      'threadql:approval_edit',
      'threadql:approve',
      'threadql:reject',
    ]);

    // Alice is listed and in the group, yet cannot approve her own request; Mallory is no approver.
    await clickAs('U0ALICE', 'approve', threadTs, approvalTs, requestId);
    await clickAs('U0MALLORY', 'approve', threadTs, approvalTs, requestId);
    await h.settle();
    expect(lastEphemeralFor(threadTs, 'U0ALICE')).toBe(
      'You requested this change, so someone else has to approve it.',
    );
    expect(lastEphemeralFor(threadTs, 'U0MALLORY')).toBe('Only an approver can decide this.');
    expect(priceSum(category)).toBe(before);

    // Ann (by id) and Bob (by group) click at the same moment: it runs once.
    const statuses = await Promise.all([
      clickAs('U0ANN', 'approve', threadTs, approvalTs, requestId),
      clickAs('U0BOB', 'approve', threadTs, approvalTs, requestId),
    ]);
    expect(statuses).toEqual([200, 200]);
    await h.settle();
    expect(priceSum(category)).toBe(before + 100 * count);
    const result = h.postsIn(threadTs).at(-1)!;
    expect(textOf(result)).toContain(`*Executed* on *sample*: ${count} rows affected in`);
    expect(textOf(result)).toMatch(/requested by Alice · approved by (Ann|Bob) · in one transaction/);
    const executed = textOf(h.updatesOf(approvalTs).at(-1)!);
    expect(executed).toContain(`executed: ${count} rows affected`);
    expect(buttonsOf(h.updatesOf(approvalTs).at(-1)!)).toEqual({});
    // The loser was told, privately, that it already ran.
    const late = [lastEphemeralFor(threadTs, 'U0ANN'), lastEphemeralFor(threadTs, 'U0BOB')];
    expect(late.filter((t) => /already been approved|already recorded/.test(t))).toHaveLength(1);

    // Recorded: audit events for the request, the refusals, the approval and the execution; history entries.
    const audit = await createModels(h.threadql.store)
      .AuditEvent.find({
        target: `ApprovalRequest:${requestId}`,
      })
      .lean();
    expect(audit.map((a) => `${a.action}:${a.outcome}`).sort()).toEqual(
      [
        'approval.approve:success',
        'approval.execute:success',
        'approval.refused:denied',
        'approval.refused:denied',
        'approval.request:success',
      ].sort(),
    );
    const history = await createModels(h.threadql.store)
      .QueryHistory.find({
        session: `slack:T0FAKE:${h.channel}:${threadTs}`,
        type: 'approval',
      })
      .lean();
    expect(history.map((e) => e.executionStatus)).toEqual(['skipped', 'success']);
    expect(history[1]).toMatchObject({ resultCount: count });
  });

  it('Reject takes an optional reason in a modal; a rejected request cannot be approved', async () => {
    const before = scalar('SELECT count(*) FROM support_tickets');
    const { threadTs, cardTs, card } = await writeCard(
      'DELETE FROM support_tickets WHERE closed_at IS NOT NULL',
    );
    const { approvalTs, requestId } = await requestApproval(threadTs, cardTs, card);
    // A stranger never gets the dialog.
    await clickAs('U0MALLORY', 'reject', threadTs, approvalTs, requestId);
    await h.settle();
    expect(lastEphemeralFor(threadTs, 'U0MALLORY')).toBe('Only an approver can decide this.');
    const opened = h.fake.callsOf('views.open').length;
    await clickAs('U0ANN', 'reject', threadTs, approvalTs, requestId);
    await h.settle();
    const open = h.fake.callsOf('views.open').at(-1)!;
    expect(h.fake.callsOf('views.open')).toHaveLength(opened + 1);
    const view = open.args.view as { callback_id: string; blocks: { optional?: boolean }[] };
    expect(view.callback_id).toBe('threadql:reject_reason');
    expect(view.blocks[0]?.optional).toBe(true);
    await h.submitView(open, { reason: 'keep them for the audit' }, 'U0ANN');
    await h.settle();
    expect(textOf(h.updatesOf(approvalTs).at(-1)!)).toContain('rejected by Ann: keep them for the audit');
    expect(textOf(h.postsIn(threadTs).at(-1)!)).toContain('Request rejected: keep them for the audit');
    await clickAs('U0BOB', 'approve', threadTs, approvalTs, requestId);
    await h.settle();
    expect(lastEphemeralFor(threadTs, 'U0BOB')).toBe(
      'This request was rejected; it can no longer be approved.',
    );
    expect(scalar('SELECT count(*) FROM support_tickets')).toBe(before);
  });

  it('Edit SQL on the approval card supersedes it: the old approval can never run the new statement', async () => {
    const before = scalar("SELECT count(*) FROM customers WHERE plan = 'enterprise'");
    const { threadTs, cardTs, card } = await writeCard(
      "UPDATE customers SET plan = 'enterprise' WHERE plan = 'pro'",
    );
    const { approvalTs, requestId } = await requestApproval(threadTs, cardTs, card);
    await clickAs('U0ALICE', 'approval_edit', threadTs, approvalTs, requestId);
    await h.settle();
    const open = h.fake.callsOf('views.open').at(-1)!;
    const edited = "UPDATE customers SET plan = 'enterprise' WHERE plan = 'pro' AND country = 'DE'";
    await h.submitView(open, { sql: edited }, 'U0ALICE');
    await h.settle();
    expect(textOf(h.updatesOf(approvalTs).at(-1)!)).toContain('superseded: Alice edited the statement');
    const newCard = h.postsIn(threadTs).at(-1)!;
    const newId = buttonsOf(newCard)['threadql:approve']!;
    expect(newId).not.toBe(requestId);
    const germanPros = scalar("SELECT count(*) FROM customers WHERE plan = 'pro' AND country = 'DE'");
    expect(textOf(newCard)).toContain(`dry run: would change ${germanPros} rows`);

    await clickAs('U0ANN', 'approve', threadTs, approvalTs, requestId);
    await h.settle();
    expect(lastEphemeralFor(threadTs, 'U0ANN')).toMatch(/replaced by an edited one/);
    expect(scalar("SELECT count(*) FROM customers WHERE plan = 'enterprise'")).toBe(before);

    await clickAs('U0ANN', 'approve', threadTs, h.tsOf(newCard), newId);
    await h.settle();
    expect(scalar("SELECT count(*) FROM customers WHERE plan = 'enterprise'")).toBe(before + germanPros);
  });

  it('DDL needs two distinct approvers (approvals.classes.ddl: 2)', async () => {
    const index = `products_category_idx_${Date.now()}`;
    const exists = () => scalar(`SELECT count(*) FROM sqlite_master WHERE name = '${index}'`);
    const { threadTs, cardTs, card } = await writeCard(`CREATE INDEX ${index} ON products (category)`);
    expect(textOf(card)).toContain('connection *sample* · ddl · dry run: would change 0 rows');
    const { approval, approvalTs, requestId } = await requestApproval(threadTs, cardTs, card);
    expect(textOf(approval)).toContain('It needs 2 approvals');
    await clickAs('U0ANN', 'approve', threadTs, approvalTs, requestId);
    await clickAs('U0ANN', 'approve', threadTs, approvalTs, requestId);
    await h.settle();
    expect(textOf(h.updatesOf(approvalTs).at(-1)!)).toContain('approved by Ann (1 of 2); waiting for 1 more');
    expect(lastEphemeralFor(threadTs, 'U0ANN')).toBe('Your approval was already recorded (1 of 2).');
    expect(exists()).toBe(0);
    await clickAs('U0BOB', 'approve', threadTs, approvalTs, requestId);
    await h.settle();
    expect(exists()).toBe(1);
    expect(textOf(h.postsIn(threadTs).at(-1)!)).toContain('approved by Ann and Bob');
  });

  it('aborts when the data changed since the dry run: the thread is told and the database is untouched', async () => {
    const { threadTs, cardTs, card } = await writeCard(
      "UPDATE orders SET status = 'cancelled' WHERE status = 'pending'",
    );
    const { approvalTs, requestId } = await requestApproval(threadTs, cardTs, card);
    // Someone else adds pending orders behind threadql's back.
    sample.exec(
      "UPDATE orders SET status = 'pending' WHERE id IN (SELECT id FROM orders WHERE status = 'paid' LIMIT 3)",
    );
    const pending = scalar("SELECT count(*) FROM orders WHERE status = 'pending'");
    await clickAs('U0ANN', 'approve', threadTs, approvalTs, requestId);
    await h.settle();
    const told = textOf(h.postsIn(threadTs).at(-1)!);
    expect(told).toContain('the data changed since the dry run, so nothing was changed');
    expect(told).toMatch(/would change \d+ rows, but the dry run measured \d+/);
    // Said once, not three times (headline, the guard's measurement, and its hint again).
    expect(told.match(/nothing (was )?changed/g)).toHaveLength(2);
    expect(told).not.toContain('Ask for a new approval');
    expect(scalar("SELECT count(*) FROM orders WHERE status = 'pending'")).toBe(pending);
    const audit = await createModels(h.threadql.store)
      .AuditEvent.findOne({
        target: `ApprovalRequest:${requestId}`,
        action: 'approval.drift_abort',
      })
      .lean();
    expect(audit).toMatchObject({ outcome: 'failure' });
  });

  it('a statement whose dry run fails (a constraint) says why and offers no approval; the thread keeps working', async () => {
    const { threadTs, card } = await writeCard('UPDATE products SET price_cents = -1');
    expect(textOf(card)).toContain('The dry run failed: SQLite: CHECK constraint failed');
    expect(Object.keys(buttonsOf(card)).sort()).toEqual(['threadql:cancel', 'threadql:edit']);
    expect(scalar('SELECT min(price_cents) FROM products')).toBeGreaterThan(0);
    await h.event(h.threadReply('SELECT count(*) AS n FROM products', threadTs, 'U0ALICE'));
    await h.settle();
    expect(Object.keys(buttonsOf(h.updatesOf(h.tsOf(h.postsIn(threadTs).at(-1)!)).at(-1)!))).toContain(
      'threadql:run',
    );
  });

  it('`approvals` lists what an approver may decide, with permalinks; an expired card answers "expired"', async () => {
    const { threadTs, cardTs, card } = await writeCard(
      'UPDATE products SET active = 0 WHERE price_cents > 100000',
    );
    const { approvalTs, requestId } = await requestApproval(threadTs, cardTs, card);

    const ask = h.mention('approvals', { user: 'U0ANN' });
    await h.event(ask);
    await h.settle();
    const listed = textOfEphemeral(String(ask.ts));
    expect(listed).toContain('Pending approvals you can decide');
    expect(listed).toContain(`https://fake.slack.test/archives/${h.channel}/p${threadTs.replace('.', '')}`);
    const mine = h.mention('approvals', { user: 'U0MALLORY' });
    await h.event(mine);
    await h.settle();
    expect(textOfEphemeral(String(mine.ts))).toContain('You are not an approver here');

    // An hour and a minute later (approvals.ttl: 1h), the sweep expires it and marks its card.
    clock = new Date(clock.getTime() + 61 * 60_000);
    expect(await h.threadql.sweepApprovals()).toBeGreaterThanOrEqual(1);
    expect(textOf(h.updatesOf(approvalTs).at(-1)!)).toContain('expired');
    await clickAs('U0ANN', 'approve', threadTs, approvalTs, requestId);
    await h.settle();
    expect(lastEphemeralFor(threadTs, 'U0ANN')).toBe('This request expired; request a new approval.');
  });
});

function textOfEphemeral(threadTs: string): string {
  return JSON.stringify(h.ephemeralsIn(threadTs).at(-1)?.args.blocks ?? []);
}
