import { rawEnvironment } from './env.ts';

/** Connection URLs of the real services the test suite and benches use, set by scripts/test.sh. */
export interface TestServices {
  mongodbUri: string;
  redisUrl: string;
  postgresUrl: string;
  mysqlUrl: string;
  chromiumPath: string | undefined;
}

/** Reads the test services' URLs; a missing one is an error that names it (the suite never skips). */
export function testServices(env = rawEnvironment()): TestServices {
  const need = (key: string): string => {
    const value = env[key];
    if (!value) {
      throw new Error(
        `${key} is not set: run the suite with scripts/test.sh, which starts the services and sets it`,
      );
    }
    return value;
  };
  return {
    mongodbUri: need('MONGODB_URI'),
    redisUrl: need('REDIS_URL'),
    postgresUrl: need('THREADQL_TEST_POSTGRES_URL'),
    mysqlUrl: need('THREADQL_TEST_MYSQL_URL'),
    chromiumPath: env.PUPPETEER_EXECUTABLE_PATH || undefined,
  };
}
