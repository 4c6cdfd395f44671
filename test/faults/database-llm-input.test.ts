/**
 * A running threadql process (Slack HTTP mode, the fake Web API, the real store and Redis) against a PostgreSQL of
 * this test's own and the fake Messages API: the target database stopped mid-session (the repair loop is skipped
 * and the reply says the database is down; back, it answers again without a restart), Claude failing (the reply
 * names Claude), a question over the length limit (refused before Claude, the limit named, audited), and a signed
 * click naming another channel than its card's (refused, nothing runs).
 */
import { jest } from '@jest/globals';
import mongoose from 'mongoose';
import { errorReply, FakeAnthropicServer, toolUseReply } from '../fakes/fake-anthropic-server.ts';
import { FakeSlackApi } from '../fakes/fake-slack-api.ts';
import { isolatedMongoUri, services } from '../support/services.ts';
import { OwnPostgres } from './support/own-services.ts';
import { eventually, SlackEndpoint, textOf } from './support/slack-endpoint.ts';
import { startSlackThreadql, type RunningThreadql } from './support/slack-threadql.ts';

const SQL = 'SELECT count(*) AS n FROM league_teams';
jest.setTimeout(180_000);
let postgres: OwnPostgres;
let slack: FakeSlackApi;
let anthropic: FakeAnthropicServer;
let threadql: RunningThreadql;
let endpoint: SlackEndpoint;
const storeUri = isolatedMongoUri('fault-db-llm');

beforeAll(async () => {
  postgres = await OwnPostgres.start();
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  await client.query(
    'CREATE TABLE league_teams (id int PRIMARY KEY, name text); INSERT INTO league_teams VALUES (1, $$Ajax$$), (2, $$Benfica$$)',
  );
  await client.end();
  slack = new FakeSlackApi();
  await slack.start();
  anthropic = new FakeAnthropicServer();
  await anthropic.start();
  anthropic.setFallback(() => toolUseReply(SQL, { explanation: 'Counts the teams.' }));
  threadql = await startSlackThreadql({
    storeUri,
    redisUrl: services.redisUrl,
    slack,
    anthropic,
    yaml: 'connections:\n  - name: league\n    type: postgres\n    url: ${LEAGUE_URL}\n',
    env: { LEAGUE_URL: postgres.url },
  });
  endpoint = new SlackEndpoint(slack, [threadql.url]);
});

afterAll(async () => {
  await threadql?.process.kill();
  const store = await mongoose.createConnection(storeUri).asPromise();
  await store.dropDatabase();
  await store.close();
  await postgres?.stop();
  await slack?.stop();
  await anthropic?.close();
});

/** The bot's reply in a new thread: the latest text of its first message once it is no longer "working". */
async function answerTo(text: string): Promise<{ threadTs: string; reply: string }> {
  const { threadTs } = await endpoint.mention(text);
  const reply = await eventually(
    `an answer to "${text.slice(0, 40)}"`,
    () => {
      const first = endpoint.postsIn(threadTs)[0];
      const latest = first && textOf(endpoint.latest(first));
      return latest && !latest.includes('⏳') ? latest : undefined;
    },
    30_000,
  ).catch((error: unknown) => {
    throw new Error(
      `${String(error)}\nthread: ${endpoint.threadText(threadTs)}\nlog: ${threadql.process.stderr.slice(-3000)}`,
    );
  });
  return { threadTs, reply };
}

/** Whether a dependency's breaker is not open (closed, half-open, or never opened). */
async function notOpen(dependency: string): Promise<boolean> {
  const text = await (await fetch(`${threadql.base}/metrics`)).text();
  return !text.includes(`threadql_breaker_state{dependency="${dependency}"} 2`);
}

async function auditCodes(action: string): Promise<string[]> {
  const store = await mongoose.createConnection(storeUri).asPromise();
  try {
    const events = await store.collection('auditevents').find({ action }).toArray();
    return events.map((e) =>
      String(
        (e.detail as { code?: string; reason?: string }).code ?? (e.detail as { reason?: string }).reason,
      ),
    );
  } finally {
    await store.close();
  }
}

test('the database stops: no repair rounds, the reply says it is down; back: answered again, no restart', async () => {
  expect((await answerTo('how many teams are there?')).reply).toContain('Run');

  await postgres.stop();
  const requests = anthropic.requests.length;
  const { reply } = await answerTo('how many teams are in the league?');
  expect(reply).toMatch(/PostgreSQL: .*|The database "league" is unreachable/);
  expect(reply).toMatch(/Check that the database is running/);
  expect(reply).not.toMatch(/rephras/i);
  // One model answer, no repair rounds spent on a database that is not there.
  expect(anthropic.requests.length - requests).toBeLessThanOrEqual(1);

  await postgres.start();
  // The breaker lets a trial call through once its pause is over: from then on the database answers again.
  await eventually('the database breaker to stop failing fast', () => notOpen('database:league'), 60_000);
  const back = await answerTo('how many teams do we have now?');
  expect(back.reply).toContain(SQL);
});

test('Claude failing: the reply names Claude; then it answers again', async () => {
  anthropic.setFallback(() => errorReply(503, { message: 'upstream unavailable' }));
  const { reply } = await answerTo('which team has the longest name?');
  expect(reply).toMatch(/Claude/);
  anthropic.setFallback(() => toolUseReply(SQL, { explanation: 'Counts the teams.' }));
  await eventually('the LLM breaker to stop failing fast', () => notOpen('llm'), 60_000);
  expect((await answerTo('how many teams, again?')).reply).toContain(SQL);
});

test('a question over limits.questionChars is refused before Claude, with the limit, and audited', async () => {
  const requests = anthropic.requests.length;
  const question = `why ${'really '.repeat(800)}?`;
  const { reply } = await answerTo(question);
  expect(reply).toContain(
    `Your question is ${question.length.toLocaleString('en-US')} characters long; the limit is 4,000 characters.`,
  );
  expect(anthropic.requests.length).toBe(requests);
  await eventually('the refusal in the audit log', async () =>
    (await auditCodes('turn.failed')).includes('input_too_long'),
  );
});

test('a signed click naming another channel than its card’s is refused and runs nothing', async () => {
  const { threadTs } = await endpoint.mention('how many teams are listed?');
  const { cardTs, token } = await endpoint.card(threadTs);
  const elsewhere = new SlackEndpoint(slack, [threadql.url]);
  expect(await elsewhere.click({ messageTs: cardTs, threadTs, actionId: 'threadql:run', value: token })).toBe(
    200,
  );
  await eventually('the refusal', () =>
    slack
      .callsOf('chat.postEphemeral')
      .some((c) => c.args.channel === elsewhere.channel && /another thread/.test(String(c.args.text))),
  );
  expect(slack.callsOf('chat.postMessage').filter((c) => c.args.channel === elsewhere.channel)).toEqual([]);
  await eventually('the refusal in the audit log', async () =>
    (await auditCodes('click.refused')).includes('wrong_thread'),
  );
  // The card is untouched and still runs where it is.
  expect(await endpoint.click({ messageTs: cardTs, threadTs, actionId: 'threadql:run', value: token })).toBe(
    200,
  );
  await eventually('the card to run', () => textOf(endpoint.updatesOf(cardTs).at(-1)!).includes('✅ Run by'));
});
