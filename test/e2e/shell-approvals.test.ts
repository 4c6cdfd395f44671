/**
 * The whole four-eyes flow in one terminal: `as <name>` switches who is typing (approvers.shell lists ben and cy),
 * on the embedded sample database, through the shell adapter's streams and the real store, Redis and SQLite.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { loadSampleShopIntoMongo, type SampleShopInMongo } from '../support/sample-shop-mongo.ts';
import { isolatedMongoUri } from '../support/services.ts';
import { ShellHarness } from '../support/shell-harness.ts';

let h: ShellHarness;
let sample: Database.Database;

beforeAll(async () => {
  h = await ShellHarness.start(
    'shell-approvals',
    {},
    'connections: []\napprovers:\n  shell: ["ben", "cy"]\n',
  );
  sample = new Database(join(h.dataDir, 'sample', 'shop.db'));
});
afterAll(async () => {
  sample?.close();
  await h?.close();
});

const scalar = (sql: string): number => Number(sample.prepare(sql).pluck().get() ?? 0);

describe('shell: approvals with `as <name>`', () => {
  it('request as ana; ana and eve cannot approve; ben approves and it runs once; cy rejects another with a reason', async () => {
    const category = String(sample.prepare('SELECT category FROM products LIMIT 1').pluck().get());
    const count = scalar(`SELECT count(*) FROM products WHERE category = '${category}'`);
    const sum = () => scalar(`SELECT sum(price_cents) FROM products WHERE category = '${category}'`);
    const before = sum();

    h.send(`UPDATE products SET price_cents = price_cents + 100 WHERE category = '${category}'`);
    const card = await h.waitFor(/\[1\] Request approval {2}\[2\] Edit SQL {2}\[3\] Cancel\n/);
    expect(card).toContain(`connection sample · write · dry run: would change ${count} rows`);
    h.send('1');
    const approval = await h.waitFor(/\[1\] Approve {2}\[2\] Reject {2}\[3\] Edit SQL\n/);
    expect(approval).toContain(
      '🔔 ben, cy\n🔐 Approval needed: ana asks to run this write statement on sample',
    );

    h.send('1');
    await h.waitFor(/only you\)> You requested this change, so someone else has to approve it\.\n/);
    h.send('as eve');
    await h.waitFor(/You are now acting as eve \(not an approver\)\.\n/);
    h.send('1');
    await h.waitFor(/only you\)> Only an approver can decide this\.\n/);
    expect(sum()).toBe(before);

    h.send('as ben');
    await h.waitFor(/You are now acting as ben \(an approver\)\.\n/);
    h.send('1');
    const done = await h.waitFor(/requested by ana · approved by ben · in one transaction\n/);
    expect(done).toContain(`✅ Executed on sample: ${count} rows affected in`);
    expect(sum()).toBe(before + 100 * count);
    // A second change, requested as ben and rejected by cy with a reason typed at the prompt.
    h.send('DELETE FROM support_tickets WHERE closed_at IS NOT NULL');
    await h.waitFor(/\[1\] Request approval/);
    h.send('1');
    const second = await h.waitFor(/\[1\] Approve {2}\[2\] Reject {2}\[3\] Edit SQL\n/);
    expect(second).toContain('🔔 cy\n🔐 Approval needed: ben asks');
    h.send('as cy');
    await h.waitFor(/acting as cy \(an approver\)/);
    const tickets = scalar('SELECT count(*) FROM support_tickets');
    h.send('2');
    await h.waitFor(/Reason \(optional\)/);
    h.send('not during the audit');
    h.send('.');
    await h.waitFor(/rejected by cy: not during the audit/);
    expect(scalar('SELECT count(*) FROM support_tickets')).toBe(tickets);

    // `approvals` as ben: nothing left to decide.
    h.send('as ben');
    await h.waitFor(/acting as ben/);
    h.send('approvals');
    await h.waitFor(/No pending approvals for you/);
  });
});

describe('shell: a MongoDB write through approval (FerretDB, no transactions)', () => {
  let m: ShellHarness;
  let shop: SampleShopInMongo;
  let client: MongoClient;
  const uri = isolatedMongoUri('shell-approvals-shop');

  beforeAll(async () => {
    shop = await loadSampleShopIntoMongo(uri);
    client = new MongoClient(uri);
    m = await ShellHarness.start(
      'shell-approvals-mongo',
      { SHOP_URL: uri },
      'connections:\n  - { name: shop, type: mongodb, url: "${SHOP_URL}", default: true }\napprovers:\n  shell: ["ben"]\n',
    );
  });
  afterAll(async () => {
    await m?.close();
    await client?.db().dropDatabase();
    await client?.close();
    await shop?.close();
  });

  it('counts the matching documents, and runs the updateMany once after ben approves', async () => {
    const products = client.db().collection<{ category: string; price_cents: number }>('products');
    const category = (await products.findOne({}))!.category;
    const count = await products.countDocuments({ category });
    const sum = async () =>
      (await products.find({ category }).toArray()).reduce((total, p) => total + p.price_cents, 0);
    const before = await sum();
    m.send(
      JSON.stringify({
        collection: 'products',
        operation: 'updateMany',
        filter: { category },
        update: { $inc: { price_cents: 100 } },
      }),
    );
    const card = await m.waitFor(/\[1\] Request approval[^\n]*\n/);
    expect(card).toContain(`connection shop · write · dry run: would change ${count} rows`);
    expect(card).toContain('Counted, not tried: the server has no transactions here.');
    m.send('1');
    await m.waitFor(/\[1\] Approve/);
    m.send('as ben');
    await m.waitFor(/acting as ben \(an approver\)/);
    m.send('1');
    const done = await m.waitFor(/requested by ana · approved by ben[^\n]*\n/);
    expect(done).toContain(`Executed on shop: ${count} rows affected`);
    expect(await sum()).toBe(before + 100 * count);
  });
});
