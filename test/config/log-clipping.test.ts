/**
 * Log lines never carry whole inputs: every long string in a logged object, the message and an error's message are
 * cut with their length; secrets stay redacted; the shell's text format prints the same lines as plain text.
 */
import { Writable } from 'node:stream';
import { clipText, createLogger, textLogStream } from '../../core/logger.ts';

function sink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

test('an 84 KB question in a log line is cut to 500 characters with its length', () => {
  const { stream, lines } = sink();
  const question = 'q'.repeat(84_000);
  createLogger('info', stream).warn(
    { input: question, nested: { sql: question }, err: new Error(`bad input: ${question}`), password: 'pw' },
    `turn failed for ${question}`,
  );
  expect(lines).toHaveLength(1);
  // Four strings of 500 and a stack trace: a few KB, not 84 KB.
  expect(lines[0]!.length).toBeLessThan(10_000);
  const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
  expect(entry.input).toBe(`${'q'.repeat(500)}… (84,000 chars)`);
  expect((entry.nested as { sql: string }).sql).toBe(`${'q'.repeat(500)}… (84,000 chars)`);
  expect(String(entry.msg)).toMatch(/… \(84,016 chars\)$/);
  expect((entry.err as { message: string }).message).toMatch(/^bad input: q+… \(84,011 chars\)$/);
  expect(entry.password).toBe('[redacted]');
  expect(clipText('short')).toBe('short');
});

test('the shell prints log lines as plain text in its own format', () => {
  const { stream, lines } = sink();
  const logger = createLogger('info', textLogStream(stream));
  logger.warn({ path: '/tmp/master.key' }, 'THREADQL_MASTER_KEY is not set');
  logger.info('store: MONGODB_URI');
  logger.error({ err: new Error('boom') }, 'a step failed');
  expect(lines).toEqual([
    'threadql: warning: THREADQL_MASTER_KEY is not set (path: /tmp/master.key)',
    'threadql: store: MONGODB_URI',
    'threadql: error: a step failed (error: boom)',
  ]);
});
