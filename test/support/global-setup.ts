import net from 'node:net';
import { testServices } from '../../config/test-services.ts';

function reachable(name: string, url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port), timeout: 3000 });
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    const fail = (why: string) => {
      socket.destroy();
      reject(
        new Error(
          `${name} is not reachable at ${hostname}:${port} (${why}); start the suite with scripts/test.sh`,
        ),
      );
    };
    socket.once('timeout', () => fail('timeout'));
    socket.once('error', (e) => fail(e.message));
  });
}

/** Before any test: every real service must answer, or the run fails naming the missing one. */
export default async function globalSetup(): Promise<void> {
  const s = testServices();
  await Promise.all([
    reachable('MongoDB-wire server (MONGODB_URI)', s.mongodbUri),
    reachable('Redis (REDIS_URL)', s.redisUrl),
    reachable('PostgreSQL (THREADQL_TEST_POSTGRES_URL)', s.postgresUrl),
    reachable('MariaDB (THREADQL_TEST_MYSQL_URL)', s.mysqlUrl),
  ]);
}
