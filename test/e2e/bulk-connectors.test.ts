import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createMysqlDatabase, createPgDatabase, tempDir } from '../support/databases.ts';
import { type FerryProcess, http, startFerry } from '../support/ferry.ts';
import { startAll } from '../support/start-all.ts';
import { until } from '../support/until.ts';

// Every source and destination type through the real server: MariaDB, SQLite and files as sources;
// PostgreSQL, a DuckDB file and Parquet files as destinations.

async function duckdbRows(file: string, sql: string) {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJson();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('bulk syncs across connector types', () => {
  let ferry: FerryProcess;
  let maria: Awaited<ReturnType<typeof createMysqlDatabase>>;
  let warehouse: Awaited<ReturnType<typeof createPgDatabase>>;
  let dir: ReturnType<typeof tempDir>;

  const call = async (method: string, route: string, body?: unknown) => {
    const res = await http(ferry.url, method, route, { key: ferry.adminKey, body });
    assert.ok(res.status < 300, `${method} ${route}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body?.data;
  };

  async function runSync(source: string, destination: string, schemas: string[], extra: object = {}) {
    const sync = await call('POST', '/api/bulk/syncs', {
      name: `${source}->${destination}`,
      source_connection_id: source,
      destination_connection_id: destination,
      schedule: { frequency: 'manual' },
      schemas,
      normalize_names: 'disabled',
      ...extra,
    });
    const run = await call('POST', `/api/bulk/syncs/${sync.id}/executions`);
    return until(
      () => call('GET', `/api/bulk/syncs/${sync.id}/executions/${run.id}`),
      (execution) => !['scheduled', 'running', 'created'].includes(execution.status),
      `run ${run.id}`,
    );
  }

  before(async () => {
    [ferry, maria, warehouse] = await startAll([startFerry(), createMysqlDatabase(), createPgDatabase()]);
    dir = tempDir();
    const conn = await mysql.createConnection({
      host: '127.0.0.1',
      port: 3306,
      user: 'root',
      database: maria.name,
    });
    await conn.query(`create table orders (
      id int primary key, customer varchar(50), total decimal(12,2), placed datetime(6), paid tinyint(1), note text)`);
    await conn.query(`insert into orders values
      (1, 'Ada', 10.50, '2024-01-02 03:04:05.123456', 1, 'ünï 🚢'), (2, '', null, null, 0, null)`);
    await conn.end();
    const sqlite = new DatabaseSync(path.join(dir.path, 'app.sqlite'));
    sqlite.exec(`create table items (id integer primary key, name text, price real);
      insert into items values (1, 'bolt', 0.25), (2, 'nut', null)`);
    sqlite.close();
    writeFileSync(path.join(dir.path, 'people.csv'), 'id,name,score\n1,Ada,12.5\n2,Grace,\n');
  });

  after(async () => {
    await ferry?.stop();
    await Promise.all([maria?.drop(), warehouse?.drop()]);
    dir?.cleanup();
  });

  it('copies MariaDB into PostgreSQL with exact values', async () => {
    const source = await call('POST', '/api/connections', {
      name: 'maria',
      type: 'mysql',
      configuration: maria.config,
    });
    const dest = await call('POST', '/api/connections', {
      name: 'wh',
      type: 'postgresql',
      configuration: warehouse.config,
    });
    const run = await runSync(source.id, dest.id, ['orders'], {
      destination_configuration: { schema: 'shop' },
    });
    assert.equal(run.status, 'completed', JSON.stringify(run));
    const client = new pg.Client({ connectionString: warehouse.url });
    await client.connect();
    const { rows } = await client.query(
      'select id, customer, total::text, placed::text, paid, note from shop.orders order by id',
    );
    await client.end();
    assert.deepEqual(rows, [
      {
        id: 1,
        customer: 'Ada',
        total: '10.50',
        placed: '2024-01-02 03:04:05.123456',
        paid: true,
        note: 'ünï 🚢',
      },
      { id: 2, customer: '', total: null, placed: null, paid: false, note: null },
    ]);
  });

  it('copies SQLite into a DuckDB file', async () => {
    const source = await call('POST', '/api/connections', {
      name: 'sqlite',
      type: 'sqlite',
      configuration: { path: path.join(dir.path, 'app.sqlite') },
    });
    const file = path.join(dir.path, 'warehouse.duckdb');
    const dest = await call('POST', '/api/connections', {
      name: 'duck',
      type: 'duckdb',
      configuration: { path: file },
    });
    const run = await runSync(source.id, dest.id, ['items']);
    assert.equal(run.status, 'completed', JSON.stringify(run));
    assert.deepEqual(await duckdbRows(file, 'select id, name, price from main.items order by id'), [
      { id: '1', name: 'bolt', price: 0.25 },
      { id: '2', name: 'nut', price: null },
    ]);
  });

  it('copies a CSV file into Parquet files', async () => {
    const source = await call('POST', '/api/connections', {
      name: 'csv',
      type: 'files',
      configuration: { path: dir.path },
    });
    const out = tempDir();
    try {
      const dest = await call('POST', '/api/connections', {
        name: 'lake',
        type: 'files',
        configuration: { path: out.path },
      });
      const run = await runSync(source.id, dest.id, ['people.csv'], {
        destination_configuration: { schema: 'lake' },
      });
      assert.equal(run.status, 'completed', JSON.stringify(run));
      const parquet = path.join(out.path, 'lake', `${run.schemas[0].output_name}.parquet`);
      const rows = await duckdbRows(':memory:', `select * from read_parquet('${parquet}') order by id`);
      assert.equal(rows.length, 2);
      assert.equal(rows[0]!.name, 'Ada');
    } finally {
      out.cleanup();
    }
  });
});
