/**
 * Migrations end to end through Slack: the real Bolt app (HTTP mode) against the loopback fake Web API, a real
 * threadql on the embedded sample SQLite database (it has an `orders` table) with a warm Chromium for the ERD.
 * A pasted migration gets a card with its verification and an ERD PNG; a requester's request and an approver's
 * approval apply it (the index exists in the database file); `migrations` lists it applied; a migration whose down
 * does not undo its up fails verification and cannot be requested; `rollback` removes the index after approval.
 */
import Database from 'better-sqlite3';
import { FakeAnthropicServer, toolCallReply } from '../fakes/fake-anthropic-server.ts';
import type { RecordedCall } from '../fakes/fake-slack-api.ts';
import { SlackHarness } from '../support/slack-harness.ts';

type Block = { type: string; elements?: Record<string, unknown>[] } & Record<string, unknown>;

const anthropic = new FakeAnthropicServer({ apiKey: 'sk-slack-migrations' });
let h: SlackHarness;
let dbFile: string;

beforeAll(async () => {
  const { url } = await anthropic.start();
  h = await SlackHarness.start('slack-migrations', {
    env: { ANTHROPIC_API_KEY: 'sk-slack-migrations', ANTHROPIC_BASE_URL: url },
    yaml: 'connections: []\napprovers:\n  slack: ["U0BOB", "U0CAROL"]\n',
    erdBrowser: true,
  });
  h.fake.setUser('U0ALICE', { display_name: 'Alice' });
  h.fake.setUser('U0BOB', { display_name: 'Bob' });
  dbFile = h.threadql.connections.list()[0]!.url;
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

function indexNames(): string[] {
  const db = new Database(dbFile, { readonly: true });
  try {
    return (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders'").all() as {
        name: string;
      }[]
    ).map((r) => r.name);
  } finally {
    db.close();
  }
}

/** Sends a message (a mention starting a thread, or one in `threadTs`) and waits for threadql to finish. */
async function say(text: string, options: { user?: string; threadTs?: string } = {}): Promise<string> {
  const event = h.mention(text, options);
  expect(await h.event(event)).toBe(200);
  await h.settle();
  return options.threadTs ?? String(event.ts);
}

/** The latest state of the message posted as `call`. */
function latest(call: RecordedCall): RecordedCall {
  return h.updatesOf(h.tsOf(call)).at(-1) ?? call;
}

async function click(call: RecordedCall, threadTs: string, action: string, user: string): Promise<void> {
  const current = latest(call);
  const value = buttonsOf(current)[`threadql:${action}`];
  if (value === undefined) throw new Error(`no ${action} button on ${textOf(current)}`);
  expect(
    await h.click({ messageTs: h.tsOf(call), threadTs, actionId: `threadql:${action}`, value, user }),
  ).toBe(200);
  await h.settle();
}

const fence = '```';

describe('migrations in Slack on the sample database', () => {
  let threadTs: string;
  let card: RecordedCall;
  let version: string;

  it('a pasted migration gets a card with its verification result, checksum, buttons and an ERD PNG', async () => {
    const uploadsBefore = h.fake.callsOf('files.getUploadURLExternal').length;
    threadTs = await say(
      `migrate add_orders_status_index\n${fence}sql\nCREATE INDEX orders_status_idx ON orders (status);\n${fence}\n${fence}sql\nDROP INDEX orders_status_idx;\n${fence}`,
    );
    card = h.postsIn(threadTs)[0]!;
    const shown = latest(card);
    const text = textOf(shown);
    version = /`(\d{14}_add_orders_status_index)`/.exec(text)?.[1] ?? '';
    expect(version).not.toBe('');
    expect(text).toContain('CREATE INDEX orders_status_idx ON orders (status);');
    expect(text).toContain('DROP INDEX orders_status_idx;');
    expect(text).toContain('*Verified* in a transaction on *sample* that was rolled back');
    expect(text).toContain('adds index orders_status_idx on orders (status)');
    expect(text).toMatch(
      /up: ddl \(CREATE INDEX\) · down: ddl \(DROP INDEX\) · checksum [0-9a-f]{12}… · proposed by Alice/,
    );
    expect(Object.keys(buttonsOf(shown)).sort()).toEqual([
      'threadql:migration_cancel',
      'threadql:migration_edit',
      'threadql:migration_request',
    ]);
    // The before/after ERD went up as a PNG into this thread.
    const uploads = h.fake.callsOf('files.getUploadURLExternal').slice(uploadsBefore);
    expect(uploads.map((u) => u.args.filename)).toEqual([`migration-${version}.png`]);
    const png = h.fake.uploads.at(-1)!.data;
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    // Verification ran inside a transaction that was rolled back: nothing changed yet.
    expect(indexNames()).not.toContain('orders_status_idx');
  });

  it('applies it once after a requester asks and an approver approves; the proposer and strangers cannot', async () => {
    await click(card, threadTs, 'migration_request', 'U0ALICE');
    const approval = h.postsIn(threadTs).at(-1)!;
    expect(textOf(approval)).toContain(`to apply migration \`${version}\` on *sample*, requested by Alice`);
    // The approvers are mentioned (so Slack notifies them); the text says how many approvals it needs.
    expect(textOf(approval)).toContain('<@U0BOB> <@U0CAROL>');
    expect(textOf(approval)).toContain('1 approval needed from the approvers');
    expect(Object.keys(buttonsOf(approval)).sort()).toEqual([
      'threadql:migration_approve',
      'threadql:migration_reject',
    ]);
    expect(Object.keys(buttonsOf(latest(card)))).not.toContain('threadql:migration_request');

    await click(approval, threadTs, 'migration_approve', 'U0ALICE');
    await click(approval, threadTs, 'migration_approve', 'U0MALLORY');
    const refusals = h.ephemeralsIn(threadTs).map((c) => String(c.args.text));
    expect(refusals).toEqual([
      `You proposed ${version}, so someone else has to approve it.`,
      'Only an approver can decide this.',
    ]);
    expect(indexNames()).not.toContain('orders_status_idx');

    await click(approval, threadTs, 'migration_approve', 'U0BOB');
    expect(indexNames()).toContain('orders_status_idx');
    const said = h.postsIn(threadTs).map((c) => String(c.args.text ?? '') + textOf(c));
    expect(
      said.some(
        (t) => t.includes(`Migration \`${version}\` applied on *sample*`) && t.includes('approved by Bob'),
      ),
    ).toBe(true);
    // Bob's approval applied it: the card names him once.
    expect(textOf(latest(card))).toMatch(/\*Applied\* at .* on the approval of Bob\./);
    expect(Object.keys(buttonsOf(latest(card)))).toEqual(['threadql:migration_rollback']);
    // The approval card no longer asks for an approval once it was given and applied.
    const settled = latest(approval);
    expect(textOf(settled)).not.toContain('Approval needed');
    expect(String(settled.args.text)).not.toContain('Approval needed');
    expect(textOf(settled)).toContain(
      `*Change request* by Alice: apply migration \`${version}\` on *sample*`,
    );
    expect(Object.keys(buttonsOf(settled))).toEqual([]);
    // A second click by another approver after the fact changes nothing.
    await click(approval, threadTs, 'migration_approve', 'U0CAROL').catch(() => undefined);
    expect(indexNames().filter((n) => n === 'orders_status_idx')).toHaveLength(1);

    await say('migrations', { threadTs });
    const list = textOf(h.postsIn(threadTs).at(-1)!) + textOf(latest(h.postsIn(threadTs).at(-1)!));
    expect(list).toContain(version);
    expect(list).toContain('applied');
    expect(list).toContain('No drift');
    expect(list).toContain('(1 history row)');
    expect(String(latest(h.postsIn(threadTs).at(-1)!).args.text)).toContain(
      '1 migration on sample (1 applied)',
    );

    const before = h.fake.uploads.length;
    await say('migrations export flyway', { threadTs });
    const files = h.fake.uploads.slice(before);
    expect(files.map((f) => f.filename)).toEqual([
      `V${version.slice(0, 14)}__add_orders_status_index.sql`,
      `U${version.slice(0, 14)}__add_orders_status_index.sql`,
    ]);
    expect(files[0]!.data.toString('utf8')).toContain('CREATE INDEX orders_status_idx ON orders (status);');
    expect(files[1]!.data.toString('utf8')).toContain('DROP INDEX orders_status_idx;');
  });

  it('shows a migration whose down does not undo its up as failing verification, and refuses to request it', async () => {
    const bad = await say(
      `migrate two_indexes\n${fence}sql\nCREATE INDEX orders_total_idx ON orders (total_cents);\nCREATE INDEX orders_country_idx ON orders (shipping_country);\n${fence}\n${fence}sql\nDROP INDEX orders_country_idx;\n${fence}`,
    );
    const badCard = h.postsIn(bad)[0]!;
    const text = textOf(latest(badCard));
    expect(text).toContain('*Verification failed*');
    expect(text).toContain('down leaves index orders_total_idx behind');
    const buttons = buttonsOf(latest(badCard));
    expect(Object.keys(buttons).sort()).toEqual(['threadql:migration_cancel', 'threadql:migration_edit']);
    // A request sent anyway (a stale card, a crafted click) is refused in words.
    expect(
      await h.click({
        messageTs: h.tsOf(badCard),
        threadTs: bad,
        actionId: 'threadql:migration_request',
        value: buttons['threadql:migration_edit']!,
        user: 'U0ALICE',
      }),
    ).toBe(200);
    await h.settle();
    expect(textOf(h.postsIn(bad).at(-1)!)).toContain('failed verification, so approval cannot be requested');
    expect(indexNames()).not.toContain('orders_total_idx');
  });

  it('rolls the migration back with `rollback` in its thread after an approval', async () => {
    await say('rollback', { threadTs });
    const approval = h.postsIn(threadTs).at(-1)!;
    expect(textOf(approval)).toContain(`to roll back migration \`${version}\``);
    expect(textOf(latest(card))).toContain('Alice asked for approval to roll it back.');
    await click(approval, threadTs, 'migration_approve', 'U0BOB');
    expect(indexNames()).not.toContain('orders_status_idx');
    expect(textOf(latest(card))).toContain('*Rolled back* by Bob');
    expect(textOf(latest(approval))).toContain(
      `*Change request* by Alice: roll back migration \`${version}\``,
    );

    // Rolled back, and the other one failed verification: nothing a pipeline could run.
    await say('migrations export flyway', { threadTs });
    expect(textOf(h.postsIn(threadTs).at(-1)!) + textOf(latest(h.postsIn(threadTs).at(-1)!))).toContain(
      'Nothing to export',
    );
  });

  it('asked in words, Claude proposes the migration through its tool and it gets the same verified card', async () => {
    anthropic.enqueue(
      toolCallReply('propose_migration', {
        description: 'Add an index on orders(shipping_country)',
        name: 'add_orders_country_index',
        up: 'CREATE INDEX orders_country_idx ON orders (shipping_country)',
        down: 'DROP INDEX orders_country_idx',
      }),
    );
    const asked = await say('add an index on orders(shipping_country)');
    const shown = latest(h.postsIn(asked)[0]!);
    expect(textOf(shown)).toMatch(/`\d{14}_add_orders_country_index`/);
    expect(textOf(shown)).toContain('Add an index on orders(shipping_country)');
    expect(textOf(shown)).toContain('*Verified*');
    expect(textOf(shown)).toContain('proposed by Alice (written by Claude)');
    expect(Object.keys(buttonsOf(shown))).toContain('threadql:migration_request');
    // Claude was offered the tool and told when to use it.
    const request = anthropic.requests.at(-1)!.body as { tools: { name: string }[] };
    expect(request.tools.map((t) => t.name)).toContain('propose_migration');
    expect(indexNames()).not.toContain('orders_country_idx');
  });

  it('recorded every step in QueryHistory (type migration) and AuditEvents', async () => {
    const models = h.threadql.store.models;
    const history = await models
      .QueryHistory!.find({ type: 'migration' })
      .lean<{ userInput: string; executionStatus: string }[]>();
    const inputs = history.map((e) => e.userInput);
    expect(inputs).toEqual(
      expect.arrayContaining([
        'migrate add_orders_status_index',
        'migrations',
        `apply ${version}`,
        `rollback ${version}`,
        'migrations export flyway',
        'add an index on orders(shipping_country)',
      ]),
    );
    const actions = (await models.AuditEvent!.find({}).lean<{ action: string }[]>()).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'migration.propose',
        'migration.request_apply',
        'approval.request',
        'approval.refused',
        'approval.approve',
        'approval.execute',
        'migration.apply',
        'migration.request_rollback',
        'migration.rollback',
        'migration.list',
        'migration.export',
        'turn.failed',
      ]),
    );
  });
});
