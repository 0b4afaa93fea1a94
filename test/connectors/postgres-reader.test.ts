import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postgresConnector } from '../../src/connectors/postgres/index.ts';
import { CopyTextParser, type PostgresReader } from '../../src/connectors/postgres/reader.ts';
import { FerryError } from '../../src/domain/errors.ts';
import type { TableReader } from '../../src/engine/bulk/contracts.ts';
import { createPgDatabase, type PgTestConfig, type TestDatabase } from '../support/databases.ts';
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
  'ts_local',
  'amount',
  'note',
  'doc',
  'raw',
  'flag',
  'ratio',
  'tags',
  'day',
  'iv',
  'u',
];

describe('postgresql table reader', () => {
  let db: TestDatabase<PgTestConfig>;
  let reader: TableReader;

  before(async () => {
    db = await createPgDatabase();
    await db.query(`
      create schema "Sales";
      create table "Sales"."Order Items" (
        id int primary key, "Select" text, "MixedCase" int, ts timestamptz, ts_local timestamp,
        amount numeric(38,10), note text, doc jsonb, raw bytea, flag boolean, ratio float8, tags text[],
        day date, iv interval, u uuid);
      insert into "Sales"."Order Items" values
        (1, 'sel', 7, '2024-01-02 05:04:05.123456+02', '2024-01-02 03:04:05.123456',
         1234567890123456789012345678.1234567891, E'tab\\there\\nnew line back\\\\slash', '{"a": [1, {"b": null}], "s": "é"}',
         '\\x00ff10', true, 0.1, '{x,"y z"}', '2024-01-02', '1 day 02:03:04', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
        (2, null, null, null, null, null, '', null, '\\x', false, null, '{}', null, null, null),
        (3, '\\N', -1, '2024-06-30 23:59:59.999999+00', '1999-12-31 23:59:59', -0.0000000001, 'héllo 😀 — 中文',
         '[]', null, null, 1e300, null, null, null, null);
      create table events ("Id" int, sub text, updated_at timestamptz, payload text, primary key ("Id", sub));
      insert into events select g, case when g % 2 = 0 then 'a' else 'B' end,
        case when g between 100 and 799 then '2024-01-01 00:00:00.000001+00'::timestamptz
             else '2024-01-01'::timestamptz + g * interval '1 microsecond' + interval '1 day' end, md5(g::text)
        from generate_series(1, 1000) g;
      insert into events values (5000, 'x', null, 'no cursor');
      create table filtered (id int primary key, name text, score numeric, active boolean);
      insert into filtered values (1, 'alpha', 10, true), (2, 'beta%', 20, false), (3, null, 30, true),
        (4, 'gamma', null, false), (5, 'it''s', 50, true);
      create table wide as select ${Array.from({ length: 300 }, (_, i) => `'v${i}'::text as c${i}`).join(', ')},
        repeat('x', 2500000) as big from generate_series(1, 3);
      create view big as select g as id, md5(g::text) as s, now() as at, g * 1.5 as n
        from generate_series(1, 2000000) g;
      analyze;`);
    reader = await postgresConnector.openReader!(db.config);
  });

  after(async () => {
    await reader?.close();
    await db?.drop();
  });

  it('maps column types to logical types', async () => {
    const connector = await postgresConnector.open(db.config);
    try {
      const schema = (await connector.getSchema('Sales.Order Items'))!;
      const types = Object.fromEntries(schema.fields.map((f) => [f.name, f.logicalType]));
      assert.deepEqual(types, {
        id: { kind: 'int32' },
        Select: { kind: 'text' },
        MixedCase: { kind: 'int32' },
        ts: { kind: 'timestamptz' },
        ts_local: { kind: 'timestamp' },
        amount: { kind: 'decimal', precision: 38, scale: 10 },
        note: { kind: 'text' },
        doc: { kind: 'json' },
        raw: { kind: 'bytes' },
        flag: { kind: 'boolean' },
        ratio: { kind: 'float64' },
        tags: { kind: 'text' },
        day: { kind: 'date' },
        iv: { kind: 'interval' },
        u: { kind: 'uuid' },
      });
    } finally {
      await connector.close();
    }
  });

  it('reads every value as PostgreSQL text, exactly', async () => {
    const rows = await readAll(reader, request('Sales.Order Items', FIDELITY));
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
        '{x,"y z"}',
        '2024-01-02',
        '1 day 02:03:04',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      ],
      ['2', null, null, null, null, null, '', null, '\\x', 'f', null, '{}', null, null, null],
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
        '1e+300',
        null,
        null,
        null,
        null,
      ],
    ]);
  });

  it('copyText streams the same rows as raw COPY text, in the requested column order', async () => {
    const req = request('Sales.Order Items', ['note', 'id'], {
      incremental: { cursorField: 'id', after: null },
    });
    const chunks: Buffer[] = [];
    for await (const chunk of reader.copyText!(req)) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    assert.equal(raw.toString().split('\n')[0], 'tab\\there\\nnew line back\\\\slash\t1');
    const parser = new CopyTextParser(2);
    parser.push(raw);
    parser.end();
    assert.deepEqual(parser.batches.flat(), await readAll(reader, req));
  });

  it('reads very wide rows in batches bounded by bytes', async () => {
    const names = [...Array.from({ length: 300 }, (_, i) => `c${i}`), 'big'];
    const batches = [];
    for await (const batch of reader.read(request('public.wide', names))) batches.push(batch);
    assert.deepEqual(
      batches.map((b) => b.length),
      [2, 1],
    );
    const row = batches[0]![0]!;
    assert.equal(row.length, 301);
    assert.equal(row[299], 'v299');
    assert.equal(row[300]!.length, 2500000);
  });

  it('reads incrementally from (cursor, pk) positions among equal cursor values', async () => {
    const req = request('public.events', ['Id', 'sub', 'updated_at', 'payload'], {
      primaryKey: ['Id', 'sub'],
      incremental: { cursorField: 'updated_at', after: null },
    });
    const all = await assertIncrementalSplits(reader, req, 2, [0, 1], 400);
    assert.equal(all.length, 1000, 'rows without a cursor value are left out');
    assert.equal(all.filter((r) => r[2] === '2024-01-01 00:00:00.000001+00').length, 700);
  });

  it('honours limit', async () => {
    const rows = await readAll(reader, request('public.big', ['id'], { limit: 12345 }));
    assert.equal(rows.length, 12345);
    assert.equal((await readAll(reader, request('public.big', ['id'], { limit: 0 }))).length, 0);
  });

  it('aborting stops the query in the database and throws an AbortError', async () => {
    await assertAbortsAfterFirstBatch(reader, request('public.big', ['id', 's', 'at', 'n']));
    await until(
      async () =>
        (
          await db.query(
            `select count(*)::int as n from pg_stat_activity where datname = $1 and application_name = 'ferry-bulk-read'`,
            [db.name],
          )
        )[0].n,
      (n) => n === 0,
      'the read to stop in PostgreSQL',
      10_000,
    );
  });

  it('aborting a copyText stream destroys it with the AbortError', async () => {
    const controller = new AbortController();
    const stream = reader.copyText!({ ...request('public.big', ['id', 's']), signal: controller.signal });
    await assert.rejects(
      (async () => {
        for await (const _ of stream) controller.abort();
      })(),
      (error: Error) => error.name === 'AbortError',
    );
  });

  it('a source connection dropped mid-read is a connection_failed error', async () => {
    await assert.rejects(
      (async () => {
        let first = true;
        for await (const _ of reader.read(request('public.big', ['id', 's']))) {
          if (!first) continue;
          first = false;
          await db.query(
            `select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and application_name = 'ferry-bulk-read'`,
            [db.name],
          );
        }
      })(),
      (error: unknown) =>
        error instanceof FerryError && error.code === 'connection_failed' && /terminat/i.test(error.message),
    );
  });

  it('reports unknown tables and columns', async () => {
    await assert.rejects(readAll(reader, request('public.nope', ['id'])), { code: 'not_found' });
    await assert.rejects(readAll(reader, request('public.events', ['nope'])), { code: 'query_failed' });
  });

  it('estimates rows from catalog statistics', async () => {
    assert.equal(await reader.estimateRows!('public.events'), 1001);
    assert.equal(await reader.estimateRows!('public.big'), undefined);
  });

  it('reads a table on the connection its row estimate opened', async () => {
    const connections = async () =>
      (
        await db.query<{ pid: number }>(
          `select pid from pg_stat_activity where datname = current_database() and application_name = 'ferry-bulk-read'`,
        )
      ).map((row) => row.pid);
    const others = new Set(await connections());
    const opened = async () => (await connections()).filter((pid) => !others.has(pid));
    const own = await postgresConnector.openReader!(db.config);
    try {
      assert.equal(await own.estimateRows!('public.events'), 1001);
      const [pid] = await opened();
      assert.ok(pid, 'the estimate keeps its session for the read');
      let rows = 0;
      for await (const batch of own.read(request('public.events', ['Id']))) {
        rows += batch.length;
        assert.deepEqual(await opened(), [pid], 'no second connection');
      }
      assert.equal(rows, 1001);
    } finally {
      await own.close();
    }
  });

  it('reads a million rows without growing memory with the table', async (t) => {
    const { rows, growth } = await rssGrowthOfRead(
      reader,
      request('public.big', ['id', 's', 'at', 'n'], { limit: 1_000_000 }),
    );
    assert.equal(rows, 1_000_000);
    t.diagnostic(`RSS growth: ${Math.round(growth / 1048576)} MB`);
    assert.ok(growth < 150 * 1024 * 1024, `RSS grew by ${Math.round(growth / 1048576)} MB`);
  });

  it('applies the table filters in the source query', async () => {
    await assertFilters(reader, 'public.filtered');
  });

  it('describes and reads a model query that ends in a line comment', async () => {
    const models = reader as PostgresReader;
    const query = 'select id, name from filtered where id < 3 -- the first two;';
    const fields = await models.describeQuery(query);
    assert.deepEqual(
      fields.map((f) => f.name),
      ['id', 'name'],
    );
    const rows: unknown[] = [];
    for await (const batch of models.readQuery(query, 2, new AbortController().signal)) rows.push(...batch);
    assert.deepEqual(rows, [
      ['1', 'alpha'],
      ['2', 'beta%'],
    ]);
    const text = models.copyQueryText(query, { parallel: false, signal: new AbortController().signal });
    let copied = '';
    for await (const chunk of text) copied += String(chunk);
    assert.equal(copied, '1\talpha\n2\tbeta%\n');
  });
});
