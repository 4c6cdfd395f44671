/**
 * Migrations end to end through Discord: the real discord.js client against the loopback fake REST API and
 * gateway, a real threadql on the embedded sample SQLite database with a warm Chromium for the ERD. A pasted migration gets its card and ERD PNG; a request and a role-holder's approval apply it
 * once; a migration whose down does not undo its up cannot be requested; `rollback <version>` undoes it.
 */
import Database from 'better-sqlite3';
import type { JsonRecord } from '../fakes/fake-discord.ts';
import { userObject } from '../fakes/fake-discord-payloads.ts';
import { DiscordHarness } from '../support/discord-harness.ts';

// Bob's id is fixed so threadql.yml can list him before the fake Discord starts.
const bob = userObject('300000000000000001', 'bob');
let h: DiscordHarness;
let dbFile: string;

beforeAll(async () => {
  h = await DiscordHarness.start('discord-migrations', {
    yaml: `connections: []\napprovers:\n  discord: ["${bob.id}"]\n`,
    erdBrowser: true,
  });
  dbFile = h.threadql.connections.list()[0]!.url;
});
afterAll(async () => {
  await h?.close();
});

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const fence = '```';

/** All a stored message says: content and embeds. */
function said(message: JsonRecord): string {
  return JSON.stringify([message.content ?? '', message.embeds ?? []]);
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

/** A button click by `user`; resolves once it was answered and handled. */
async function click(messageId: string, action: string, user = h.alice) {
  const interaction = h.fake.clickButton({ messageId, customId: h.customIdOf(messageId, action), user });
  await h.until(() => h.callbacksOf(interaction).length > 0, `an answer to ${action}`);
  return interaction;
}

describe('migrations in Discord on the sample database', () => {
  let thread: string;
  let cardId: string;
  let version: string;

  it('a pasted migration gets its card (verification, checksum, buttons) and a before/after ERD PNG', async () => {
    thread = await h.mention(
      `migrate add_orders_status_index\n${fence}sql\nCREATE INDEX orders_status_idx ON orders (status);\n${fence}\n${fence}sql\nDROP INDEX orders_status_idx;\n${fence}`,
    );
    await h.settle();
    const card = h.botMessagesIn(thread)[0]!;
    cardId = card.id as string;
    const text = said(h.message(cardId));
    version = /`(\d{14}_add_orders_status_index)`/.exec(text)?.[1] ?? '';
    expect(version).not.toBe('');
    expect(text).toContain('**Verified** in a transaction on **sample** that was rolled back');
    expect(text).toContain('adds index orders_status_idx on orders (status)');
    expect(Object.keys(h.buttonsOf(h.message(cardId))).sort()).toEqual([
      'migration_cancel',
      'migration_edit',
      'migration_request',
    ]);
    // Discord takes the PNG onto the card itself, as an attachment of the edit.
    const images = h
      .editsOf(cardId)
      .flatMap((c) => c.files)
      .filter((f) => f.filename === `migration-${version}.png`);
    expect(images).toHaveLength(1);
    expect(images[0]!.data.subarray(0, 8)).toEqual(PNG_MAGIC);
    expect(indexNames()).not.toContain('orders_status_idx');
  });

  it('a request and one approval apply it once; the proposer and strangers cannot approve', async () => {
    await click(cardId, 'migration_request');
    const approval = h.botMessagesIn(thread).at(-1)!;
    const approvalId = approval.id as string;
    expect(said(approval)).toContain(`to apply migration \`${version}\` on **sample**`);
    expect(Object.keys(h.buttonsOf(approval)).sort()).toEqual(['migration_approve', 'migration_reject']);

    const own = await click(approvalId, 'migration_approve', h.alice);
    expect(JSON.stringify(h.callbacksOf(own).concat(h.followUpsOf(own)))).toContain(
      `You proposed ${version}, so someone else has to approve it.`,
    );
    const stranger = await click(approvalId, 'migration_approve', h.mallory);
    expect(JSON.stringify(h.callbacksOf(stranger).concat(h.followUpsOf(stranger)))).toContain(
      'Only an approver can decide this.',
    );
    expect(indexNames()).not.toContain('orders_status_idx');

    await click(approvalId, 'migration_approve', bob);
    expect(indexNames()).toContain('orders_status_idx');
    expect(
      h.botMessagesIn(thread).some((m) => said(m).includes(`Migration \`${version}\` applied on **sample**`)),
    ).toBe(true);
    // Bob's approval applied it: the card names him once.
    expect(said(h.message(cardId))).toMatch(/\*\*Applied\*\* at .* on the approval of bob\./);
    expect(Object.keys(h.buttonsOf(h.message(cardId)))).toEqual(['migration_rollback']);

    await h.say(thread, 'migrations');
    await h.settle();
    expect(said(h.botMessagesIn(thread).at(-1)!)).toContain(version);
  });

  it('a migration whose down does not undo its up fails verification and offers no Request approval', async () => {
    const bad = await h.mention(
      `migrate two_indexes\n${fence}sql\nCREATE INDEX orders_total_idx ON orders (total_cents);\nCREATE INDEX orders_country_idx ON orders (shipping_country);\n${fence}\n${fence}sql\nDROP INDEX orders_country_idx;\n${fence}`,
    );
    await h.settle();
    const badCard = h.message(h.botMessagesIn(bad)[0]!.id as string);
    expect(said(badCard)).toContain('**Verification failed**');
    expect(said(badCard)).toContain('down leaves index orders_total_idx behind');
    expect(Object.keys(h.buttonsOf(badCard)).sort()).toEqual(['migration_cancel', 'migration_edit']);
  });

  it('`rollback <version>` in another thread asks for approval; after it the index is gone', async () => {
    const other = await h.mention(`rollback ${version}`);
    await h.settle();
    const approval = h.botMessagesIn(other).at(-1)!;
    expect(said(approval)).toContain(`to roll back migration \`${version}\``);
    await click(approval.id as string, 'migration_approve', bob);
    expect(indexNames()).not.toContain('orders_status_idx');
    expect(said(h.message(cardId))).toContain('**Rolled back** by bob');
  });
});
