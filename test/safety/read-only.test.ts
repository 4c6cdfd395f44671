/**
 * The classifier against the real engines: every case it calls `read` must run inside the engine's own read-only
 * scope, and the writes it names must be refused there (the backstop the classifier is one layer above).
 */
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { classifySql } from '../../core/safety/classify-sql.ts';
import { services } from '../support/services.ts';
import { MYSQL_CASES } from './mysql-cases.ts';
import { POSTGRES_CASES } from './postgres-cases.ts';
import { SQLITE_CASES } from './sqlite-cases.ts';

const suffix = randomBytes(4).toString('hex');
const reads = <T extends [string, string]>(cases: T[]): string[] =>
  cases.filter(([sql, v]) => v === 'read' && sql.trim() !== '').map(([sql]) => sql);

describe('PostgreSQL: reads run in a READ ONLY transaction, writes are refused there', () => {
  const schema = `safety_${suffix}`;
  const client = new pg.Client({ connectionString: services.postgresUrl });

  beforeAll(async () => {
    await client.connect();
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(`SET search_path = ${schema}, public`);
    await client.query('CREATE TABLE t (a int PRIMARY KEY, b text, c int, d timestamptz)');
    await client.query('CREATE TABLE u (a int, b int)');
    await client.query(`INSERT INTO t VALUES (1, 'x', 2, now())`);
  });
  afterAll(async () => {
    await client.query(`DROP SCHEMA ${schema} CASCADE`);
    await client.end();
  });

  // node-postgres cannot run COPY … TO STDOUT without a stream plugin; the rest run as the executor would.
  test.each(reads(POSTGRES_CASES).filter((sql) => !/^COPY/i.test(sql)))('%j runs read-only', async (sql) => {
    expect((await classifySql(sql, 'postgres')).verdict).toBe('read');
    await client.query('BEGIN READ ONLY');
    try {
      await client.query(sql);
    } finally {
      await client.query('ROLLBACK');
    }
  });

  const refused = POSTGRES_CASES.filter(([sql, v]) => v === 'write' && !/^(COPY|REFRESH)/i.test(sql));
  test.each(refused)('%j (write) is refused by the read-only transaction', async (sql) => {
    await client.query('BEGIN READ ONLY');
    try {
      await expect(client.query(sql)).rejects.toMatchObject({ code: '25006' });
    } finally {
      await client.query('ROLLBACK');
    }
  });
});

describe('MariaDB: reads run in a READ ONLY transaction', () => {
  let conn: mysql.Connection;
  const db = `safety_${suffix}`;
  // MySQL-8-only syntax that MariaDB rejects; the classifier serves both servers.
  const mysqlOnly = new Set(['EXPLAIN ANALYZE SELECT * FROM t']);

  beforeAll(async () => {
    conn = await mysql.createConnection({ uri: services.mysqlUrl, multipleStatements: true });
    await conn.query(`CREATE DATABASE ${db}`);
    await conn.query(`USE ${db}`);
    await conn.query('CREATE TABLE t (a INT PRIMARY KEY, b TEXT, c INT, d DATETIME)');
    await conn.query('CREATE TABLE u (a INT, b TEXT)');
    await conn.query(`INSERT INTO t VALUES (1, '{"a": 1}', 2, NOW())`);
  });
  afterAll(async () => {
    await conn.query(`DROP DATABASE ${db}`);
    await conn.end();
  });

  test.each(reads(MYSQL_CASES).filter((sql) => !mysqlOnly.has(sql)))('%j runs read-only', async (sql) => {
    expect((await classifySql(sql, 'mysql')).verdict).toBe('read');
    await conn.query('START TRANSACTION READ ONLY');
    try {
      await conn.query(sql);
    } finally {
      await conn.query('ROLLBACK');
    }
  });

  test.each(['INSERT INTO t VALUES (9, NULL, NULL, NULL)', 'UPDATE t SET c = 1', 'DELETE FROM t'])(
    '%j (write) is refused by the read-only transaction',
    async (sql) => {
      expect((await classifySql(sql, 'mysql')).verdict).toBe('write');
      await conn.query('START TRANSACTION READ ONLY');
      try {
        await expect(conn.query(sql)).rejects.toMatchObject({
          code: 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION',
        });
      } finally {
        await conn.query('ROLLBACK');
      }
    },
  );
});

describe('SQLite: the engine agrees that reads are read-only statements', () => {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT, c INT, d TEXT); CREATE INDEX t_a ON t (a);');
  db.exec('CREATE TABLE u (a INTEGER, b TEXT);');
  afterAll(() => db.close());

  test.each(reads(SQLITE_CASES))(
    '%j is read-only to sqlite3_stmt_readonly and runs under query_only',
    async (sql) => {
      const verdict = await classifySql(sql, 'sqlite');
      expect(verdict.verdict).toBe('read');
      db.pragma('query_only = ON');
      try {
        for (const { sql: text } of verdict.statements) {
          const stmt = db.prepare(text);
          // SQLite flags the journal_mode opcode as a write even when it only reports the mode.
          expect(stmt.readonly).toBe(text !== 'PRAGMA journal_mode');
          if (text === 'SELECT :a, ?1, @b, $c') continue; // better-sqlite3 cannot bind ?NNN beside names
          if (stmt.reader) stmt.all();
          else stmt.run();
        }
      } finally {
        db.pragma('query_only = OFF');
      }
    },
  );

  const changes = SQLITE_CASES.filter(([sql, v]) => (v === 'write' || v === 'ddl') && !sql.includes(';'));
  test.each(changes)('%j (%s) is not read-only to sqlite3_stmt_readonly', (sql) => {
    // A fresh database shaped so that the statement compiles (the object it drops exists, the one it creates not).
    const fresh = new Database(':memory:');
    try {
      fresh.exec('CREATE TABLE t (a INTEGER PRIMARY KEY, b, c, d)');
      if (!/RENAME TO u/.test(sql)) fresh.exec('CREATE TABLE u (a, b, c, d)');
      if (/^DROP INDEX/i.test(sql)) fresh.exec('CREATE INDEX i ON t (c)');
      if (/^DROP VIEW/i.test(sql)) fresh.exec('CREATE VIEW v AS SELECT 1');
      expect(fresh.prepare(sql).readonly).toBe(false);
    } finally {
      fresh.close();
    }
  });
});
