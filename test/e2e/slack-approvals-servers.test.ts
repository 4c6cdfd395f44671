/**
 * Writes through approval on PostgreSQL and MariaDB, end to end through the real Bolt app against the loopback
 * fake Web API: the write card's dry run is measured on the server, two approvers clicking at once change the
 * data exactly once, and on MariaDB a DDL statement is shown as not measurable (it commits implicitly).
 */
import { createModels } from '../../models/create-models.ts';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { RecordedCall } from '../fakes/fake-slack-api.ts';
import { uniqueName } from '../db/db-test-helpers.ts';
import { services } from '../support/services.ts';
import { SlackHarness } from '../support/slack-harness.ts';

const schema = uniqueName('slk_appr');
const database = uniqueName('slk_appr');
let h: SlackHarness;
let replica: SlackHarness;
let postgres: pg.Client;
let maria: mysql.Connection;

const rows = Array.from({ length: 30 }, (_, i) => `(${i + 1}, '${i < 10 ? 'dormant' : 'active'}', 100)`).join(
  ', ',
);

beforeAll(async () => {
  postgres = new pg.Client({ connectionString: services.postgresUrl });
  await postgres.connect();
  await postgres.query(
    `CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.accounts (id int PRIMARY KEY, status text, balance int); INSERT INTO ${schema}.accounts VALUES ${rows}`,
  );
  maria = await mysql.createConnection({ uri: services.mysqlUrl, multipleStatements: true });
  await maria.query(
    `CREATE DATABASE \`${database}\`; CREATE TABLE \`${database}\`.accounts (id int PRIMARY KEY, status varchar(10), balance int) ENGINE=InnoDB; INSERT INTO \`${database}\`.accounts VALUES ${rows}`,
  );
  const mariaUrl = new URL(services.mysqlUrl);
  mariaUrl.pathname = `/${database}`;
  const options = {
    env: { PG_URL: services.postgresUrl, MARIA_URL: mariaUrl.toString() },
    yaml: [
      'connections:',
      '  - { name: pg, type: postgres, url: "${PG_URL}", default: true }',
      '  - { name: maria, type: mysql, url: "${MARIA_URL}" }',
      'approvers:',
      '  slack: ["U0ANN", "U0BOB"]',
      '',
    ].join('\n'),
  };
  h = await SlackHarness.start('slack-approvals-servers', options);
  // A second bot instance behind the same Slack app: same store, Redis and databases, its own Bolt and engine.
  replica = await SlackHarness.start('slack-approvals-replica', { ...options, replicaOf: h });
});
afterAll(async () => {
  await replica?.close();
  await h?.close();
  await postgres?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await postgres?.end();
  await maria?.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await maria?.end();
});

const textOf = (call: RecordedCall): string => JSON.stringify(call.args.blocks ?? []);
function buttonsOf(call: RecordedCall): Record<string, string> {
  const buttons: Record<string, string> = {};
  for (const block of (call.args.blocks as { type: string; elements?: Record<string, unknown>[] }[]) ?? [])
    if (block.type === 'actions')
      for (const el of block.elements ?? []) buttons[String(el.action_id)] = String(el.value);
  return buttons;
}

const dormantBalance = {
  pg: async () =>
    Number(
      (await postgres.query(`SELECT sum(balance) AS n FROM ${schema}.accounts WHERE status = 'dormant'`))
        .rows[0].n,
    ),
  maria: async () =>
    Number(
      (
        (
          await maria.query(`SELECT sum(balance) AS n FROM \`${database}\`.accounts WHERE status = 'dormant'`)
        )[0] as {
          n: unknown;
        }[]
      )[0]!.n,
    ),
};

/** Alice pastes `sql` in a new thread (on `connection`: `use` first when it is not the default). */
async function writeCard(sql: string, connection?: string) {
  const root = h.mention(connection ? `use ${connection}` : sql, { user: 'U0ALICE' });
  const threadTs = String(root.ts);
  await h.event(root);
  await h.settle();
  if (connection) {
    await h.event(h.threadReply(sql, threadTs, 'U0ALICE'));
    await h.settle();
  }
  const progress = h.postsIn(threadTs).at(-1)!;
  const cardTs = h.tsOf(progress);
  return { threadTs, cardTs, card: h.updatesOf(cardTs).at(-1)! };
}

