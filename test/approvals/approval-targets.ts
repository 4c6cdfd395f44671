/**
 * Real target databases for the approval tests: an `accounts` table (30 rows: ids 1–10 dormant, the rest active,
 * balance 100) on PostgreSQL, MariaDB, SQLite and FerretDB, each with the statements the tests approve and a way to
 * read the data back and to change it behind the bot's back (for the drift tests).
 */
import Database from 'better-sqlite3';
import { MongoClient } from 'mongodb';
import mysql from 'mysql2/promise';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { DatabaseType } from '../../config/config-file.ts';
import type { DatabaseDriver } from '../../core/db/database-dialect.ts';
import { dialectFor } from '../../core/db/dialects.ts';
import { uniqueName } from '../db/db-test-helpers.ts';
import { isolatedMongoUri, services } from '../support/services.ts';

export interface Target {
  type: DatabaseType;
  driver: DatabaseDriver;
  /** Adds 1 to the balance of the dormant accounts: running it twice would show. */
  bumpDormant: string;
  /** Deletes the dormant accounts. */
  deleteDormant: string;
  /** Sum of balances of the dormant accounts now. */
  dormantBalance(): Promise<number>;
  /** How many accounts there are now. */
  accounts(): Promise<number>;
  /** Marks `n` more active accounts dormant, behind the bot's back. */
  makeDormant(n: number): Promise<void>;
  /** Restores the 30 accounts. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

const ROWS = Array.from({ length: 30 }, (_, i) => ({
  id: i + 1,
  status: i < 10 ? 'dormant' : 'active',
  balance: 100,
}));

/** Opens one target database of the given type, filled with the 30 accounts. */
export async function openTarget(type: DatabaseType): Promise<Target> {
  switch (type) {
    case 'postgres':
      return postgresTarget();
    case 'mysql':
      return mysqlTarget();
    case 'sqlite':
      return sqliteTarget();
    case 'mongodb':
      return mongoTarget();
  }
}

const sqlStatements = (table: string) => ({
  bumpDormant: `UPDATE ${table} SET balance = balance + 1 WHERE status = 'dormant'`,
  deleteDormant: `DELETE FROM ${table} WHERE status = 'dormant'`,
});
const values = ROWS.map((r) => `(${r.id}, '${r.status}', ${r.balance})`).join(', ');

async function postgresTarget(): Promise<Target> {
  const schema = uniqueName('appr');
  const admin = new pg.Client({ connectionString: services.postgresUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const table = `${schema}.accounts`;
  const scalar = async (sql: string) => Number((await admin.query<{ n: string }>(sql)).rows[0]?.n ?? 0);
  const reset = async () => {
    await admin.query(
      `DROP TABLE IF EXISTS ${table}; CREATE TABLE ${table} (id int PRIMARY KEY, status text, balance int); INSERT INTO ${table} VALUES ${values}`,
    );
  };
  await reset();
  const driver = await dialectFor('postgres').createDriver(services.postgresUrl, { poolSize: 4 });
  return {
    type: 'postgres',
    driver,
    ...sqlStatements(table),
    dormantBalance: () =>
      scalar(`SELECT coalesce(sum(balance), 0) AS n FROM ${table} WHERE status = 'dormant'`),
    accounts: () => scalar(`SELECT count(*) AS n FROM ${table}`),
    makeDormant: async (n) => {
      await admin.query(`UPDATE ${table} SET status = 'dormant' WHERE id BETWEEN 11 AND ${10 + n}`);
    },
    reset,
    close: async () => {
      await driver.close();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

async function mysqlTarget(): Promise<Target> {
  const database = uniqueName('appr');
  const admin = await mysql.createConnection({ uri: services.mysqlUrl, multipleStatements: true });
  await admin.query(`CREATE DATABASE \`${database}\``);
  const table = `\`${database}\`.accounts`;
  const scalar = async (sql: string) => Number(((await admin.query(sql))[0] as { n: unknown }[])[0]?.n ?? 0);
  const reset = async () => {
    await admin.query(
      `DROP TABLE IF EXISTS ${table}; CREATE TABLE ${table} (id int PRIMARY KEY, status varchar(10), balance int) ENGINE=InnoDB; INSERT INTO ${table} VALUES ${values}`,
    );
  };
  await reset();
  const url = new URL(services.mysqlUrl);
  url.pathname = `/${database}`;
  const driver = await dialectFor('mysql').createDriver(url.toString(), { poolSize: 4 });
  return {
    type: 'mysql',
    driver,
    ...sqlStatements('accounts'),
    dormantBalance: () =>
      scalar(`SELECT coalesce(sum(balance), 0) AS n FROM ${table} WHERE status = 'dormant'`),
    accounts: () => scalar(`SELECT count(*) AS n FROM ${table}`),
    makeDormant: async (n) => {
      await admin.query(`UPDATE ${table} SET status = 'dormant' WHERE id BETWEEN 11 AND ${10 + n}`);
    },
    reset,
    close: async () => {
      await driver.close();
      await admin.query(`DROP DATABASE \`${database}\``);
      await admin.end();
    },
  };
}

async function sqliteTarget(): Promise<Target> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tq-appr-'));
  const file = path.join(dir, 'bank.db');
  const admin = new Database(file);
  const scalar = (sql: string) => Number((admin.prepare(sql).get() as { n: unknown }).n ?? 0);
  const reset = async () => {
    admin.exec(
      `DROP TABLE IF EXISTS accounts; CREATE TABLE accounts (id INTEGER PRIMARY KEY, status TEXT, balance INTEGER); INSERT INTO accounts VALUES ${values}`,
    );
  };
  await reset();
  const driver = await dialectFor('sqlite').createDriver(`sqlite://${file}`, { poolSize: 2 });
  return {
    type: 'sqlite',
    driver,
    ...sqlStatements('accounts'),
    dormantBalance: async () =>
      scalar("SELECT coalesce(sum(balance), 0) AS n FROM accounts WHERE status = 'dormant'"),
    accounts: async () => scalar('SELECT count(*) AS n FROM accounts'),
    makeDormant: async (n) => {
      admin.exec(`UPDATE accounts SET status = 'dormant' WHERE id BETWEEN 11 AND ${10 + n}`);
    },
    reset,
    close: async () => {
      await driver.close();
      admin.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function mongoTarget(): Promise<Target> {
  const uri = isolatedMongoUri('appr-target');
  const client = new MongoClient(uri);
  const accounts = client.db().collection<{ _id: number; status: string; balance: number }>('accounts');
  const reset = async () => {
    await accounts.deleteMany({});
    await accounts.insertMany(ROWS.map((r) => ({ _id: r.id, status: r.status, balance: r.balance })));
  };
  await reset();
  const driver = await dialectFor('mongodb').createDriver(uri);
  return {
    type: 'mongodb',
    driver,
    bumpDormant: JSON.stringify({
      collection: 'accounts',
      operation: 'updateMany',
      filter: { status: 'dormant' },
      update: { $inc: { balance: 1 } },
    }),
    deleteDormant: JSON.stringify({
      collection: 'accounts',
      operation: 'deleteMany',
      filter: { status: 'dormant' },
    }),
    dormantBalance: async () =>
      (await accounts.find({ status: 'dormant' }).toArray()).reduce((sum, d) => sum + d.balance, 0),
    accounts: () => accounts.countDocuments({}),
    makeDormant: async (n) => {
      await accounts.updateMany({ _id: { $gte: 11, $lte: 10 + n } }, { $set: { status: 'dormant' } });
    },
    reset,
    close: async () => {
      await driver.close();
      await client.db().dropDatabase();
      await client.close();
    },
  };
}
