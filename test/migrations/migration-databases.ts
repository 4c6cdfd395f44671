/**
 * Target (and shadow) databases of a test's own on the real servers: a fresh PostgreSQL database, a fresh
 * MariaDB database or a SQLite file, each with the same small shop (customers, orders) and dropped afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { DatabaseType } from '../../config/config-file.ts';
import { uniqueName } from '../db/db-test-helpers.ts';
import { services } from '../support/services.ts';

export type SqlEngine = Exclude<DatabaseType, 'mongodb'>;

export interface TestDatabase {
  type: SqlEngine;
  url: string;
  /** Runs SQL directly (outside threadql), for setup and for checking what a migration did. */
  exec(sql: string): Promise<void>;
  /** Rows of a query run directly. */
  rows(sql: string): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

const SHOP: Record<SqlEngine, string[]> = {
  postgres: [
    'CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL, name text)',
    "CREATE TABLE orders (id serial PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers (id), total numeric(10,2), status text NOT NULL DEFAULT 'open')",
    "INSERT INTO customers (email, name) VALUES ('a@x', 'Ann'), ('b@x', 'Bob')",
    'INSERT INTO orders (customer_id, total) VALUES (1, 10), (1, 20), (2, 5)',
  ],
  mysql: [
    'CREATE TABLE customers (id int AUTO_INCREMENT PRIMARY KEY, email varchar(200) NOT NULL, name varchar(200))',
    "CREATE TABLE orders (id int AUTO_INCREMENT PRIMARY KEY, customer_id int NOT NULL, total decimal(10,2), status varchar(20) NOT NULL DEFAULT 'open', CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id))",
    "INSERT INTO customers (email, name) VALUES ('a@x', 'Ann'), ('b@x', 'Bob')",
    'INSERT INTO orders (customer_id, total) VALUES (1, 10), (1, 20), (2, 5)',
  ],
  sqlite: [
    'CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT)',
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers (id), total NUMERIC, status TEXT NOT NULL DEFAULT 'open')",
    "INSERT INTO customers (email, name) VALUES ('a@x', 'Ann'), ('b@x', 'Bob')",
    'INSERT INTO orders (customer_id, total) VALUES (1, 10), (1, 20), (2, 5)',
  ],
};

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function postgresDatabase(label: string): Promise<TestDatabase> {
  const name = uniqueName(label);
  const admin = new pg.Client({ connectionString: services.postgresUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(services.postgresUrl, name);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    type: 'postgres',
    url,
    exec: async (sql) => void (await client.query(sql)),
    rows: async (sql) => (await client.query(sql)).rows,
    async drop() {
      await client.end();
      const dropper = new pg.Client({ connectionString: services.postgresUrl });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
    },
  };
}

async function mariadbDatabase(label: string): Promise<TestDatabase> {
  const name = uniqueName(label);
  const admin = await mysql.createConnection(services.mysqlUrl);
  await admin.query(`CREATE DATABASE \`${name}\``);
  await admin.end();
  const url = withDatabase(services.mysqlUrl, name);
  const conn = await mysql.createConnection(url);
  return {
    type: 'mysql',
    url,
    exec: async (sql) => void (await conn.query(sql)),
    rows: async (sql) => (await conn.query(sql))[0] as Record<string, unknown>[],
    async drop() {
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    },
  };
}

async function sqliteDatabase(label: string): Promise<TestDatabase> {
  const dir = await mkdtemp(join(tmpdir(), `tq-${label}-`));
  const file = join(dir, 'shop.db');
  const db = new Database(file);
  return {
    type: 'sqlite',
    url: file,
    exec: async (sql) => void db.exec(sql),
    rows: async (sql) => db.prepare(sql).all() as Record<string, unknown>[],
    async drop() {
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An empty database of its own on the engine's test server (a file for SQLite). */
export function emptyDatabase(type: SqlEngine, label: string): Promise<TestDatabase> {
  return type === 'postgres'
    ? postgresDatabase(label)
    : type === 'mysql'
      ? mariadbDatabase(label)
      : sqliteDatabase(label);
}

/** A database of its own with the shop tables (customers, orders) and a few rows. */
export async function shopDatabase(type: SqlEngine, label: string): Promise<TestDatabase> {
  const db = await emptyDatabase(type, label);
  for (const sql of SHOP[type]) await db.exec(sql);
  return db;
}

/** Migration settings for tests: short lock waits, generous statement limits. */
export const TEST_SETTINGS = { lockTimeoutMs: 2000, statementTimeoutMs: 30_000, verifyTimeoutMs: 30_000 };
