import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { duckdbConnector } from '../../src/connectors/duckdb/index.ts';
import type { Connector } from '../../src/connectors/types.ts';
import { FerryError } from '../../src/domain/errors.ts';
import { type TempDir, tempDir } from '../support/databases.ts';

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<FerryError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof FerryError, `expected a FerryError, got ${error}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe('duckdb connector', () => {
  let dir: TempDir;
  let file: string;
  let connector: Connector;

  before(async () => {
    dir = tempDir();
    file = path.join(dir.path, 'warehouse.duckdb');
    const instance = await DuckDBInstance.create(file);
    const connection = await instance.connect();
    await connection.run(`
      create table "Order Items" ("Order" int not null, "select" varchar not null, "MixedCase" varchar, qty int,
        primary key ("select", "Order"));
      insert into "Order Items" values (1, 'a', 'x', 1), (1, 'b', null, 2), (2, 'a', 'y', 3);
      create view "Big Orders" as select "Order", qty from "Order Items" where qty > 1;
      create schema "Sales";
      create table "Sales"."Leads" (id bigint primary key, email varchar);
      create table fidelity (id int primary key, ts timestamptz, ts_local timestamp, day date,
        amount decimal(38,10), note varchar, doc json, raw blob, big bigint, small_big bigint, huge hugeint,
        tags varchar[], st struct(a int, b varchar), ratio double, flag boolean);
      insert into fidelity values
        (1, '2024-01-02 05:04:05.123456+02', '2024-01-02 03:04:05.123456', '2024-01-02',
         1234567890123456789012345678.1234567891, '', '{"a": [1, {"b": null}], "s": "é"}', '\\x00\\xFF\\x10'::blob,
         9007199254740993, 42, 170141183460469231731687303715884105727, ['x', 'y z'], {'a': 1, 'b': 'q'}, 1.5, true),
        (2, null, null, null, null, null, null, null, null, null, null, null, null, null, null),
        (3, '2024-06-30 23:59:59.999999+00', null, null, -0.0000000001, 'héllo 😀 — 中文', '[]', ''::blob, -1, 0,
         0, [], null, 'NaN', false);`);
    connection.closeSync();
    instance.closeSync();
    connector = await duckdbConnector.open({ path: file });
  });

  after(async () => {
    await connector?.close();
    dir?.cleanup();
  });

  it('tests an existing file', async () => {
    assert.equal(duckdbConnector.id, 'duckdb');
    await connector.test();
  });

  it('accepts a missing file in a writable directory (a destination to be), and nothing else', async () => {
    const future = await duckdbConnector.open({ path: path.join(dir.path, 'future.duckdb') });
    await future.test();
    assert.deepEqual(await future.listSchemas(), []);
    assert.equal(await future.getSchema('anything'), null);
    await future.close();
    const nowhere = await duckdbConnector.open({ path: path.join(dir.path, 'no', 'such', 'x.duckdb') });
    const error = await rejectsWith(nowhere.test(), 'connection_failed', /does not exist/);
    assert.equal(error.field, 'configuration.path');
    await nowhere.close();
    const junk = path.join(dir.path, 'junk.duckdb');
    writeFileSync(junk, 'not a duckdb file'.repeat(1000));
    const notDb = await duckdbConnector.open({ path: junk });
    await rejectsWith(notDb.test(), 'connection_failed', /junk\.duckdb/);
    await notDb.close();
  });

  it('lists tables and views of every user schema', async () => {
    const schemas = await connector.listSchemas();
    assert.deepEqual(schemas.map((s) => s.id).sort(), [
      'Big Orders',
      'Order Items',
      'Sales.Leads',
      'fidelity',
    ]);
    const items = schemas.find((s) => s.id === 'Order Items')!;
    assert.equal(items.namespace, 'main');
    assert.deepEqual(items.primaryKeys, ['select', 'Order']);
    assert.deepEqual(
      items.fields.map((f) => [f.name, f.remoteType, f.type, f.nullable, f.isPrimaryKey]),
      [
        ['Order', 'INTEGER', 'number', false, true],
        ['select', 'VARCHAR', 'string', false, true],
        ['MixedCase', 'VARCHAR', 'string', true, false],
        ['qty', 'INTEGER', 'number', true, false],
      ],
    );
    const view = schemas.find((s) => s.id === 'Big Orders')!;
    assert.deepEqual(view.primaryKeys, []);
    assert.deepEqual(
      view.fields.map((f) => f.name),
      ['Order', 'qty'],
    );
    const leads = (await connector.getSchema('Sales.Leads'))!;
    assert.equal(leads.name, 'Leads');
    assert.equal(leads.namespace, 'Sales');
    assert.deepEqual(leads.primaryKeys, ['id']);
  });

  it('maps remote types to field types', async () => {
    const schema = (await connector.getSchema('fidelity'))!;
    const types = Object.fromEntries(schema.fields.map((f) => [f.name, [f.remoteType, f.type]]));
    assert.deepEqual(types, {
      id: ['INTEGER', 'number'],
      ts: ['TIMESTAMP WITH TIME ZONE', 'datetime'],
      ts_local: ['TIMESTAMP', 'datetime'],
      day: ['DATE', 'datetime'],
      amount: ['DECIMAL(38,10)', 'number'],
      note: ['VARCHAR', 'string'],
      doc: ['JSON', 'object'],
      raw: ['BLOB', 'binary'],
      big: ['BIGINT', 'number'],
      small_big: ['BIGINT', 'number'],
      huge: ['HUGEINT', 'number'],
      tags: ['VARCHAR[]', 'array'],
      st: ['STRUCT(a INTEGER, b VARCHAR)', 'object'],
      ratio: ['DOUBLE', 'number'],
      flag: ['BOOLEAN', 'boolean'],
    });
  });

  it('returns null for an unknown schema', async () => {
    assert.equal(await connector.getSchema('nope'), null);
    assert.equal(await connector.getSchema('main.fidelity'), null);
    await rejectsWith(connector.sampleRecords('nope', 1), 'not_found');
  });

  it('samples JSON-safe records', async () => {
    const rows = await connector.sampleRecords('fidelity', 10);
    const [one, two, three] = [1, 2, 3].map((id) => rows.find((r) => r.id === id)!);
    assert.deepEqual(one, {
      id: 1,
      ts: '2024-01-02T03:04:05.123456Z',
      ts_local: '2024-01-02T03:04:05.123456',
      day: '2024-01-02',
      amount: '1234567890123456789012345678.1234567891',
      note: '',
      doc: { a: [1, { b: null }], s: 'é' },
      raw: Buffer.from([0x00, 0xff, 0x10]).toString('base64'),
      big: '9007199254740993',
      small_big: 42,
      huge: '170141183460469231731687303715884105727',
      tags: ['x', 'y z'],
      st: { a: 1, b: 'q' },
      ratio: 1.5,
      flag: true,
    });
    assert.ok(
      Object.values(two!)
        .slice(1)
        .every((v) => v === null),
    );
    assert.equal(three!.note, 'héllo 😀 — 中文');
    assert.equal(three!.amount, '-0.0000000001');
    assert.equal(three!.ts, '2024-06-30T23:59:59.999999Z');
    assert.equal(three!.raw, '');
    assert.deepEqual(three!.doc, []);
    assert.equal(three!.ratio, 'NaN');
    assert.equal(three!.big, -1);
    assert.doesNotThrow(() => JSON.stringify(rows));
    assert.equal((await connector.sampleRecords('Order Items', 2)).length, 2);
    assert.equal((await connector.sampleRecords('Sales.Leads', 2)).length, 0);
  });

  it('runs queries with a row limit', async () => {
    const result = await connector.query('select range as n, range * 2 as "Double" from range(1, 10000)', 3);
    assert.deepEqual(result, {
      fields: ['n', 'Double'],
      rows: [
        { n: 1, Double: 2 },
        { n: 2, Double: 4 },
        { n: 3, Double: 6 },
      ],
    });
    assert.deepEqual(await connector.query('select 1 as a', 0), { fields: ['a'], rows: [] });
  });

  it('reports bad SQL and cannot write or reach other files', async () => {
    await rejectsWith(connector.query('select nope from fidelity', 1), 'query_failed', /nope/);
    await rejectsWith(connector.query('delete from fidelity', 1), 'query_failed', /read-only/);
    await rejectsWith(
      connector.query(`select * from read_text('/etc/hostname')`, 1),
      'query_failed',
      /disabled/,
    );
    await rejectsWith(connector.query('set enable_external_access = true', 1), 'query_failed', /locked/);
    assert.equal((await connector.sampleRecords('fidelity', 10)).length, 3);
  });
});
