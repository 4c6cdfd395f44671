import type { Command } from 'commander';
import { classifyMongoQuery } from '../../core/safety/classify-mongo-query.ts';
import { classifySql, isSqlDialect } from '../../core/safety/classify-sql.ts';
import type { Verdict } from '../../core/safety/verdict.ts';

const DIALECTS = ['postgres', 'mysql', 'sqlite', 'mongodb'] as const;

/** Classifies `text` in `dialect` (`mariadb` is an alias of `mysql`); undefined for a dialect it does not know. */
export async function checkSql(text: string, dialect: string): Promise<Verdict | undefined> {
  const name = dialect === 'mariadb' ? 'mysql' : dialect;
  if (name === 'mongodb') return classifyMongoQuery(text);
  if (isSqlDialect(name)) return classifySql(text, name);
  return undefined;
}

/**
 * Adds `threadql check-sql --dialect <d>`: reads SQL (or a MongoDB query as JSON) on stdin and prints the verdict
 * as one JSON line. The verdict is data, so the exit code is 0 whatever it is; 2 means the dialect was bad.
 */
export function registerCheckSqlCommand(program: Command): void {
  program
    .command('check-sql')
    .description(
      'Classify SQL read from stdin as read, write, ddl or other, and print the verdict as one JSON line',
    )
    .option('--dialect <dialect>', `one of ${DIALECTS.join(', ')}`)
    .action(async (options: { dialect?: string }) => {
      const dialect = options.dialect ?? '';
      if (!(DIALECTS as readonly string[]).includes(dialect) && dialect !== 'mariadb') {
        process.stderr.write(`check-sql: --dialect must be one of ${DIALECTS.join(', ')}\n`);
        process.exitCode = 2;
        return;
      }
      const text = await readStdin();
      const verdict = await checkSql(text, dialect);
      process.stdout.write(`${JSON.stringify(verdict)}\n`);
    });
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}
