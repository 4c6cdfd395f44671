/** Masking on MariaDB: real queries on a real server, traced with sqlparser-rs. */
import mysql from 'mysql2/promise';
import type { DatabaseDriver, SchemaSnapshot } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { uniqueName } from '../db/db-test-helpers.ts';
import { services } from '../support/services.ts';
import { CUSTOMERS, describeSqlMasking, ORDERS, sqlScenarios } from './masking-scenarios.ts';

const database = uniqueName('gov');
let admin: mysql.Connection;
let driver: DatabaseDriver;
let schema: SchemaSnapshot;

beforeAll(async () => {
  admin = await mysql.createConnection({ uri: services.mysqlUrl, multipleStatements: true });
  await admin.query(`
    CREATE DATABASE \`${database}\`;
    USE \`${database}\`;
    CREATE TABLE customers (
      id int PRIMARY KEY, name varchar(50), email varchar(100), phone varchar(30), country char(2),
      salary decimal(10,2));
    CREATE TABLE orders (id int AUTO_INCREMENT PRIMARY KEY, customer_id int, total decimal(10,2));
  `);
  for (const c of CUSTOMERS) {
    await admin.query('INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)', [
      c.id,
      c.name,
      c.email,
      c.phone,
      c.country,
      c.salary,
    ]);
  }
  for (const [customer, total] of ORDERS) {
    await admin.query('INSERT INTO orders (customer_id, total) VALUES (?, ?)', [customer, total]);
  }
  const url = new URL(services.mysqlUrl);
  url.pathname = `/${database}`;
  driver = await dialectFor('mysql').createDriver(url.toString(), { poolSize: 2 });
  schema = await driver.introspect();
});

afterAll(async () => {
  await driver?.close();
  await admin?.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await admin?.end();
});

describeSqlMasking('MariaDB', () => ({ driver: () => driver, schema: () => schema }), 'mysql', {
  ...sqlScenarios((a, b) => `CONCAT(${a}, ' <', ${b}, '>')`),
  // The derived table's column has no name the tracer can know, so the result column cannot be traced.
  untraced: "SELECT * FROM (SELECT concat(email, '') FROM customers) AS t",
});
