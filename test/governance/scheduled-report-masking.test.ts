/**
 * A saved template run by the scheduler on a connection with customers.email masked: the report it posts (table,
 * CSV, chart) holds no raw email, because the scheduler reads through the same governed driver and renderers as a
 * thread. Real store (MongoDB wire), Redis, the sample database in SQLite; the sink records what would be posted.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { configFileSchema } from '../../config/config-file.ts';
import { ConfiguredConnections } from '../../core/connections/connection-provider.ts';
import { createResultRenderers } from '../../core/conversation/create-result-renderers.ts';
import type { SchemaSnapshot } from '../../core/db/database-dialect.ts';
import { ResultMasker } from '../../core/governance/result-masker.ts';
import { createLogger } from '../../core/logger.ts';
import { createSampleDatabase } from '../../core/sample/sample-database.ts';
import { checkTemplate } from '../../core/templates/check-template.ts';
import {
  createTemplateServices,
  type TemplateServices,
} from '../../core/templates/create-template-services.ts';
import { findOrCreateSession } from '../../models/query-session.ts';
import { expectedCharts, leaked, MASKED_EMAIL, sampleEmails } from '../e2e/governance-support.ts';
import { openModelStore, type ModelStore } from '../models/model-store.ts';
import { services } from '../support/services.ts';
import { RecordingSink } from '../templates/template-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'tq-gov-report-'));
const path = join(dir, 'shop.db');
const prefix = `tq-test:gov-report:${randomBytes(4).toString('hex')}:`;
const sink = new RecordingSink();
let clock = new Date('2026-03-02T08:00:00Z');
let store: ModelStore;
let redis: Redis;
let connections: ConfiguredConnections;
let templates: TemplateServices;

beforeAll(async () => {
  createSampleDatabase(path, new Date('2026-01-15T12:00:00Z'));
  store = await openModelStore('gov-report');
  redis = new Redis(services.redisUrl, { maxRetriesPerRequest: 2 });
  const config = configFileSchema.parse({});
  const shop = {
    name: 'shop',
    type: 'sqlite' as const,
    url: path,
    channels: ['*'],
    default: true,
    maskedColumns: [MASKED_EMAIL],
  };
  const schemas = new Map<string, SchemaSnapshot>();
  connections = new ConfiguredConnections(
    [shop],
    { get: async (name) => schemas.get(name), set: async (name, schema) => void schemas.set(name, schema) },
    undefined,
    {},
    new ResultMasker([shop], { hashKey: 'scheduled-report-masking-key' }),
  );
  templates = createTemplateServices({
    models: store.models,
    redis,
    redisUrl: services.redisUrl,
    prefix,
    connections,
    renderers: createResultRenderers(),
    sink,
    limits: config.limits,
    schedules: config.schedules,
    scheduler: { work: false },
    now: () => clock,
    logger: createLogger('silent'),
  });
});

afterAll(async () => {
  await templates?.scheduler.close();
  await connections?.close();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  await redis?.quit();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('posts a scheduled report of a template whose answer includes a masked column without a raw value of it', async () => {
  const sql =
    'SELECT c.email, count(*) AS orders FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.country = :country GROUP BY c.email ORDER BY orders DESC, c.email LIMIT 8';
  const parameters = [{ name: 'country', type: 'text' as const, default: 'DE', required: false }];
  await checkTemplate({ databaseType: 'sqlite', sql, parameters }, (q) => connections.classify('shop', q));
  const thread = { platform: 'slack' as const, workspace: 'T1', channel: 'CSAVE', thread: 'buyers.1' };
  const session = await findOrCreateSession(store.models.QuerySession, thread, { question: 'top buyers' });
  const owner = { key: 'slack:T1:UOWNER', admin: false };
  const template = await templates.store.create(
    {
      workspace: 'slack:T1',
      name: 'top-buyers',
      question: 'Top buyers',
      sql,
      parameters,
      databaseType: 'sqlite',
      connectionName: 'shop',
      session: session._id,
    },
    owner,
  );
  const { schedule } = await templates.store.addSchedule(
    template._id,
    {
      cron: '0 9 * * 1',
      timeZone: 'UTC',
      summary: 'Mondays 09:00',
      target: { platform: 'slack', workspace: 'T1', channel: 'CREPORTS' },
      channelName: 'reports',
      parameterValues: { country: 'DE' },
    },
    owner,
  );
  const tick = new Date('2026-03-09T09:00:00Z');
  clock = new Date(tick.getTime() + 1_000);
  const outcome = await templates.runner.run({
    scheduleId: schedule._id,
    tick: tick.getTime(),
    jobId: 'gov-job',
    attemptsMade: 0,
    maxAttempts: 1,
  });
  expect(outcome).toMatchObject({ kind: 'posted' });

  const [report] = sink.reports();
  const parts = report!.reply.parts;
  const table = parts.find((p) => p.type === 'table');
  const csv = parts.find((p) => p.type === 'file');
  const chart = parts.find((p) => p.type === 'image');
  if (table?.type !== 'table' || csv?.type !== 'file' || chart?.type !== 'image')
    throw new Error('expected a table, a CSV and a chart in the report');
  const emails = sampleEmails(path);
  const shown =
    JSON.stringify(table.result.rows) + csv.file.data.toString('utf8') + JSON.stringify(report!.reply);
  expect(table.result.rows.map((r) => r[0])).toEqual(table.result.rows.map(() => '•••'));
  expect(leaked(shown, emails)).toEqual([]);
  const expected = await expectedCharts(path, sql.replace(':country', "'DE'"), 'Top buyers');
  expect(chart.image.data.equals(expected.masked)).toBe(true);
  expect(chart.image.data.equals(expected.raw)).toBe(false);
});
