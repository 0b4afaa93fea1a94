import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { fromPglite, type Db as QueueDb } from 'pg-boss';
import { lockEmbeddedStore } from './embedded-lock.ts';
import * as schema from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Raw SQL access, for migrations and the few statements drizzle does not express. */
export interface SqlRunner {
  /** Runs a script of several statements without parameters. */
  exec(script: string): Promise<void>;
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

/**
 * The metadata store: the same schema and migrations on embedded PGlite (one process owns the data
 * directory) or on PostgreSQL (any number of API and worker processes share it).
 */
export interface Store {
  kind: 'embedded' | 'postgres';
  db: Db;
  sql: SqlRunner;
  /** Runs `fn` in one transaction on a single connection. */
  transaction<T>(fn: (sql: SqlRunner) => Promise<T>): Promise<T>;
  /** How pg-boss reaches this store. */
  queueDatabase: { connectionString: string } | { db: QueueDb };
  close(): Promise<void>;
}

export async function openStore(options: { databaseUrl?: string; dataDir: string }): Promise<Store> {
  return options.databaseUrl
    ? openPostgres(options.databaseUrl)
    : openEmbedded(path.join(options.dataDir, 'store'));
}

async function openEmbedded(directory: string): Promise<Store> {
  mkdirSync(directory, { recursive: true });
  // PGlite's WebAssembly PostgreSQL loads only for an embedded store.
  const [{ PGlite }, { drizzle: drizzlePglite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
  ]);
  const unlock = lockEmbeddedStore(directory);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(directory);
  } catch (error) {
    unlock();
    throw error;
  }
  const runner = (q: Pick<PGlite, 'exec' | 'query'>): SqlRunner => ({
    exec: async (script) => void (await q.exec(script)),
    query: async <T>(text: string, params: unknown[] = []) => (await q.query<T>(text, params)).rows,
  });
  return {
    kind: 'embedded',
    db: drizzlePglite(pglite, { schema }) as unknown as Db,
    sql: runner(pglite),
    transaction: (fn) => pglite.transaction((tx) => fn(runner(tx))),
    queueDatabase: { db: fromPglite(pglite) },
    close: async () => {
      try {
        await pglite.close();
      } finally {
        unlock();
      }
    },
  };
}

async function openPostgres(url: string): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url, max: 10, application_name: 'ferry' });
  // A pooled client that breaks (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  await pool.query('select 1');
  const runner = (q: Pick<pg.Pool, 'query'>): SqlRunner => ({
    exec: async (script) => void (await q.query(script)),
    query: async <T>(text: string, params: unknown[] = []) => (await q.query(text, params)).rows as T[],
  });
  return {
    kind: 'postgres',
    db: drizzlePg(pool, { schema }) as unknown as Db,
    sql: runner(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(runner(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    queueDatabase: { connectionString: url },
    close: () => pool.end(),
  };
}
