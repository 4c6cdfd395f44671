/**
 * Start-up with a dependency unreachable, as an operator meets it: a real `threadql run` process (Slack HTTP mode
 * configured), the store or Redis pointing at a port nothing listens on. It must exit non-zero by itself, saying
 * which server it could not reach (host and port, never the password), instead of hanging and logging
 * "[ioredis] Unhandled error event" forever.
 */
import { freePort } from '../../bot/local-services/free-port.ts';
import { isolatedMongoUri, services } from '../support/services.ts';
import { ThreadqlProcess } from './support/threadql-process.ts';

const SLACK = {
  SLACK_BOT_TOKEN: 'xoxb-fault-test',
  SLACK_SIGNING_SECRET: 'fault-test-secret',
  // Nothing listens here either: threadql must fail on its dependency before it ever gets to Slack.
  SLACK_API_URL: 'http://127.0.0.1:9/api/',
};

let running: ThreadqlProcess | undefined;
afterEach(async () => {
  await running?.kill();
  running = undefined;
});

test('Redis unreachable: exits 1 naming the Redis host and port, with no ioredis error spam', async () => {
  const port = await freePort();
  running = ThreadqlProcess.start({
    ...SLACK,
    PORT: String(await freePort()),
    MONGODB_URI: isolatedMongoUri('fault-startup-redis'),
    REDIS_URL: `redis://:hunter2@127.0.0.1:${port}`,
  });
  const exit = await running.exited;
  expect(exit).toEqual({ code: 1, signal: null });
  expect(running.stderr).toContain(`threadql: cannot start: Cannot reach Redis at 127.0.0.1:${port}`);
  expect(running.stderr).toContain('Check REDIS_URL');
  expect(running.stderr).not.toContain('Unhandled error event');
  expect(running.stderr).not.toContain('hunter2');
});

test('store unreachable: exits 1 naming the store host and port, never its password', async () => {
  const port = await freePort();
  running = ThreadqlProcess.start({
    ...SLACK,
    PORT: String(await freePort()),
    MONGODB_URI: `mongodb://threadql:s3cret-pw@127.0.0.1:${port}/threadql`,
    REDIS_URL: services.redisUrl,
  });
  const exit = await running.exited;
  expect(exit).toEqual({ code: 1, signal: null });
  expect(running.stderr).toContain(`threadql: cannot start: Cannot reach the threadql store at`);
  expect(running.stderr).toContain(`127.0.0.1:${port}/threadql`);
  expect(running.stderr).toContain('Check MONGODB_URI');
  expect(running.stderr).not.toContain('s3cret-pw');
});
