import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { mysqlConnector } from '../../src/connectors/mysql/index.ts';
import type { MysqlReader } from '../../src/connectors/mysql/reader.ts';
import { FerryError } from '../../src/domain/errors.ts';
import type { TableReader } from '../../src/engine/bulk/contracts.ts';
import { createMysqlDatabase, type MysqlTestConfig, type TestDatabase } from '../support/databases.ts';
import { until } from '../support/until.ts';
import {
  assertAbortsAfterFirstBatch,
  assertFilters,
  assertIncrementalSplits,
  readAll,
  request,
  rssGrowthOfRead,
} from './reader-support.ts';

const FIDELITY = [
  'id',
  'Select',
  'MixedCase',
  'ts',
  'dt',
  'amount',
  'note',
  'doc',
  'raw',
  'flag',
  'ratio',
  'big',
  'day',
  'bt',
  'e',
  'zero',
];

describe('mysql table reader', () => {
  let db: TestDatabase<MysqlTestConfig>;
  let reader: TableReader;

  before(async () => {
    db = await createMysqlDatabase();
    for (const sql of [
      `create table \`Order Items\` (id int primary key, \`Select\` varchar(20), MixedCase int, ts timestamp(6) null,
        dt datetime(6), amount decimal(38,10), note text, doc json, raw varbinary(10), flag tinyint(1), ratio double,
        big bigint unsigned, day date, bt bit(1), e enum('a','b'), zero datetime)`,
      `insert into \`Order Items\` values
        (1, 'sel', 7, '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123456',
         1234567890123456789012345678.1234567891, 'tab\\there\\nnew line back\\\\slash', '{"a": [1, {"b": null}], "s": "é"}',
         x'00ff10', 1, 0.1, 18446744073709551615, '2024-01-02', b'1', 'b', '2024-01-02 03:04:05'),
        (2, null, null, null, null, null, '', null, x'', 0, null, null, null, b'0', null, null),
        (3, '\\\\N', -1, '2024-06-30 23:59:59.999999', '1999-12-31 23:59:59', -0.0000000001, 'héllo 😀 — 中文',
         '[]', null, null, 1e300, 0, null, null, 'a', null)`,
      `create table events (Id int, sub varchar(10), updated_at datetime(6), ts timestamp(6) null, payload text,
         primary key (Id, sub))`,
      `insert into events select seq, if(seq % 2 = 0, 'a', 'B'),
         if(seq between 100 and 799, '2024-01-01 00:00:00.000001', '2024-01-02' + interval seq microsecond),
         if(seq between 100 and 799, '2024-01-01 00:00:00.000001', '2024-01-02' + interval seq microsecond),
         md5(seq) from seq_1_to_1000`,
      `insert into events values (5000, 'x', null, null, 'no cursor')`,
      'create table filtered (id int primary key, name text, score decimal(10,2), active tinyint(1))',
      `insert into filtered values (1, 'alpha', 10, 1), (2, 'beta%', 20, 0), (3, null, 30, 1),
        (4, 'gamma', null, 0), (5, 'it''s', 50, 1)`,
      `create view big as select seq as id, md5(seq) as s, now(6) as at, seq * 1.5 as n from seq_1_to_2000000`,
      `analyze table events`,
    ])
      await db.query(sql);
    reader = await mysqlConnector.openReader!(db.config);
  });

  after(async () => {
    await reader?.close();
    await db?.drop();
  });

  it('maps column types to logical types', async () => {
    const connector = await mysqlConnector.open(db.config);
    try {
      const schema = (await connector.getSchema('Order Items'))!;
      const types = Object.fromEntries(schema.fields.map((f) => [f.name, f.logicalType]));
      assert.deepEqual(types, {
        id: { kind: 'int32' },
        Select: { kind: 'text' },
        MixedCase: { kind: 'int32' },
        ts: { kind: 'timestamptz' },
        dt: { kind: 'timestamp' },
        amount: { kind: 'decimal', precision: 38, scale: 10 },
        note: { kind: 'text' },
        doc: { kind: 'json' }, // MariaDB: LONGTEXT with a json_valid check
        raw: { kind: 'bytes' },
        flag: { kind: 'boolean' },
        ratio: { kind: 'float64' },
        big: { kind: 'decimal', precision: 20, scale: 0 },
        day: { kind: 'date' },
        bt: { kind: 'boolean' },
        e: { kind: 'text' },
        zero: { kind: 'timestamp' },
      });
    } finally {
      await connector.close();
    }
  });

  it('reads every value as PostgreSQL text, exactly', async () => {
    await db.query(`update \`Order Items\` set zero = '0000-00-00 00:00:00' where id = 3`);
    const rows = await readAll(reader, request('Order Items', FIDELITY));
    rows.sort((a, b) => Number(a[0]) - Number(b[0]));
    assert.deepEqual(rows, [
      [
        '1',
        'sel',
        '7',
        '2024-01-02 03:04:05.123456+00',
        '2024-01-02 03:04:05.123456',
        '1234567890123456789012345678.1234567891',
        'tab\there\nnew line back\\slash',
        '{"a": [1, {"b": null}], "s": "é"}',
        '\\x00ff10',
        't',
        '0.1',
        '18446744073709551615',
        '2024-01-02',
        't',
        'b',
        '2024-01-02 03:04:05',
      ],
      ['2', null, null, null, null, null, '', null, '\\x', 'f', null, null, null, 'f', null, null],
      [
        '3',
        '\\N',
        '-1',
        '2024-06-30 23:59:59.999999+00',
        '1999-12-31 23:59:59',
        '-0.0000000001',
        'héllo 😀 — 中文',
        '[]',
        null,
        null,
        '1e300',
        '0',
        null,
        null,
        'a',
        null,
      ],
    ]);
  });

  it('reads incrementally from (cursor, pk) positions among equal cursor values', async () => {
    for (const cursorField of ['updated_at', 'ts']) {
      const req = request('events', ['Id', 'sub', cursorField, 'payload'], {
        primaryKey: ['Id', 'sub'],
        incremental: { cursorField, after: null },
      });
      const all = await assertIncrementalSplits(reader, req, 2, [0, 1], 400);
      assert.equal(all.length, 1000, 'rows without a cursor value are left out');
      assert.equal(all.filter((r) => r[2]?.startsWith('2024-01-01 00:00:00.000001')).length, 700);
    }
  });

  it('honours limit', async () => {
    assert.equal((await readAll(reader, request('big', ['id'], { limit: 12345 }))).length, 12345);
    assert.equal((await readAll(reader, request('big', ['id'], { limit: 0 }))).length, 0);
  });

  const readingBig = async () => {
    const [row] = await db.query(
      `select count(*) as n from information_schema.processlist
       where db = ? and id <> connection_id() and info like '%from \`big\`%'`,
      [db.name],
    );
    return Number(row.n);
  };

  /** Connections to the test database other than the test's own: a stopped read leaves none. */
  const openConnections = async () => {
    const [row] = await db.query(
      'select count(*) as n from information_schema.processlist where db = ? and id <> connection_id()',
      [db.name],
    );
    return Number(row.n);
  };

  it('a slow consumer gets every row once, and stopping early ends the query', async () => {
    // The connection pauses while batches wait for the consumer, and resumes when it takes them.
    const ids: number[] = [];
    for await (const batch of reader.read(request('big', ['id', 's'], { limit: 25_000 }))) {
      for (const row of batch) ids.push(Number(row[0]));
      await sleep(20);
    }
    assert.equal(ids.length, 25_000);
    assert.equal(new Set(ids).size, 25_000);
    assert.deepEqual([Math.min(...ids), Math.max(...ids)], [1, 25_000]);

    let batches = 0;
    for await (const batch of reader.read(request('big', ['id', 's']))) {
      assert.ok(batch.length > 0);
      await sleep(20);
      if (++batches === 3) break;
    }
    await until(readingBig, (n) => n === 0, 'the read to stop in MariaDB', 10_000);
    // Its socket is closed, not half-closed: a server thread writing to a paused socket would wait there.
    await until(openConnections, (n) => n === 0, 'the reader to close its connection', 10_000);
  });

  it('aborting stops the query in the database and throws an AbortError', async () => {
    await assertAbortsAfterFirstBatch(reader, request('big', ['id', 's', 'at', 'n']));
    await until(readingBig, (n) => n === 0, 'the read to stop in MariaDB', 10_000);
    await until(openConnections, (n) => n === 0, 'the reader to close its connection', 10_000);
  });

  it('a source connection dropped mid-read is a connection_failed error', async () => {
    await assert.rejects(
      (async () => {
        let first = true;
        for await (const _ of reader.read(request('big', ['id', 's']))) {
          if (!first) continue;
          first = false;
          const [row] = await db.query(
            `select id from information_schema.processlist where db = ? and id <> connection_id() and info like '%from \`big\`%'`,
            [db.name],
          );
          await db.query(`kill connection ${Number(row.id)}`);
        }
      })(),
      (error: unknown) => error instanceof FerryError && error.code === 'connection_failed',
    );
  });

  it('reports unknown tables and columns', async () => {
    await assert.rejects(readAll(reader, request('nope', ['id'])), { code: 'not_found' });
    await assert.rejects(readAll(reader, request('events', ['nope'])), { code: 'query_failed' });
  });

  it('estimates rows from catalog statistics', async () => {
    const estimate = await reader.estimateRows!('events');
    assert.ok(estimate !== undefined && estimate > 500 && estimate < 2000, String(estimate));
  });

  it('reads a million rows without growing memory with the table', async (t) => {
    const { rows, growth } = await rssGrowthOfRead(
      reader,
      request('big', ['id', 's', 'at', 'n'], { limit: 1_000_000 }),
    );
    assert.equal(rows, 1_000_000);
    t.diagnostic(`RSS growth: ${Math.round(growth / 1048576)} MB`);
    assert.ok(growth < 150 * 1024 * 1024, `RSS grew by ${Math.round(growth / 1048576)} MB`);
  });

  it('applies the table filters in the source query', async () => {
    await assertFilters(reader, 'filtered');
  });

  it('describes a model query that ends in a line comment', async () => {
    const fields = await (reader as MysqlReader).describeQuery(
      'select id, name from filtered -- all of them;',
    );
    assert.deepEqual(
      fields.map((f) => f.name),
      ['id', 'name'],
    );
  });
});
