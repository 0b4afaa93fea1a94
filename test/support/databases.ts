/**
 * Throwaway databases and directories for tests, on the machine's real services:
 * PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and MariaDB on 127.0.0.1:3306 (root, no password).
 * Names are unique per call, so test files and repeated runs can overlap.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';

const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' } as const;
const MYSQL = { host: '127.0.0.1', port: 3306, user: 'root' } as const;

export const uniqueName = (prefix = 'ferry_t') => `${prefix}_${randomBytes(6).toString('hex')}`;

export interface TestDatabase<Config> {
  name: string;
  config: Config;
  url: string;
  /** Runs SQL in the database (a fresh connection each call) and returns its rows. */
  query<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

export interface PgTestConfig {
  hostname: string;
  port: number;
  database: string;
  username: string;
  [key: string]: unknown;
}

export type MysqlTestConfig = PgTestConfig;

async function onPgAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...PG, database: 'postgres' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createPgDatabase(): Promise<TestDatabase<PgTestConfig>> {
  const name = uniqueName();
  await onPgAdmin((client) => client.query(`create database "${name}"`));
  return {
    name,
    config: { hostname: PG.host, port: PG.port, database: name, username: PG.user },
    url: `postgres://${PG.user}@${PG.host}:${PG.port}/${name}`,
    async query(sql, params) {
      const client = new pg.Client({ ...PG, database: name });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    async drop() {
      await onPgAdmin((client) => client.query(`drop database if exists "${name}" with (force)`));
    },
  };
}

async function onMysqlAdmin<T>(work: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection({ ...MYSQL, password: '' });
  try {
    return await work(connection);
  } finally {
    await connection.end();
  }
}

export async function createMysqlDatabase(): Promise<TestDatabase<MysqlTestConfig>> {
  const name = uniqueName();
  await onMysqlAdmin((connection) =>
    connection.query(`create database \`${name}\` character set utf8mb4 collate utf8mb4_unicode_ci`),
  );
  return {
    name,
    config: { hostname: MYSQL.host, port: MYSQL.port, database: name, username: MYSQL.user },
    url: `mysql://${MYSQL.user}@${MYSQL.host}:${MYSQL.port}/${name}`,
    async query(sql, params) {
      const connection = await mysql.createConnection({
        ...MYSQL,
        password: '',
        database: name,
        charset: 'utf8mb4',
      });
      try {
        const [rows] = await connection.query(sql, params);
        return rows as any[];
      } finally {
        await connection.end();
      }
    },
    async drop() {
      await onMysqlAdmin((connection) => connection.query(`drop database if exists \`${name}\``));
    },
  };
}

export interface TempDir {
  path: string;
  cleanup(): void;
}

export function tempDir(prefix = 'ferry-test-'): TempDir {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { path: dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