describe.each([
  ['pg', `UPDATE ${schema}.accounts SET balance = balance + 1 WHERE status = 'dormant'`, undefined],
  ['maria', "UPDATE accounts SET balance = balance + 1 WHERE status = 'dormant'", 'maria'],
] as const)('Slack approvals on %s', (name, sql, use) => {
  it('dry run measured on the server; two approvers at once change the data exactly once', async () => {
    const before = await dormantBalance[name]();
    const { threadTs, cardTs, card } = await writeCard(sql, use);
    expect(textOf(card)).toContain(
      `connection *${name}* · write · dry run: would change 10 rows · EXPLAIN estimates ~`,
    );
    await h.click({
      messageTs: cardTs,
      threadTs,
      actionId: 'threadql:approval_request',
      value: buttonsOf(card)['threadql:approval_request']!,
      user: 'U0ALICE',
    });
    await h.settle();
    const approval = h.postsIn(threadTs).at(-1)!;
    expect(String(approval.args.text)).toMatch(/^<@U0ANN> <@U0BOB> /);
    const requestId = buttonsOf(approval)['threadql:approve']!;
    const approvalTs = h.tsOf(approval);
    await Promise.all(
      ['U0ANN', 'U0BOB'].map((user) =>
        h.click({ messageTs: approvalTs, threadTs, actionId: 'threadql:approve', value: requestId, user }),
      ),
    );
    await h.settle();
    expect(await dormantBalance[name]()).toBe(before + 10);
    expect(textOf(h.postsIn(threadTs).at(-1)!)).toContain(`*Executed* on *${name}*: 10 rows affected`);
  });
});

it('MariaDB DDL is shown plainly as not measurable (it commits implicitly), and runs only after approval', async () => {
  const { threadTs, cardTs, card } = await writeCard(
    'ALTER TABLE accounts ADD COLUMN note varchar(20)',
    'maria',
  );
  expect(textOf(card)).toContain('connection *maria* · ddl · dry run: not measured');
  expect(textOf(card)).toContain(
    'MySQL and MariaDB commit DDL implicitly, so it cannot be tried and rolled back; it was not run.',
  );
  const columns = async () =>
    Number(
      (
        (
          await maria.query(
            `SELECT count(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '${database}' AND TABLE_NAME = 'accounts'`,
          )
        )[0] as { n: unknown }[]
      )[0]!.n,
    );
  expect(await columns()).toBe(3);
  await h.click({
    messageTs: cardTs,
    threadTs,
    actionId: 'threadql:approval_request',
    value: buttonsOf(card)['threadql:approval_request']!,
    user: 'U0ALICE',
  });
  await h.settle();
  const approval = h.postsIn(threadTs).at(-1)!;
  expect(textOf(approval)).toContain('drift guard: nothing measured to compare with');
  await h.click({
    messageTs: h.tsOf(approval),
    threadTs,
    actionId: 'threadql:approve',
    value: buttonsOf(approval)['threadql:approve']!,
    user: 'U0ANN',
  });
  await h.settle();
  expect(await columns()).toBe(4);
  expect(textOf(h.postsIn(threadTs).at(-1)!)).toContain('commit DDL implicitly: it cannot be rolled back');
});

it('two bot replicas receiving Approve clicks at the same moment run the statement exactly once', async () => {
  const before = await dormantBalance.pg();
  const { threadTs, cardTs, card } = await writeCard(
    `UPDATE ${schema}.accounts SET balance = balance + 1 WHERE status = 'dormant'`,
  );
  await h.click({
    messageTs: cardTs,
    threadTs,
    actionId: 'threadql:approval_request',
    value: buttonsOf(card)['threadql:approval_request']!,
    user: 'U0ALICE',
  });
  await h.settle();
  const approval = h.postsIn(threadTs).at(-1)!;
  const requestId = buttonsOf(approval)['threadql:approve']!;
  const approvalTs = h.tsOf(approval);
  // Ann's and Bob's clicks (three each: Slack retries, impatient people) reach both replicas at once.
  await Promise.all(
    ['U0ANN', 'U0BOB', 'U0ANN', 'U0BOB', 'U0ANN', 'U0BOB'].map((user, i) =>
      (i % 2 ? replica : h).click({
        messageTs: approvalTs,
        threadTs,
        actionId: 'threadql:approve',
        value: requestId,
        user,
      }),
    ),
  );
  await Promise.all([h.settle(), replica.settle()]);
  await Promise.all([h.settle(), replica.settle()]);
  expect(await dormantBalance.pg()).toBe(before + 10);
  const executed = h.postsIn(threadTs).filter((c) => textOf(c).includes('*Executed*'));
  expect(executed).toHaveLength(1);
  const transitions = await createModels(h.threadql.store)
    .StateTransition.find({
      entity: 'ApprovalRequest',
      doc: requestId,
    })
    .lean();
  expect(transitions.map((t) => t.to).sort()).toEqual(['approved', 'executed']);
});
