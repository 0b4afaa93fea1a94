import { readdirSync, readFileSync } from 'node:fs';
import type { Store } from './database.ts';

const migrationsDir = new URL('./migrations/', import.meta.url);

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

/** The numbered SQL files of src/store/migrations, in order (`0001_foundation.sql`). */
export function listMigrations(): Migration[] {
  return readdirSync(migrationsDir)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      id: Number(file.slice(0, 4)),
      name: file.slice(5, -4),
      sql: readFileSync(new URL(file, migrationsDir), 'utf8'),
    }));
}

/**
 * Applies the migrations not yet applied, all in one transaction under an advisory lock, so that
 * replicas starting together on one PostgreSQL apply each migration exactly once.
 * Returns the names of the migrations it applied.
 */
export async function migrate(store: Store): Promise<string[]> {
  return store.transaction(async (sql) => {
    await sql.query(`select pg_advisory_xact_lock(hashtext('ferry:migrate'))`);
    await sql.exec(`create table if not exists ferry_migrations (
      id integer primary key, name text not null, applied_at timestamptz not null default now())`);
    const applied = new Set(
      (await sql.query<{ id: number }>('select id from ferry_migrations')).map((r) => r.id),
    );
    const done: string[] = [];
    for (const migration of listMigrations()) {
      if (applied.has(migration.id)) continue;
      await sql.exec(migration.sql);
      await sql.query('insert into ferry_migrations (id, name) values ($1, $2)', [
        migration.id,
        migration.name,
      ]);
      done.push(`${String(migration.id).padStart(4, '0')}_${migration.name}`);
    }
    return done;
  });
}
