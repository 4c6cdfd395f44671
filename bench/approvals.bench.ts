/**
 * Approval-path benchmarks against the real services (FerretDB store, PostgreSQL target): the dry run of a
 * 10,000-row UPDATE (one statement and a three-statement batch), creating a request, one Approve that claims and
 * executes, and a burst of 20 concurrent Approve clicks by two approvers (exactly one executes). Prints p50/p95;
 * not part of the test run. Run: `npm run bench:approvals` with the services' env (source services-env.sh).
 */
import mongoose, { Types } from 'mongoose';
import pg from 'pg';
import { approvalsConfigSchema } from '../config/approvals-config.ts';
import { testServices } from '../config/test-services.ts';
import { ApprovalPolicy } from '../core/approvals/approval-policy.ts';
import { createApprovalRequest } from '../core/approvals/create-approval-request.ts';
import { decideApproval } from '../core/approvals/decide-approval.ts';
import { executeApprovedRequest } from '../core/approvals/execute-approved.ts';
import type { UserRef } from '../core/conversation/chat-platform.ts';
import { dialectFor } from '../core/db/dialects.ts';
import { createModels, initModels } from '../models/create-models.ts';

const ITERATIONS = 15;
const services = testServices();
const rows: { name: string; p50: number; p95: number }[] = [];

async function measure(name: string, run: () => Promise<unknown>, iterations = ITERATIONS): Promise<void> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const pick = (p: number) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)]!;
  rows.push({ name, p50: pick(50), p95: pick(95) });
  process.stderr.write(`  measured ${name}\n`);
}

const url = new URL(services.mongodbUri);
url.pathname = `/bench_approvals_${Date.now()}`;
const store = await mongoose.createConnection(url.toString(), { maxPoolSize: 20 }).asPromise();
const models = createModels(store);
await initModels(models);
const schema = `bench_appr_${Date.now()}`;
const admin = new pg.Client({ connectionString: services.postgresUrl });
await admin.connect();
await admin.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.accounts (id int PRIMARY KEY, status text, balance int);
  INSERT INTO ${schema}.accounts SELECT g, CASE WHEN g <= 10000 THEN 'dormant' ELSE 'active' END, 100 FROM generate_series(1, 50000) g`);
const driver = await dialectFor('postgres').createDriver(services.postgresUrl);
const user = (id: string): UserRef => ({ platform: 'slack', workspace: 'T1', user: id, displayName: id });
const policy = new ApprovalPolicy(
  { slack: ['UA', 'UB'], discord: [], shell: [] },
  approvalsConfigSchema.parse({}),
);
const thread = { platform: 'slack' as const, workspace: 'T1', channel: 'C1', thread: '1.1' };
const update = `UPDATE ${schema}.accounts SET balance = balance + 1 WHERE status = 'dormant'`;
const batch = `${update}; DELETE FROM ${schema}.accounts WHERE id > 49990; INSERT INTO ${schema}.accounts VALUES (60000, 'x', 1)`;

const newRequest = async () => {
  const dryRun = await driver.dryRun(update, { timeoutMs: 30_000 });
  return (
    await createApprovalRequest(models, policy, {
      thread,
      requester: user('UR'),
      connection: { id: new Types.ObjectId(), name: 'bench' },
      statement: update,
      verdict: 'write',
      dryRun,
    })
  ).request;
};

try {
  await measure('dry run: UPDATE of 10,000 rows (rolled back)', () =>
    driver.dryRun(update, { timeoutMs: 30_000 }),
  );
  await measure('dry run: 3-statement batch (10,000 + 10 + 1 rows)', () =>
    driver.dryRun(batch, { timeoutMs: 30_000 }),
  );
  const dryRun = await driver.dryRun(update, { timeoutMs: 30_000 });
  await measure('create request (store only)', () =>
    createApprovalRequest(models, policy, {
      thread,
      requester: user('UR'),
      connection: { id: new Types.ObjectId(), name: 'bench' },
      statement: update,
      verdict: 'write',
      dryRun,
    }),
  );
  await measure(
    'request (dry run + create) then one Approve (decide, claim, execute)',
    async () => {
      const request = await newRequest();
      const decided = await decideApproval(models, policy, {
        requestId: String(request._id),
        user: user('UA'),
        decision: 'approve',
      });
      if (decided.kind !== 'approved') throw new Error(decided.kind);
      await executeApprovedRequest(models, decided.request, driver, { timeoutMs: 30_000 });
    },
    10,
  );
  let executions = 0;
  await measure(
    'request, then 20 concurrent Approves (2 approvers), one execution',
    async () => {
      const request = await newRequest();
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const decided = await decideApproval(models, policy, {
            requestId: String(request._id),
            user: user(i % 2 ? 'UA' : 'UB'),
            decision: 'approve',
          });
          if (decided.kind === 'approved') {
            executions += 1;
            await executeApprovedRequest(models, decided.request, driver, { timeoutMs: 30_000 });
          }
        }),
      );
    },
    10,
  );
  process.stdout.write(`\nexecutions over ${11} bursts of 20 clicks: ${executions}\n\n`);
  process.stdout.write(
    'benchmark                                                         p50 ms    p95 ms\n',
  );
  for (const r of rows)
    process.stdout.write(
      `${r.name.padEnd(64)} ${r.p50.toFixed(1).padStart(8)} ${r.p95.toFixed(1).padStart(9)}\n`,
    );
} finally {
  await driver.close();
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.end();
  await store.dropDatabase();
  await store.close();
}
