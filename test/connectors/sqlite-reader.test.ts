import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sqliteConnector } from '../../src/connectors/sqlite/index.ts';
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

const FIDELITY = ['id', 'Select', 'ts', 'amount', 'note', 'doc', 'raw', 'flag', 'ratio', 'big', 'notype'];

describe('sqlite table reader', () => {
  let dir: TempDir;
  let reader: TableReader;
  let path: string;

  before(async () => {
    dir = tempDir();
    path = join(dir.path, 'source.db');
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(path);
    db.exec(`
      create table "Order Items" (id integer primary key, "Select" text, ts datetime, amount decimal(38,10),
        note text, doc json, raw blob, flag boolean, ratio real, big bigint, notype);
      insert into "Order Items" values
        (1, 'sel', '2024-01-02 03:04:05.123456', 1234.5, 'tab	here
new line back\\slash', '{"a": [1, {"b": null}], "s": "é"}', x'00ff10', 1, 0.1, 9223372036854775807, 'x'),
        (2, null, null, null, '', null, x'', 0, null, null, 42),
        (3, '\\N', '2024-06-30T23:59:59.999999Z', -0.0000000001, 'héllo 😀 — 中文', '[]', null, null, 1e300, -9223372036854775808, x'01');
      create table events ("Id" integer, sub text, updated_at text, payload text, primary key ("Id", sub));
      with recursive g(x) as (select 1 union all select x + 1 from g where x < 1000)
      insert into events select x, case when x % 2 = 0 then 'a' else 'B' end,
        case when x between 100 and 799 then '2024-01-01 00:00:00.000001'
             else strftime('%Y-%m-%d %H:%M:%f', '2024-01-02', '+' || x || ' seconds') end,
        hex(randomblob(8)) from g;
      insert into events values (5000, 'x', null, 'no cursor');
      create table filtered (id integer primary key, name text, score numeric, active boolean);
      insert into filtered values (1, 'alpha', 10, 1), (2, 'beta%', 20, 0), (3, null, 30, 1),
        (4, 'gamma', null, 0), (5, 'it''s', 50, 1);
      create view big as with recursive g(x) as (select 1 union all select x + 1 from g where x < 2000000)
        select x as id, hex(randomblob(16)) as s, x * 1.5 as n from g;`);
    db.close();
    reader = await sqliteConnector.openReader!({ path });
  });

  after(async () => {
    await reader?.close();
    dir?.cleanup();
  });

  it('maps declared types to logical types', async () => {
    const connector = await sqliteConnector.open({ path });
    try {
      const schema = (await connector.getSchema('Order Items'))!;
      const types = Object.fromEntries(schema.fields.map((f) => [f.name, f.logicalType]));
      assert.deepEqual(types, {
        id: { kind: 'int64' },
        Select: { kind: 'text' },
        ts: { kind: 'timestamp' },
        amount: { kind: 'decimal', precision: 38, scale: 10 },
        note: { kind: 'text' },
        doc: { kind: 'json' },
        raw: { kind: 'bytes' },
        flag: { kind: 'boolean' },
        ratio: { kind: 'float64' },
        big: { kind: 'int64' },
        notype: { kind: 'text' },
      });
    } finally {
      await connector.close();
    }
  });

  it('reads every value as PostgreSQL text', async () => {
    const rows = await readAll(reader, request('Order Items', FIDELITY));
    assert.deepEqual(rows, [
      [
        '1',
        'sel',
        '2024-01-02 03:04:05.123456',
        '1234.5',
        'tab\there\nnew line back\\slash',
        '{"a": [1, {"b": null}], "s": "é"}',
        '\\x00ff10',
        't',
        '0.1',
        '9223372036854775807',
        'x',
      ],
      ['2', null, null, null, '', null, '\\x', 'f', null, null, '42'],
      [
        '3',
        '\\N',
        '2024-06-30T23:59:59.999999Z',
        '-1e-10',
        'héllo 😀 — 中文',
        '[]',
        null,
        null,
        '1e+300',
        '-9223372036854775808',
        '\\x01',
      ],
    ]);
  });

  it('reads incrementally from (cursor, pk) positions among equal cursor values', async () => {
    const req = request('events', ['Id', 'sub', 'updated_at', 'payload'], {
      primaryKey: ['Id', 'sub'],
      incremental: { cursorField: 'updated_at', after: null },
    });
    const all = await assertIncrementalSplits(reader, req, 2, [0, 1], 400);
    assert.equal(all.length, 1000);
    // An integer cursor compares as a number, not as text ('10' > '9').
    const byId = request('events', ['Id', 'sub'], {
      primaryKey: ['Id', 'sub'],
      incremental: { cursorField: 'Id', after: { value: '9', pk: ['9', 'B'] } },
      limit: 2,
    });
    assert.deepEqual(await readAll(reader, byId), [
      ['10', 'a'],
      ['11', 'B'],
    ]);
  });

  it('honours limit and aborts', async () => {
    assert.equal((await readAll(reader, request('big', ['id'], { limit: 12345 }))).length, 12345);
    await assertAbortsAfterFirstBatch(reader, request('big', ['id', 's', 'n']));
  });

  it('reports unknown tables and columns', async () => {
    await assert.rejects(readAll(reader, request('nope', ['id'])), { code: 'not_found' });
    await assert.rejects(readAll(reader, request('events', ['nope'])), { code: 'query_failed' });
  });

  it('reads a million rows without growing memory with the table', async (t) => {
    const { rows, growth } = await rssGrowthOfRead(
      reader,
      request('big', ['id', 's', 'n'], { limit: 1_000_000 }),
    );
    assert.equal(rows, 1_000_000);
    t.diagnostic(`RSS growth: ${Math.round(growth / 1048576)} MB`);
    assert.ok(growth < 150 * 1024 * 1024, `RSS grew by ${Math.round(growth / 1048576)} MB`);
  });

  it('applies the table filters in the source query', async () => {
    await assertFilters(reader, 'filtered');
  });
});
