import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { getConnectorType } from '../../src/connectors/registry.ts';
import type { ConnectorType } from '../../src/connectors/types.ts';
import { createPgDatabase, type PgTestConfig, type TestDatabase, tempDir } from '../support/databases.ts';
import { type FerryProcess, http, startFerry } from '../support/ferry.ts';

const implementations: Record<string, () => Promise<ConnectorType>> = {
  mysql: async () => (await import('../../src/connectors/mysql/index.ts')).mysqlConnector as ConnectorType,
  duckdb: async () => (await import('../../src/connectors/duckdb/index.ts')).duckdbConnector as ConnectorType,
  files: async () => (await import('../../src/connectors/files/index.ts')).filesConnector as ConnectorType,
};

const drivers = ['@duckdb/', '/mysql2/', '@electric-sql/pglite'];

describe('connector registry', () => {
  it('describes the connectors it loads on use as their modules do', async () => {
    for (const [id, load] of Object.entries(implementations)) {
      const registered = getConnectorType(id)!;
      const loaded = await load();
      assert.deepEqual(
        [registered.id, registered.name, registered.capabilities, registered.secretFields],
        [loaded.id, loaded.name, loaded.capabilities, loaded.secretFields],
        id,
      );
      assert.equal(registered.configSchema, loaded.configSchema, id);
      assert.equal(Boolean(registered.openReader), Boolean(loaded.openReader), `${id} reader`);
      assert.equal(Boolean(registered.openWriter), Boolean(loaded.openWriter), `${id} writer`);
    }
  });

  describe('a server on a PostgreSQL store', () => {
    let store: TestDatabase<PgTestConfig>;
    let ferry: FerryProcess;
    const dir = tempDir('ferry-modules-');
    const moduleLog = path.join(dir.path, 'modules.log');
    const loaded = () => readFileSync(moduleLog, 'utf8');

    before(async () => {
      store = await createPgDatabase();
      const hook = fileURLToPath(new URL('../support/record-modules.ts', import.meta.url));
      ferry = await startFerry({
        env: {
          DATABASE_URL: store.url,
          FERRY_SECRET_KEY: 'a'.repeat(48),
          NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${hook}`,
          FERRY_TEST_MODULE_LOG: moduleLog,
        },
      });
    });

    after(async () => {
      await ferry?.stop();
      await store?.drop();
      dir.cleanup();
    });

    it('loads DuckDB, mysql2 and PGlite only when a connection needs them', async () => {
      assert.match(loaded(), /src\/http\//, 'the hook records the server modules');
      for (const driver of drivers) assert.ok(!loaded().includes(driver), `${driver} loaded at start`);
      const created = await http(ferry.url, 'POST', '/api/connections', {
        key: ferry.adminKey,
        body: { name: 'lake', type: 'duckdb', configuration: { path: path.join(dir.path, 'lake.duckdb') } },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.ok(loaded().includes('@duckdb/'), 'DuckDB loads with the first DuckDB connection');
      assert.ok(!loaded().includes('/mysql2/'));
    });
  });
});
