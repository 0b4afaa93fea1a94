import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { filesConnector } from '../../src/connectors/files/index.ts';
import type { TableReader } from '../../src/engine/bulk/contracts.ts';
import { type TempDir, tempDir } from '../support/databases.ts';
import {
  assertAbortsAfterFirstBatch,
  assertFilters,
  assertIncrementalSplits,
  readAll,
  request,
  rssGrowthOfRead,
} from './reader-support.ts';

describe('files table reader', () => {
  let dir: TempDir;
  let reader: TableReader;

  before(async () => {
    dir = tempDir();
    writeFileSync(
      join(dir.path, 'orders.csv'),
      'id,Select,ts,tz,amount,note,flag\n' +
        '1,sel,2024-01-02 03:04:05.123456,2024-01-02 05:04:05.123456+02,12345678901234567890.1234567891,héllo 😀,true\n' +
        '2,,2024-01-02 03:04:05,,,"",false\n',
    );
    writeFileSync(
      join(dir.path, 'docs.jsonl'),
      '{"id":1,"doc":{"a":[1,2],"s":"é"},"tags":["x","y z"]}\n{"id":2,"doc":null,"tags":[]}\n',
    );
    const lines = ['id,sub,updated_at,payload'];
    for (let i = 1; i <= 1000; i++) {
      const at =
        i >= 100 && i <= 799
          ? '2024-01-01 00:00:00.000001'
          : `2024-01-02 00:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(6, '0')}`;
      lines.push(`${i},${i % 2 === 0 ? 'a' : 'B'},${at},p${i}`);
    }
    writeFileSync(join(dir.path, 'events.csv'), `${lines.join('\n')}\n`);
    writeFileSync(
      join(dir.path, 'filtered.csv'),
      "id,name,score,active\n1,alpha,10,true\n2,beta%,20,false\n3,,30,true\n4,gamma,,false\n5,it's,50,true\n",
    );
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(
      `copy (select 1 as id, 'x'::blob || '\\x00\\xFF'::blob as raw, 1.25::decimal(38,10) as amount, true as flag)
       to '${join(dir.path, 'small.parquet')}' (format parquet)`,
    );
    await connection.run(
      `copy (select range as id, md5(range::varchar) as s, range * 1.5 as n from range(2000000))
       to '${join(dir.path, 'big.parquet')}' (format parquet)`,
    );
    connection.closeSync();
    instance.closeSync();
    reader = await filesConnector.openReader!({ path: dir.path });
  });

  after(async () => {
    await reader?.close();
    dir?.cleanup();
  });

  it('maps DuckDB types to logical types', async () => {
    const connector = await filesConnector.open({ path: dir.path });
    try {
      const types = async (id: string) =>
        Object.fromEntries((await connector.getSchema(id))!.fields.map((f) => [f.name, f.logicalType.kind]));
      assert.deepEqual(await types('orders.csv'), {
        id: 'int64',
        Select: 'text',
        ts: 'timestamp',
        tz: 'timestamptz',
        amount: 'text', // CSV decimals stay exact text (see CSV_TYPES)
        note: 'text',
        flag: 'boolean',
      });
      assert.deepEqual(await types('docs.jsonl'), { id: 'int64', doc: 'json', tags: 'json' });
      assert.deepEqual(await types('small.parquet'), {
        id: 'int32',
        raw: 'bytes',
        amount: 'decimal',
        flag: 'boolean',
      });
    } finally {
      await connector.close();
    }
  });

  it('reads CSV, JSONL and Parquet values as PostgreSQL text', async () => {
    assert.deepEqual(
      await readAll(reader, request('orders.csv', ['id', 'Select', 'ts', 'tz', 'amount', 'note', 'flag'])),
      [
        [
          '1',
          'sel',
          '2024-01-02 03:04:05.123456',
          '2024-01-02 03:04:05.123456+00',
          '12345678901234567890.1234567891',
          'héllo 😀',
          't',
        ],
        ['2', null, '2024-01-02 03:04:05', null, null, '', 'f'],
      ],
    );
    assert.deepEqual(await readAll(reader, request('docs.jsonl', ['tags', 'id', 'doc'])), [
      ['["x","y z"]', '1', '{"a":[1,2],"s":"é"}'],
      ['[]', '2', null],
    ]);
    assert.deepEqual(await readAll(reader, request('small.parquet', ['id', 'raw', 'amount', 'flag'])), [
      ['1', '\\x7800ff', '1.2500000000', 't'],
    ]);
  });

  it('reads incrementally from (cursor, pk) positions among equal cursor values', async () => {
    const req = request('events.csv', ['id', 'sub', 'updated_at', 'payload'], {
      primaryKey: ['id', 'sub'],
      incremental: { cursorField: 'updated_at', after: null },
    });
    const all = await assertIncrementalSplits(reader, req, 2, [0, 1], 400);
    assert.equal(all.length, 1000);
  });

  it('honours limit and aborts', async () => {
    assert.equal((await readAll(reader, request('big.parquet', ['id'], { limit: 12345 }))).length, 12345);
    await assertAbortsAfterFirstBatch(reader, request('big.parquet', ['id', 's', 'n']));
    assert.equal(await reader.estimateRows!('big.parquet'), 2_000_000);
  });

  it('reports unknown files and columns, and never reads outside the directory', async () => {
    await assert.rejects(readAll(reader, request('nope.csv', ['id'])), { code: 'not_found' });
    await assert.rejects(readAll(reader, request('../etc/passwd.csv', ['id'])), { code: 'not_found' });
    await assert.rejects(readAll(reader, request('orders.csv', ['nope'])), { code: 'query_failed' });
  });

  it('reads a million rows without growing memory with the file', async (t) => {
    const { rows, growth } = await rssGrowthOfRead(
      reader,
      request('big.parquet', ['id', 's', 'n'], { limit: 1_000_000 }),
    );
    assert.equal(rows, 1_000_000);
    t.diagnostic(`RSS growth: ${Math.round(growth / 1048576)} MB`);
    assert.ok(growth < 150 * 1024 * 1024, `RSS grew by ${Math.round(growth / 1048576)} MB`);
  });

  it('applies the table filters in the source query', async () => {
    await assertFilters(reader, 'filtered.csv');
  });
});
