import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getTableColumns, getTableName } from 'drizzle-orm';
import { listMigrations, migrate } from '../../src/store/migrate.ts';
import * as schema from '../../src/store/schema.ts';
import { storeKinds } from './stores.ts';

const tables = Object.values(schema).filter(
  (value) => typeof value === 'object' && value && 'getSQL' in value,
);

for (const kind of storeKinds) {
  describe(`migrations on the ${kind.kind} store`, () => {
    it('apply every numbered migration once and are a no-op the second time', async () => {
      const { store, reopen, dispose } = await kind.open();
      try {
        const applied = await migrate(store);
        assert.deepEqual(
          applied,
          listMigrations().map((m) => `${String(m.id).padStart(4, '0')}_${m.name}`),
        );
        assert.deepEqual(await migrate(store), []);
        await store.close();
        const again = await reopen();
        assert.deepEqual(await migrate(again), [], 'a restarted process finds the store migrated');
        await again.close();
      } finally {
        await dispose();
      }
    });

    it('creates every table and column the drizzle schema declares', async () => {
      const { store, dispose } = await kind.open();
      try {
        await migrate(store);
        const rows = await store.sql.query<{ table_name: string; column_name: string }>(
          `select table_name, column_name from information_schema.columns where table_schema = 'public'`,
        );
        const present = new Set(rows.map((r) => `${r.table_name}.${r.column_name}`));
        assert.ok(tables.length >= 5);
        for (const table of tables) {
          for (const column of Object.values(getTableColumns(table as never)) as { name: string }[]) {
            const name = `${getTableName(table as never)}.${column.name}`;
            assert.ok(present.has(name), `${name} is in the drizzle schema but not in the migrations`);
          }
        }
      } finally {
        await store.close();
        await dispose();
      }
    });
  });
}

describe('migrations on PostgreSQL with several processes', () => {
  it('are applied exactly once when replicas start together', async () => {
    const { store, reopen, dispose } = await storeKinds[1].open();
    const others = await Promise.all([reopen(), reopen(), reopen()]);
    try {
      const results = await Promise.all([store, ...others].map((s) => migrate(s)));
      const appliedCounts = results.map((r) => r.length).sort();
      assert.deepEqual(appliedCounts, [0, 0, 0, listMigrations().length]);
      const rows = await store.sql.query<{ count: number }>(
        'select count(*)::int as count from ferry_migrations',
      );
      assert.equal(rows[0]?.count, listMigrations().length);
    } finally {
      await Promise.all([store, ...others].map((s) => s.close()));
      await dispose();
    }
  });
});
