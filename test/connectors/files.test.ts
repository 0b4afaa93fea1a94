import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { filesConnector } from '../../src/connectors/files/index.ts';
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

describe('files connector', () => {
  let dir: TempDir;
  let connector: Connector;

  before(async () => {
    dir = tempDir();
    const at = (name: string) => path.join(dir.path, name);
    writeFileSync(
      at('users.csv'),
      [
        'id,name,amount,created,"select"',
        '1,Ada,1234567890123456789012345678.1234567891,2024-01-02 03:04:05.123456,yes',
        '2,"",0.5,,',
        '3,héllo 😀 — 中文,-0.0000000001,2024-06-30 23:59:59.999999,no',
      ].join('\n'),
    );
    writeFileSync(
      at('events.jsonl'),
      [
        '{"id": 9007199254740993, "kind": "click", "meta": {"x": 1, "tags": ["a"]}, "note": ""}',
        '{"id": 2, "kind": null, "meta": {"x": 2, "tags": []}, "note": "😀"}',
      ].join('\n'),
    );
    writeFileSync(at('orders.ndjson'), '{"order_id": 1, "user_id": 1}\n{"order_id": 2, "user_id": 3}\n');
    writeFileSync(at('notes.txt'), 'ignored');
    mkdirSync(at('nested'));
    writeFileSync(at('nested/deep.csv'), 'a\n1\n');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(`copy (select 1 as id, timestamptz '2024-01-02 03:04:05.123456+00' as ts,
        1234567890123456789012345678.1234567891::decimal(38,10) as amount, '\\x00\\xFF'::blob as raw,
        null::varchar as missing
      union all select 2, null, null, null, null)
      to '${at('metrics.parquet')}' (format parquet)`);
    connection.closeSync();
    instance.closeSync();
    connector = await filesConnector.open({ path: dir.path });
  });

  after(async () => {
    await connector?.close();
    dir?.cleanup();
  });

  it('tests an existing directory and refuses anything else', async () => {
    assert.equal(filesConnector.id, 'files');
    assert.equal(filesConnector.name, 'Files (CSV, JSONL, Parquet)');
    await connector.test();
    for (const bad of [path.join(dir.path, 'missing'), path.join(dir.path, 'users.csv')]) {
      const other = await filesConnector.open({ path: bad });
      const error = await rejectsWith(other.test(), 'connection_failed', /Directory not found/);
      assert.equal(error.field, 'configuration.path');
      await other.close();
    }
  });

  it('lists the csv, jsonl, ndjson and parquet files of the directory only', async () => {
    const schemas = await connector.listSchemas();
    assert.deepEqual(
      schemas.map((s) => s.id),
      ['events.jsonl', 'metrics.parquet', 'orders.ndjson', 'users.csv'],
    );
    const users = schemas.find((s) => s.id === 'users.csv')!;
    assert.equal(users.name, 'users.csv');
    assert.deepEqual(users.primaryKeys, []);
    assert.deepEqual(
      users.fields.map((f) => [f.name, f.remoteType, f.type]),
      [
        ['id', 'BIGINT', 'number'],
        ['name', 'VARCHAR', 'string'],
        ['amount', 'VARCHAR', 'string'],
        ['created', 'TIMESTAMP', 'datetime'],
        ['select', 'BOOLEAN', 'boolean'],
      ],
    );
    const events = schemas.find((s) => s.id === 'events.jsonl')!;
    const types = Object.fromEntries(events.fields.map((f) => [f.name, f.type]));
    assert.deepEqual(types, { id: 'number', kind: 'string', meta: 'object', note: 'string' });
    const metrics = schemas.find((s) => s.id === 'metrics.parquet')!;
    assert.deepEqual(
      metrics.fields.map((f) => [f.name, f.remoteType, f.type]),
      [
        ['id', 'INTEGER', 'number'],
        ['ts', 'TIMESTAMP WITH TIME ZONE', 'datetime'],
        ['amount', 'DECIMAL(38,10)', 'number'],
        ['raw', 'BLOB', 'binary'],
        ['missing', 'VARCHAR', 'string'],
      ],
    );
  });

  it('returns null for unknown or unsupported files', async () => {
    assert.equal(await connector.getSchema('nope.csv'), null);
    assert.equal(await connector.getSchema('notes.txt'), null);
    assert.equal(await connector.getSchema('nested/deep.csv'), null);
    await rejectsWith(connector.sampleRecords('nope.csv', 1), 'not_found');
  });

  it('samples exact, JSON-safe records from each format', async () => {
    const users = await connector.sampleRecords('users.csv', 10);
    assert.deepEqual(users, [
      {
        id: 1,
        name: 'Ada',
        amount: '1234567890123456789012345678.1234567891',
        created: '2024-01-02T03:04:05.123456',
        select: true,
      },
      { id: 2, name: '', amount: '0.5', created: null, select: null },
      {
        id: 3,
        name: 'héllo 😀 — 中文',
        amount: '-0.0000000001',
        created: '2024-06-30T23:59:59.999999',
        select: false,
      },
    ]);
    assert.equal((await connector.sampleRecords('users.csv', 2)).length, 2);
    assert.deepEqual(await connector.sampleRecords('events.jsonl', 10), [
      { id: '9007199254740993', kind: 'click', meta: { x: 1, tags: ['a'] }, note: '' },
      { id: 2, kind: null, meta: { x: 2, tags: [] }, note: '😀' },
    ]);
    assert.deepEqual(await connector.sampleRecords('metrics.parquet', 10), [
      {
        id: 1,
        ts: '2024-01-02T03:04:05.123456Z',
        amount: '1234567890123456789012345678.1234567891',
        raw: Buffer.from([0x00, 0xff]).toString('base64'),
        missing: null,
      },
      { id: 2, ts: null, amount: null, raw: null, missing: null },
    ]);
  });

  it('queries files as views named after them, with a row limit', async () => {
    const result = await connector.query(
      'select u.name, o.order_id from users u join orders o on o.user_id = u.id order by o.order_id',
      10,
    );
    assert.deepEqual(result, {
      fields: ['name', 'order_id'],
      rows: [
        { name: 'Ada', order_id: 1 },
        { name: 'héllo 😀 — 中文', order_id: 2 },
      ],
    });
    const limited = await connector.query('select * from users', 1);
    assert.equal(limited.rows.length, 1);
    assert.deepEqual(limited.fields, ['id', 'name', 'amount', 'created', 'select']);
    assert.equal((await connector.query('select count(*) as n from metrics', 5)).rows[0]!.n, 2);
  });

  it('reports bad SQL and cannot read outside its directory', async () => {
    await rejectsWith(connector.query('select nope from users', 1), 'query_failed', /nope/);
    await rejectsWith(connector.query('select * from missing_table', 1), 'query_failed', /missing_table/);
    await rejectsWith(
      connector.query(`select * from read_text('/etc/hostname')`, 1),
      'query_failed',
      /disabled/,
    );
    await rejectsWith(
      connector.query(`select * from read_csv_auto('${dir.path}/../x.csv')`, 1),
      'query_failed',
      /disabled/,
    );
  });
});
