/**
 * `npm run bench`: runs every bench, one after another, each in its own process as `npm run bench:<name>` would,
 * and prints one table of every measure they report (bench/support/bench-report.ts): measure, figure, target,
 * met or not. Each bench's full output goes to out/bench/<name>.log. The machine's load average is printed
 * before each bench and in each measure's note, since the figures move with it. Not part of the test run.
 * Run with the services' env: `eval "$(bash scripts/services.sh env)" && npm run bench` (`-- name …` runs some).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MEASURE_PREFIX, type Measure } from './support/bench-report.ts';

interface Bench {
  name: string;
  file: string;
  nodeArgs?: string[];
  args?: string[];
}

/** The benches and how package.json runs each (bench:<name>). */
const BENCHES: Bench[] = [
  { name: 'models', file: 'models.bench.ts' },
  { name: 'introspection', file: 'introspection.bench.ts', args: ['--postgres-only'] },
  { name: 'large-result', file: 'large-result.bench.ts', nodeArgs: ['--expose-gc'] },
  { name: 'render', file: 'render.bench.ts' },
  { name: 'slack', file: 'slack.bench.ts', args: ['--acks'] },
  { name: 'pipeline', file: 'pipeline-overhead.bench.ts' },
  { name: 'masking', file: 'masking.bench.ts', nodeArgs: ['--expose-gc'] },
  { name: 'templates', file: 'templates.bench.ts' },
  { name: 'approvals', file: 'approvals.bench.ts' },
  { name: 'migrations', file: 'migrations.bench.ts' },
];

const root = fileURLToPath(new URL('..', import.meta.url));
const logDir = join(root, 'out', 'bench');
mkdirSync(logDir, { recursive: true });
const only = process.argv.slice(2);
const chosen = only.length ? BENCHES.filter((b) => only.includes(b.name)) : BENCHES;
const cores = cpus().length;

/** Runs one bench, writing its output to its log, and returns the measures it reported. */
function runBench(bench: Bench): Promise<{ measures: Measure[]; code: number; ms: number }> {
  const log = createWriteStream(join(logDir, `${bench.name}.log`));
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [...(bench.nodeArgs ?? []), join(root, 'bench', bench.file), ...(bench.args ?? [])],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const measures: Measure[] = [];
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    log.write(chunk);
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith(MEASURE_PREFIX))
        measures.push(JSON.parse(line.slice(MEASURE_PREFIX.length)) as Measure);
    }
  });
  child.stderr.pipe(log, { end: false });
  return new Promise((resolve) => {
    child.on('close', (code) => {
      log.end();
      resolve({ measures, code: code ?? 1, ms: performance.now() - started });
    });
  });
}

const cell = (text: string) => text.replace(/\|/g, '\\|');
const rows: { bench: string; measure: Measure }[] = [];
const failed: string[] = [];
const untabled: string[] = [];
for (const bench of chosen) {
  process.stderr.write(`bench:${bench.name} (load ${loadavg()[0]!.toFixed(1)} on ${cores} cores)… `);
  const { measures, code, ms } = await runBench(bench);
  process.stderr.write(
    `${(ms / 1000).toFixed(0)} s${code === 0 ? '' : `, exit ${code}: see out/bench/${bench.name}.log`}\n`,
  );
  if (code !== 0) failed.push(bench.name);
  for (const measure of measures) rows.push({ bench: bench.name, measure });
  if (measures.length === 0 && code === 0) untabled.push(bench.name);
}

console.log(`\nthreadql benchmarks, ${new Date().toISOString()}, Node ${process.version}, ${cores} cores\n`);
console.log('| Measure | Figure | Target | Met | Note |');
console.log('|---|---|---|---|---|');
for (const { measure: m } of rows) {
  const met = m.met === undefined ? '—' : m.met ? 'yes' : '**no**';
  console.log(
    `| ${cell(m.measure)} | ${cell(m.figure)} | ${cell(m.target || '—')} | ${met} | ${cell(m.note ?? '')} |`,
  );
}
const misses = rows.filter((r) => r.measure.met === false).length;
console.log(`\n${rows.length} measures, ${misses} target(s) missed; full output in out/bench/.`);
if (untabled.length) {
  console.log(`Benches with figures but no DESIGN §7 target (see out/bench/): ${untabled.join(', ')}`);
}
if (failed.length) {
  console.log(`Benches that failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
