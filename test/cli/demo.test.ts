import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { type TempDir, tempDir } from '../support/databases.ts';
import { type FerryProcess, startFerry } from '../support/ferry.ts';
import { cliFor, ok } from './cli.ts';

// `ferry demo`: sample data in SQLite, a sync into a DuckDB file, and a completed run, with nothing
// but the server itself.

describe('ferry demo', () => {
  let ferry: FerryProcess;
  let dir: TempDir;

  before(async () => {
    ferry = await startFerry();
    dir = tempDir('ferry-demo-');
  });

  after(async () => {
    await ferry?.stop();
    dir?.cleanup();
  });

  it('writes sample data, creates a SQLite to DuckDB sync and completes a run', async () => {
    const cli = cliFor(ferry);
    const demoDir = path.join(dir.path, 'demo');
    const demo = ok(await cli('demo', '--dir', demoDir));
    assert.match(demo.stdout, /run \S+ completed: 20540 records/);
    assert.match(demo.stdout, /orders: completed \(20000 rows\)/);
    assert.doesNotMatch(demo.stderr, /ExperimentalWarning/);
    const warehouse = path.join(demoDir, 'warehouse.duckdb');
    assert.ok(existsSync(warehouse));
    const instance = await DuckDBInstance.create(warehouse);
    const connection = await instance.connect();
    try {
      const rows = (
        await connection.runAndReadAll(
          'select count(*)::int as n, count(note)::int as notes from main.orders',
        )
      ).getRowObjectsJson();
      assert.deepEqual(rows, [{ n: 20000, notes: 206 }]);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
    const again = ok(await cli('demo', '--dir', demoDir));
    assert.match(again.stdout, /from an earlier demo/, 'a second demo reuses its connections and sync');
    assert.match(again.stdout, /run \S+ completed/);
  });
});
