/** Which errors mean "the store is down" (kept for replay, a breaker opens) and which are the store answering. */
import { connect, createServer, type AddressInfo } from 'node:net';
import { dependencyOf, isDownError } from '../../core/resilience/dependency-errors.ts';

/** The error Node gives a write on a socket the server has closed (what a stopped FerretDB leaves behind). */
async function writeAfterServerClosed(): Promise<Error> {
  const server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const socket = connect({ port, host: '127.0.0.1' }).resume();
  try {
    await new Promise((resolve) => socket.once('end', resolve));
    return await new Promise<Error>((resolve) => {
      socket.once('error', resolve);
      socket.write('ping', (err) => err && resolve(err));
    });
  } finally {
    socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

test('a write on a socket the store closed counts as the store being down, for the store call it came from', async () => {
  const error = await writeAfterServerClosed();
  expect(error.message).toBe('This socket has been ended by the other party');
  expect(isDownError('store', error)).toBe(true);
  // On its own it names no dependency (it could as well be Redis's socket).
  expect(dependencyOf(error)).toBeUndefined();
});

test('the store answering with an error is not an outage', () => {
  const duplicate = Object.assign(new Error('E11000 duplicate key error'), {
    name: 'MongoServerError',
    code: 11000,
  });
  expect(isDownError('store', duplicate)).toBe(false);
  expect(isDownError('store', new Error('validation failed'))).toBe(false);
});
