/**
 * Bound template parameters on the real engines: each driver's read path (executeRead, streamRead, explain) takes
 * the values apart from the text, so a hostile value matches nothing instead of changing the query, and typed
 * values compare the way the column types expect. PostgreSQL, MariaDB, SQLite and the MongoDB wire (FerretDB).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { DatabaseType } from '../../config/config-file.ts';
import type { DatabaseDriver } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { bindTemplate } from '../../core/templates/bind-template.ts';
import { resolveParameterValues, type ParameterDefinition } from '../../core/templates/parameter-values.ts';
import { collect, uniqueName } from '../db/db-test-helpers.ts';
import { isolatedMongoUri, services } from '../support/services.ts';

const read = { timeoutMs: 10_000, maxRows: 100 };
const ROWS: [string, string, string, boolean, number][] = [
  ['Ann', 'Germany', '2026-01-10', true, 10],
  ['Bob', 'Germany', '2025-12-01', false, 20],
  ['Cid', 'France', '2026-02-01', true, 30],
  ['Dee', "x' OR '1'='1", '2026-03-01', true, 40],
];
const definitions: ParameterDefinition[] = [
  { name: 'country', type: 'text', required: true },
  { name: 'since', type: 'date', default: '2026-01-01', required: false },
  { name: 'active', type: 'boolean', default: true, required: false },
  { name: 'min_score', type: 'number', default: 0, required: false },
];
const SQL =
  "SELECT name FROM customers WHERE country = :country AND signed_up >= :since AND active = :active AND score >= :min_score AND note <> ':country' -- :since\nORDER BY name";

const pgSchema = uniqueName('tpl');
const myDatabase = uniqueName('tpl');
const dir = mkdtempSync(path.join(tmpdir(), 'tq-tpl-'));
const mongoUri = isolatedMongoUri('tpl-bound');
let pgAdmin: pg.Client;
let myAdmin: mysql.Connection;
let mongo: MongoClient;
const drivers = new Map<DatabaseType, DatabaseDriver>();

beforeAll(async () => {
  pgAdmin = new pg.Client({ connectionString: services.postgresUrl });
  await pgAdmin.connect();
  await pgAdmin.query(
    `CREATE SCHEMA ${pgSchema}; CREATE TABLE ${pgSchema}.customers (name text, country text, signed_up date, active boolean, score numeric, note text DEFAULT '')`,
  );
  for (const r of ROWS)
    await pgAdmin.query(`INSERT INTO ${pgSchema}.customers VALUES ($1, $2, $3, $4, $5)`, r);
  const pgUrl = new URL(services.postgresUrl);
  pgUrl.searchParams.set('options', `-c search_path=${pgSchema}`);
  drivers.set('postgres', await dialectFor('postgres').createDriver(pgUrl.toString()));

  myAdmin = await mysql.createConnection({ uri: services.mysqlUrl, multipleStatements: true });
  await myAdmin.query(
    `CREATE DATABASE \`${myDatabase}\`; CREATE TABLE \`${myDatabase}\`.customers (name varchar(20), country varchar(40), signed_up date, active boolean, score decimal(10,2), note varchar(10) DEFAULT '') ENGINE=InnoDB`,
  );
  for (const r of ROWS)
    await myAdmin.query(`INSERT INTO \`${myDatabase}\`.customers VALUES (?, ?, ?, ?, ?, '')`, r);
  const myUrl = new URL(services.mysqlUrl);
  myUrl.pathname = `/${myDatabase}`;
  drivers.set('mysql', await dialectFor('mysql').createDriver(myUrl.toString()));

  const file = path.join(dir, 'shop.db');
  const db = new Database(file);
  db.exec(
    "CREATE TABLE customers (name TEXT, country TEXT, signed_up TEXT, active INTEGER, score NUMERIC, note TEXT DEFAULT '')",
  );
  for (const r of ROWS)
    db.prepare('INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)').run(
      r[0],
      r[1],
      r[2],
      r[3] ? 1 : 0,
      r[4],
      '',
    );
  db.close();
  drivers.set('sqlite', await dialectFor('sqlite').createDriver(file));

  mongo = await MongoClient.connect(mongoUri);
  await mongo
    .db()
    .collection('customers')
    .insertMany(
      ROWS.map(([name, country, signedUp, active, score]) => ({
        name,
        country,
        signedUp: new Date(`${signedUp}T00:00:00Z`),
        active,
        score,
        note: '',
      })),
    );
  drivers.set('mongodb', await dialectFor('mongodb').createDriver(mongoUri));
});

afterAll(async () => {
  for (const d of drivers.values()) await d.close();
  await pgAdmin?.query(`DROP SCHEMA IF EXISTS ${pgSchema} CASCADE`);
  await pgAdmin?.end();
  await myAdmin?.query(`DROP DATABASE IF EXISTS \`${myDatabase}\``);
  await myAdmin?.end();
  await mongo?.db().dropDatabase();
  await mongo?.close();
  rmSync(dir, { recursive: true, force: true });
});

const MONGO = JSON.stringify({
  collection: 'customers',
  operation: 'find',
  filter: {
    country: ':country',
    signedUp: { $gte: ':since' },
    active: ':active',
    score: { $gte: ':min_score' },
    note: { $ne: 'x :country' },
  },
  projection: { _id: 0, name: 1 },
  sort: { name: 1 },
});

describe.each(['postgres', 'mysql', 'sqlite', 'mongodb'] as const)('%s: bound template reads', (type) => {
  const text = type === 'mongodb' ? MONGO : SQL;
  const bound = (given: Record<string, string>) =>
    bindTemplate(type, text, definitions, resolveParameterValues(definitions, given));
  const names = (rows: unknown[][]) => rows.map((r) => r[0]);

  it('returns the rows for the values given, with defaults for the rest', async () => {
    const driver = drivers.get(type)!;
    const q = await bound({ country: 'Germany' });
    expect(names((await driver.executeRead(q.query, { ...read, params: q.params })).rows)).toEqual(['Ann']);
    const all = await bound({ country: 'Germany', since: '2025-01-01', active: 'false' });
    expect(names((await driver.executeRead(all.query, { ...read, params: all.params })).rows)).toEqual([
      'Bob',
    ]);
    const scored = await bound({ country: 'France', min_score: '30' });
    expect(names((await driver.executeRead(scored.query, { ...read, params: scored.params })).rows)).toEqual([
      'Cid',
    ]);
  });

  it('treats a hostile value as data: it matches only the row that holds exactly that text', async () => {
    const driver = drivers.get(type)!;
    const q = await bound({ country: "x' OR '1'='1" });
    if (type !== 'mongodb') expect(q.query).not.toContain("OR '1'='1");
    expect(names((await driver.executeRead(q.query, { ...read, params: q.params })).rows)).toEqual(['Dee']);
  });

  it('streams and explains with the same values', async () => {
    const driver = drivers.get(type)!;
    const q = await bound({ country: 'Germany', since: '2025-01-01', active: 'true' });
    const stream = await driver.streamRead(q.query, { ...read, params: q.params, batchSize: 1 });
    expect((await collect(stream.batches)).flat().map((r) => r[0])).toEqual(['Ann']);
    if (type !== 'mongodb') {
      const plan = await driver.explain(q.query, { timeoutMs: 10_000, params: q.params });
      expect(plan?.plan.length).toBeGreaterThan(0);
    }
  });

  it('the bound text is what the classifier reads as one read statement', async () => {
    const q = await bound({ country: 'Germany' });
    const verdict = await dialectFor(type).classify(q.query);
    expect(verdict.verdict).toBe('read');
    expect(verdict.statements).toHaveLength(1);
  });
});
