/** Masking on SQLite: real queries on a real file, traced with sql-parser-cst. */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DatabaseDriver, SchemaSnapshot } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { CUSTOMERS, describeSqlMasking, ORDERS, sqlScenarios } from './masking-scenarios.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tq-gov-'));
const file = path.join(dir, 'shop.db');
let driver: DatabaseDriver;
let schema: SchemaSnapshot;

beforeAll(async () => {
  const db = new Database(file);
  db.exec(`
    CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT, country TEXT, salary REAL);
    CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total NUMERIC);
  `);
  const insert = db.prepare('INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)');
  for (const c of CUSTOMERS) insert.run(c.id, c.name, c.email, c.phone, c.country, Number(c.salary));
  const order = db.prepare('INSERT INTO orders (customer_id, total) VALUES (?, ?)');
  for (const [customer, total] of ORDERS) order.run(customer, Number(total));
  db.close();
  driver = await dialectFor('sqlite').createDriver(file);
  schema = await driver.introspect();
});

afterAll(async () => {
  await driver?.close();
  rmSync(dir, { recursive: true, force: true });
});

describeSqlMasking('SQLite', () => ({ driver: () => driver, schema: () => schema }), 'sqlite', {
  ...sqlScenarios((a, b) => `${a} || ' <' || ${b} || '>'`),
  untraced: 'SELECT j.value AS v FROM customers, json_each(json_array(customers.email)) AS j ORDER BY 1',
});
