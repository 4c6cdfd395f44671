/** Masking on PostgreSQL: real queries on a real server, traced with libpg-query. */
import pg from 'pg';
import type { DatabaseDriver, SchemaSnapshot } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { uniqueName } from '../db/db-test-helpers.ts';
import { services } from '../support/services.ts';
import { CUSTOMERS, describeSqlMasking, ORDERS, sqlScenarios } from './masking-scenarios.ts';

const schemaName = uniqueName('gov');
let admin: pg.Client;
let driver: DatabaseDriver;
let schema: SchemaSnapshot;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: services.postgresUrl });
  await admin.connect();
  await admin.query(`
    CREATE SCHEMA ${schemaName};
    CREATE TABLE ${schemaName}.customers (
      id int PRIMARY KEY, name text, email text, phone text, country text, salary numeric(10,2));
    CREATE TABLE ${schemaName}.orders (
      id serial PRIMARY KEY, customer_id int REFERENCES ${schemaName}.customers(id), total numeric(10,2));
  `);
  for (const c of CUSTOMERS) {
    await admin.query(`INSERT INTO ${schemaName}.customers VALUES ($1, $2, $3, $4, $5, $6)`, [
      c.id,
      c.name,
      c.email,
      c.phone,
      c.country,
      c.salary,
    ]);
  }
  for (const [customer, total] of ORDERS) {
    await admin.query(`INSERT INTO ${schemaName}.orders (customer_id, total) VALUES ($1, $2)`, [
      customer,
      total,
    ]);
  }
  // The queries name tables unqualified, as users do: the schema is on the search path.
  const url = new URL(services.postgresUrl);
  url.searchParams.set('options', `-c search_path=${schemaName}`);
  driver = await dialectFor('postgres').createDriver(url.toString(), { poolSize: 2 });
  schema = await driver.introspect({ schemas: [schemaName] });
});

afterAll(async () => {
  await driver?.close();
  await admin?.query(`DROP SCHEMA IF EXISTS ${schemaName} CASCADE`);
  await admin?.end();
});

describeSqlMasking('PostgreSQL', () => ({ driver: () => driver, schema: () => schema }), 'postgres', {
  ...sqlScenarios((a, b) => `${a} || ' <' || ${b} || '>'`),
  untraced: 'SELECT u.v FROM customers c, LATERAL unnest(ARRAY[c.email]) AS u(v) ORDER BY 1',
});
