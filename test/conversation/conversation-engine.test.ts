/**
 * The dispatcher on its own: flows registered with the engine, driven through the real shell adapter, with the
 * real store (MongoDB wire) and Redis de-duplication. What each flow does is tested with the flows; this file
 * checks the routing: commands, malformed commands, buttons, modals, one thread at a time, help from the grammar.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Redis } from 'ioredis';
import { parseConfigText } from '../../config/load-config.ts';
import { ShellPlatform } from '../../bot/shell/shell-platform.ts';
import { ConversationEngine } from '../../core/conversation/conversation-engine.ts';
import type { Flow } from '../../core/conversation/flow.ts';
import { MongoSessionStore } from '../../core/conversation/mongo-session-store.ts';
import { connectStore } from '../../core/store/connect-store.ts';
import { createLogger } from '../../core/logger.ts';
import { isolatedMongoUri, services } from '../support/services.ts';

let redis: Redis;
let store: Awaited<ReturnType<typeof connectStore>>;
let sessions: MongoSessionStore;
const run = Math.random().toString(36).slice(2);

beforeAll(async () => {
  redis = new Redis(services.redisUrl);
  store = await connectStore(isolatedMongoUri('engine'));
  sessions = await MongoSessionStore.create(store, { connections: [], masterKey: 'passphrase:engine-test' });
});
afterAll(async () => {
  await store.dropDatabase().catch(() => {});
  await store.close();
  redis.disconnect();
});

const settings = {
  limits: parseConfigText('', {}).limits,
  isApprover: () => false,
  isAdmin: () => false,
  now: () => new Date(),
};

/** A real shell adapter on in-memory streams, the engine with `flows`, and what the shell printed. */
async function start(flows: Flow[]) {
  const engine = new ConversationEngine({
    sessions,
    settings,
    logger: createLogger('silent'),
    flows,
    firstSeen: async (key) => (await redis.set(`test:engine:${run}:${key}`, '1', 'EX', 60, 'NX')) === 'OK',
  });
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = '';
  output.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
  const shell = new ShellPlatform({
    input,
    output,
    outputDir: mkdtempSync(join(tmpdir(), 'threadql-engine-')),
    formatTable: () => '(table)',
    userName: 'ana',
  });
  await shell.start(engine.handlersFor(shell));
  const send = async (...lines: string[]) => {
    for (const line of lines) input.write(`${line}\n`);
    input.end();
    await shell.finished();
    await engine.idle();
    return printed;
  };
  return { engine, send, shell, handlers: engine.handlersFor(shell) };
}

const echoQuestions: Flow = {
  commands: { question: async (turn, args) => void (await turn.say(`question: ${args.text}`)) },
};

describe('ConversationEngine', () => {
  it('routes each command to the flow that answers it, and the rest to the question flow', async () => {
    const { send } = await start([
      echoQuestions,
      {
        commands: {
          run: async (turn, args) => void (await turn.say(`run ${args.name} ${JSON.stringify(args.values)}`)),
        },
      },
    ]);
    const out = await send('run weekly country=DE', 'run the numbers', 'templates revenue');
    expect(out).toContain('run weekly {"country":"DE"}');
    expect(out).toContain('question: run the numbers');
    // No flow answers `templates` in this build: the words go to the question flow, not into a void.
    expect(out).toContain('question: templates revenue');
  });

  it('a malformed command gets its problem and usage, and no flow runs', async () => {
    const { send } = await start([echoQuestions, { commands: { schedule: async () => {} } }]);
    const out = await send('schedule weekly daily at 09:00');
    expect(out).toContain('Say which channel the report goes to');
    // The shell renders the reply's mrkdwn for the terminal (no backticks).
    expect(out).toContain('Usage: schedule <name> <when> in <channel> [key=value …]');
    expect(out).not.toContain('question:');
  });

  it('help lists what the flows of this build answer', async () => {
    const { engine, send } = await start([echoQuestions]);
    const out = await send('help');
    expect(out).toContain('• ask <question>:');
    expect(out).not.toContain('run <name>');
    expect(engine.helpText('slack')).toContain('`ask <question>`');
    expect(engine.helpText('slack')).not.toContain('`as <name>`');
  });

  it('buttons go to the flow that made them; queued ones wait for the thread’s turn, others answer at once', async () => {
    const order: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let started: () => void = () => {};
    const slowStarted = new Promise<void>((r) => (started = r));
    const { shell, handlers } = await start([
      {
        commands: {
          question: async () => {
            order.push('question start');
            started();
            await gate;
            order.push('question end');
          },
        },
        buttons: {
          later: { queued: true, handle: async (_turn, click) => void order.push(`later ${click.value}`) },
          now: { handle: async (_turn, click) => void order.push(`now ${click.value}`) },
        },
      },
    ]);
    const { thread, user } = shell;
    const click = (id: string, action: string) =>
      handlers.onButton({
        id: `${run}-${id}`,
        thread,
        user,
        action,
        value: id,
        message: { thread, messageId: 'm0' },
      });
    const question = handlers.onMessage({
      id: `${run}-q`,
      thread,
      user,
      text: 'slow',
      receivedAt: new Date(),
    });
    await slowStarted;
    const later = click('c1', 'later');
    await click('c2', 'now');
    expect(order).toEqual(['question start', 'now c2']);
    release();
    await Promise.all([question, later]);
    expect(order).toEqual(['question start', 'now c2', 'question end', 'later c1']);
    // The same click delivered again (a retried interaction) is answered once.
    await click('c2', 'now');
    expect(order.filter((o) => o === 'now c2')).toHaveLength(1);
  });

  it('two flows may not answer the same command or button', () => {
    expect(
      () =>
        new ConversationEngine({
          sessions,
          settings,
          logger: createLogger('silent'),
          firstSeen: async () => true,
          flows: [echoQuestions, echoQuestions],
        }),
    ).toThrow('two flows answer the command "question"');
  });
});
