import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `node bot/threadql.ts check-sql …` with `input` on stdin; resolves with its exit code and output. */
function run(
  args: string[],
  input: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bot/threadql.ts', 'check-sql', ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('threadql check-sql', () => {
  test('prints one JSON line with the verdict, statements and reasons, and exits 0 whatever the verdict', async () => {
    const { code, stdout } = await run(
      ['--dialect', 'postgres'],
      'SELECT 1;\n-- sneaky\nDROP TABLE users;\n',
    );
    expect(code).toBe(0);
    expect(stdout.endsWith('\n')).toBe(true);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const verdict = JSON.parse(stdout) as Record<string, unknown>;
    expect(Object.keys(verdict).sort()).toEqual(['reasons', 'statements', 'verdict']);
    expect(verdict).toMatchObject({
      verdict: 'ddl',
      statements: [
        { sql: 'SELECT 1', verdict: 'read', type: 'SELECT' },
        { sql: 'DROP TABLE users', verdict: 'ddl', type: 'DROP TABLE' },
      ],
    });
  });

  test.each([
    ['postgres', 'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d', 'write'],
    ['mysql', '/*!50000 DROP TABLE x */', 'ddl'],
    ['mysql', 'SELECT SLEEP(10)', 'other'],
    ['mysql', 'SHOW CREATE TABLE albums', 'read'],
    ['mysql', 'SHOW GRANTS', 'read'],
    ['mysql', 'show me the top customers', 'other'],
    ['sqlite', 'PRAGMA table_info(t)', 'read'],
    ['sqlite', "VACUUM INTO '/tmp/copy.db'", 'other'],
    ['mongodb', '{"collection":"o","operation":"aggregate","pipeline":[{"$out":"x"}]}', 'write'],
    ['postgres', '', 'other'],
  ])('--dialect %s classifies %j as %s', async (dialect, input, expected) => {
    const { code, stdout } = await run(['--dialect', dialect], input);
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as { verdict: string }).verdict).toBe(expected);
  });

  test('a bad or missing --dialect exits 2 with a message and prints no verdict', async () => {
    for (const args of [['--dialect', 'oracle'], []]) {
      const { code, stdout, stderr } = await run(args, 'SELECT 1');
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/--dialect must be one of postgres, mysql, sqlite, mongodb/);
    }
  });
});
