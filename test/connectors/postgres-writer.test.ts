import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
// The writer module on its own: index.ts also loads the reader, written in parallel.
import { openPostgresWriter, stagingTableName } from '../../src/connectors/postgres/writer.ts';
import type { RejectedRow, TableTarget, TableWriter } from '../../src/engine/bulk/contracts.ts';
import { createPgDatabase, type PgTestConfig, type TestDatabase } from '../support/databases.ts';
import { col, eventsTarget } from './writer-support.ts';

let counter = 0;
const attempt = () => `a${++counter}`;

describe('postgresql writer', () => {
  let db: TestDatabase<PgTestConfig>;
  let writer: TableWriter;

  before(async () => {
    db = await createPgDatabase();
    writer = await openPostgresWriter(db.config);
  });
  after(async () => {
    await writer?.close();
    await db?.drop();
  });

  const begin = (
    target: TableTarget,
    options: Partial<{
      mode: 'snapshot' | 'replicate';
      resync: boolean;
      attemptId: string;
      signal: AbortSignal;
      rejected: RejectedRow[];
    }> = {},
  ) =>
    writer.begin(target, {
      mode: options.mode ?? 'snapshot',
      resync: options.resync ?? false,
      attemptId: options.attemptId ?? attempt(),
      signal: options.signal ?? new AbortController().signal,
      onReject: (row) => options.rejected?.push(row),
    });

  const stagingTables = async (namespace: string) =>
    (
      await db.query(
        `select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = $1 and relname like '\\_ferry\\_stage%'`,
        [namespace],
      )
    ).map((r) => r.relname);

  it('keeps every logical type exact, with quoted mixed-case and reserved names', async () => {
    const columns = [
      col('Order', { kind: 'int64' }, false),
      col('select', { kind: 'text' }),
      col('flag', { kind: 'boolean' }),
      col('i16', { kind: 'int16' }),
      col('i32', { kind: 'int32' }),
      col('f32', { kind: 'float32' }),
      col('f64', { kind: 'float64' }),
      col('Amount', { kind: 'decimal', precision: 38, scale: 10 }),
      col('free', { kind: 'decimal' }),
      col('id', { kind: 'uuid' }),
      col('day', { kind: 'date' }),
      col('at', { kind: 'time' }),
      col('local', { kind: 'timestamp' }),
      col('ts', { kind: 'timestamptz' }),
      col('span', { kind: 'interval' }),
      col('doc', { kind: 'json' }),
      col('raw', { kind: 'bytes' }),
    ];
    const target: TableTarget = {
      syncId: 's1',
      schemaId: 'public.types',
      namespace: 'Mixed Schema',
      table: 'Types "All"',
      columns,
      primaryKey: ['Order'],
    };
    const rows = [
      [
        '1',
        'tab\there\nnew line \\ back\rslash',
        't',
        '-32768',
        '2147483647',
        '1.5',
        '3.141592653589793',
        '1234567890123456789012345678.1234567891',
        '123456789012345678901234567890.123456789012345678901234567890',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        '2024-02-29',
        '23:59:59.999999',
        '2024-01-02 03:04:05.123456',
        '2024-01-02 03:04:05.123456+00',
        '1 year 2 mons 3 days 04:05:06.789',
        '{"a": [1, {"b": null}], "s": "é 😀"}',
        '\\x00ff10',
      ],
      [
        '2',
        '',
        'f',
        '0',
        '0',
        '0',
        '-0',
        '-0.0000000001',
        '0',
        null,
        null,
        null,
        null,
        null,
        null,
        '[]',
        '\\x',
      ],
      [
        '3',
        'héllo 😀 — 中文',
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
      ],
    ];
    const load = await begin(target);
    await load.write(rows);
    const result = await load.commit();
    assert.equal(result.rowsLoaded, 3);
    assert.equal(result.inserted, 3);
    const back = await db.query(
      `select ${columns.map((c) => `"${c.name}"::text as "${c.name}"`).join(', ')}
       from "Mixed Schema"."Types ""All""" order by "Order"`,
    );
    assert.deepEqual(
      back.map((r) => columns.map((c) => r[c.name])),
      [
        [
          '1',
          'tab\there\nnew line \\ back\rslash',
          'true',
          '-32768',
          '2147483647',
          '1.5',
          '3.141592653589793',
          '1234567890123456789012345678.1234567891',
          '123456789012345678901234567890.123456789012345678901234567890',
          'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
          '2024-02-29',
          '23:59:59.999999',
          '2024-01-02 03:04:05.123456',
          '2024-01-02 03:04:05.123456+00',
          '1 year 2 mons 3 days 04:05:06.789',
          '{"a": [1, {"b": null}], "s": "é 😀"}',
          '\\x00ff10',
        ],
        [
          '2',
          '',
          'false',
          '0',
          '0',
          '0',
          '-0',
          '-0.0000000001',
          '0',
          null,
          null,
          null,
          null,
          null,
          null,
          '[]',
          '\\x',
        ],
        [
          '3',
          'héllo 😀 — 中文',
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
          null,
        ],
      ],
    );
    const types = await db.query(
      `select column_name, data_type, numeric_precision, numeric_scale from information_schema.columns
       where table_schema = 'Mixed Schema' and table_name = 'Types "All"' order by ordinal_position`,
    );
    const typeOf = Object.fromEntries(types.map((t) => [t.column_name, t]));
    assert.equal(typeOf.Amount.data_type, 'numeric');
    assert.equal(typeOf.Amount.numeric_precision, 38);
    assert.equal(typeOf.Amount.numeric_scale, 10);
    assert.equal(typeOf.ts.data_type, 'timestamp with time zone');
    assert.equal(typeOf.doc.data_type, 'jsonb');
    assert.equal(typeOf.raw.data_type, 'bytea');
    assert.equal(typeOf.Order.data_type, 'bigint');
    const [pk] = await db.query(
      `select pg_get_constraintdef(oid) as def from pg_constraint
       where conrelid = '"Mixed Schema"."Types ""All"""'::regclass and contype = 'p'`,
    );
    assert.equal(pk.def, 'PRIMARY KEY ("Order")');
    assert.deepEqual(await stagingTables('Mixed Schema'), []);
  });

  it('swaps a snapshot in atomically: readers see the old table until commit, extra columns kept', async () => {
    await db.query(`create table public.snap (id int primary key, name text, legacy text);
      insert into public.snap values (1, 'old one', 'kept?'), (2, 'old two', null)`);
    const target: TableTarget = {
      syncId: 's1',
      schemaId: 'snap',
      namespace: 'public',
      table: 'snap',
      columns: [col('id', { kind: 'int32' }), col('name', { kind: 'text' }), col('added', { kind: 'int64' })],
      primaryKey: ['id'],
    };
    const reader = new pg.Client({ connectionString: db.url });
    await reader.connect();
    try {
      const load = await begin(target);
      await load.write([
        ['10', 'new ten', '100'],
        ['11', 'new eleven', null],
      ]);
      await load.write([['12', 'new twelve', '120']]);
      const during = await reader.query('select id, name from public.snap order by id');
      assert.deepEqual(
        during.rows.map((r) => r.id),
        [1, 2],
      );
      // A reader inside a transaction keeps reading a complete table while the swap commits.
      await reader.query('begin isolation level repeatable read');
      assert.equal((await reader.query('select count(*)::int as n from public.snap')).rows[0].n, 2);
      await reader.query('commit');
      // Another connection polls the table through the commit: always a complete old or new table.
      const poller = new pg.Client({ connectionString: db.url });
      await poller.connect();
      const seen = new Set<string>();
      let polling = true;
      const poll = (async () => {
        while (polling) {
          const { rows } = await poller.query(
            'select array_agg(id order by id)::text as ids from public.snap',
          );
          seen.add(rows[0].ids);
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 30));
      const result = await load.commit();
      await new Promise((resolve) => setTimeout(resolve, 30));
      polling = false;
      await poll;
      await poller.end();
      assert.deepEqual([...seen].sort(), ['{1,2}', '{10,11,12}']);
      assert.equal(result.inserted, 3);
      const afterRows = await reader.query('select id, name, added, legacy from public.snap order by id');
      assert.deepEqual(afterRows.rows, [
        { id: 10, name: 'new ten', added: '100', legacy: null },
        { id: 11, name: 'new eleven', added: null, legacy: null },
        { id: 12, name: 'new twelve', added: '120', legacy: null },
      ]);
    } finally {
      await reader.end();
    }
    const [pk] = await db.query(
      `select conname, pg_get_constraintdef(oid) as def from pg_constraint
       where conrelid = 'public.snap'::regclass and contype = 'p'`,
    );
    assert.deepEqual(pk, { conname: 'snap_pkey', def: 'PRIMARY KEY (id)' });
    assert.deepEqual(await stagingTables('public'), []);
  });

  it('refills in place when a view depends on the snapshot table', async () => {
    await db.query(`create table public.viewed (id int primary key, v text);
      insert into public.viewed values (1, 'a');
      create view public.viewed_v as select * from public.viewed`);
    const target: TableTarget = {
      syncId: 's1',
      schemaId: 'viewed',
      namespace: 'public',
      table: 'viewed',
      columns: [col('id', { kind: 'int32' }), col('v', { kind: 'text' })],
      primaryKey: ['id'],
    };
    const load = await begin(target);
    await load.write([
      ['2', 'b'],
      ['3', 'c'],
    ]);
    await load.commit();
    assert.deepEqual(await db.query('select id, v from public.viewed_v order by id'), [
      { id: 2, v: 'b' },
      { id: 3, v: 'c' },
    ]);
  });

  it('abort leaves the previous state, and a later begin drops stale staging tables', async () => {
    await db.query(
      `create table public.keep (id int primary key, v text); insert into public.keep values (1, 'x')`,
    );
    const target: TableTarget = {
      syncId: 's1',
      schemaId: 'keep',
      namespace: 'public',
      table: 'keep',
      columns: [col('id', { kind: 'int32' }), col('v', { kind: 'text' }), col('w', { kind: 'text' })],
      primaryKey: ['id'],
    };
    const aborted = await begin(target);
    await aborted.write([['2', 'y', 'z']]);
    await aborted.abort();
    assert.deepEqual(await db.query('select * from public.keep'), [{ id: 1, v: 'x' }]);
    assert.deepEqual(await stagingTables('public'), []);

    // A crashed attempt: begun, written, never committed nor aborted.
    const crashed = await begin(target, { attemptId: 'crash1' });
    await crashed.write([['3', 'y', 'z']]);
    // Another table's staging (other sync) must survive the cleanup.
    const other = await begin({ ...target, table: 'keep2', schemaId: 'keep2' }, { attemptId: 'other' });
    assert.deepEqual((await stagingTables('public')).sort(), [
      '_ferry_stage_keep2_other',
      '_ferry_stage_keep_crash1',
    ]);
    const next = await begin(target, { attemptId: 'retry2' });
    assert.deepEqual((await stagingTables('public')).sort(), [
      '_ferry_stage_keep2_other',
      '_ferry_stage_keep_retry2',
    ]);
    await next.abort();
    await other.abort();
    assert.deepEqual(await db.query('select * from public.keep'), [{ id: 1, v: 'x' }]);
    assert.deepEqual(await stagingTables('public'), []);
  });

  it('merges replicate loads by key, counts inserted/updated and stores the greatest (cursor, pk)', async () => {
    const target = eventsTarget({
      syncId: 'sync-r',
      schemaId: 'public.events',
      namespace: 'ns_r',
      table: 'events',
    });
    assert.equal(await writer.readCursor(target), null);
    const first = await begin(target, { mode: 'replicate' });
    await first.write([
      ['1', '2024-01-01 00:00:00.000001+00', 'one'],
      ['2', '2024-01-01 00:00:00.000002+00', 'two'],
      ['10', '2024-01-01 00:00:00.000002+00', 'ten'], // tie on the cursor: the greater key wins
      ['9', '2024-01-01 02:00:00.000002+02', 'nine'], // same instant written in another zone
    ]);
    const r1 = await first.commit();
    assert.deepEqual(
      { inserted: r1.inserted, updated: r1.updated, cursor: r1.cursor },
      { inserted: 4, updated: 0, cursor: { value: '2024-01-01 00:00:00.000002+00', pk: ['10'] } },
    );
    assert.deepEqual(await writer.readCursor(target), r1.cursor);
    // Pages keep room for the merges' updates to stay on their page (HOT updates).
    const storage = async () =>
      (await db.query(`select reloptions from pg_class where oid = 'ns_r.events'::regclass`))[0].reloptions;
    assert.deepEqual(await storage(), ['fillfactor=90']);

    const second = await begin(target, { mode: 'replicate' });
    await second.write([
      ['2', '2024-01-02 00:00:00+00', 'two v2'],
      ['3', '2024-01-02 00:00:00+00', 'three'],
      ['2', '2024-01-03 00:00:00.5+00', 'two v3'], // same key twice: the greatest cursor wins
    ]);
    await second.write([['2', '2024-01-02 12:00:00+00', 'two stale']]);
    const r2 = await second.commit();
    assert.deepEqual(
      { loaded: r2.rowsLoaded, inserted: r2.inserted, updated: r2.updated, cursor: r2.cursor },
      { loaded: 4, inserted: 1, updated: 1, cursor: { value: '2024-01-03 00:00:00.5+00', pk: ['2'] } },
    );
    assert.deepEqual(await db.query('select id::int, v from ns_r.events order by id'), [
      { id: 1, v: 'one' },
      { id: 2, v: 'two v3' },
      { id: 3, v: 'three' },
      { id: 9, v: 'nine' },
      { id: 10, v: 'ten' },
    ]);

    // Nothing loaded: the cursor stays.
    const empty = await begin(target, { mode: 'replicate' });
    const r3 = await empty.commit();
    assert.deepEqual({ inserted: r3.inserted, updated: r3.updated }, { inserted: 0, updated: 0 });
    assert.deepEqual(r3.cursor, r2.cursor);
    assert.deepEqual(await writer.readCursor(target), r2.cursor);

    // Aborted load: neither data nor cursor move.
    const aborted = await begin(target, { mode: 'replicate' });
    await aborted.write([['4', '2030-01-01 00:00:00+00', 'four']]);
    await aborted.abort();
    assert.deepEqual(await writer.readCursor(target), r2.cursor);
    assert.equal((await db.query('select count(*)::int as n from ns_r.events'))[0].n, 5);

    // Resync: rebuilds the table and stores the new cursor.
    const resync = await begin(target, { mode: 'replicate', resync: true });
    await resync.write([['5', '2020-01-01 00:00:00+00', 'five']]);
    const r4 = await resync.commit();
    assert.deepEqual(r4.cursor, { value: '2020-01-01 00:00:00+00', pk: ['5'] });
    assert.deepEqual(await writer.readCursor(target), r4.cursor);
    assert.deepEqual(await db.query('select id::int, v from ns_r.events'), [{ id: 5, v: 'five' }]);
    assert.deepEqual(await storage(), ['fillfactor=90']);

    // A cursor whose table was dropped is forgotten.
    await db.query('drop table ns_r.events');
    assert.equal(await writer.readCursor(target), null);
  });

  it("renames a replicate table's first load into place; merges into a table that appeared meanwhile", async () => {
    const targetOf = (table: string) =>
      eventsTarget({ syncId: 'sync-f', schemaId: `public.${table}`, namespace: 'ns_f', table });
    const stageOid = async (table: string) =>
      (
        await db.query(
          `select c.oid::int as oid from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'ns_f' and c.relname like '\\_ferry\\_stage\\_${table}%'`,
        )
      )[0].oid;
    const first = await begin(targetOf('firsts'), { mode: 'replicate' });
    await first.write([
      ['1', '2024-01-01 00:00:00+00', 'one'],
      ['2', '2024-01-02 00:00:00+00', 'two'],
      ['1', '2024-01-03 00:00:00+00', 'one v2'], // the same key again: the greater cursor wins
    ]);
    const staged = await stageOid('firsts');
    const r1 = await first.commit();
    assert.deepEqual(
      { loaded: r1.rowsLoaded, inserted: r1.inserted, updated: r1.updated, cursor: r1.cursor },
      { loaded: 3, inserted: 2, updated: 0, cursor: { value: '2024-01-03 00:00:00+00', pk: ['1'] } },
    );
    assert.deepEqual(await writer.readCursor(targetOf('firsts')), r1.cursor);
    const [table] = await db.query(
      `select c.oid::int as oid, c.reloptions, c.relpersistence,
         (select count(*)::int from pg_constraint where conrelid = c.oid and contype = 'p') as keys
       from pg_class c where c.oid = 'ns_f.firsts'::regclass`,
    );
    assert.deepEqual(table, { oid: staged, reloptions: ['fillfactor=90'], relpersistence: 'p', keys: 1 });
    assert.deepEqual(await db.query('select id::int, v from ns_f.firsts order by id'), [
      { id: 1, v: 'one v2' },
      { id: 2, v: 'two' },
    ]);

    const late = await begin(targetOf('late'), { mode: 'replicate' });
    await late.write([['1', '2024-01-01 00:00:00+00', 'one']]);
    await db.query(
      `create table ns_f.late (id bigint primary key, updated timestamptz, v text); insert into ns_f.late values (99, now(), 'theirs')`,
    );
    const r2 = await late.commit();
    assert.deepEqual([r2.inserted, r2.updated], [1, 0]);
    assert.deepEqual(await db.query('select id::int, v from ns_f.late order by id'), [
      { id: 1, v: 'one' },
      { id: 99, v: 'theirs' },
    ]);
    assert.deepEqual(await stagingTables('ns_f'), []);
  });

  it('adds new columns and keeps removed ones (NULL for new rows)', async () => {
    const base: TableTarget = {
      syncId: 's-ev',
      schemaId: 'ev',
      namespace: 'public',
      table: 'evolve',
      columns: [col('id', { kind: 'int32' }), col('a', { kind: 'text' }), col('gone', { kind: 'text' })],
      primaryKey: ['id'],
      cursorColumn: 'id',
    };
    const l1 = await begin(base, { mode: 'replicate' });
    await l1.write([['1', 'a1', 'g1']]);
    await l1.commit();
    const evolved = {
      ...base,
      columns: [col('id', { kind: 'int32' }), col('a', { kind: 'text' }), col('b', { kind: 'date' })],
    };
    const l2 = await begin(evolved, { mode: 'replicate' });
    await l2.write([
      ['1', 'a1 v2', '2024-01-01'],
      ['2', 'a2', null],
    ]);
    const r2 = await l2.commit();
    assert.deepEqual([r2.inserted, r2.updated], [1, 1]);
    assert.deepEqual(await db.query('select id, a, gone, b::text from public.evolve order by id'), [
      { id: 1, a: 'a1 v2', gone: 'g1', b: '2024-01-01' },
      { id: 2, a: 'a2', gone: null, b: null },
    ]);
    // Snapshot of the evolved shape keeps the removed column too.
    const l3 = await begin(evolved);
    await l3.write([['3', 'a3', '2024-03-03']]);
    await l3.commit();
    assert.deepEqual(await db.query('select id, a, gone, b::text from public.evolve'), [
      { id: 3, a: 'a3', gone: null, b: '2024-03-03' },
    ]);
  });

  it('isolates refused rows by bisecting, with PostgreSQL reason, and loads the rest', async () => {
    await db.query(
      `create table public.strict (id int primary key, n int not null, label text check (label <> 'bad'))`,
    );
    const target: TableTarget = {
      syncId: 's1',
      schemaId: 'strict',
      namespace: 'public',
      table: 'strict',
      columns: [col('id', { kind: 'int32' }), col('n', { kind: 'int32' }), col('label', { kind: 'text' })],
      primaryKey: ['id'],
    };
    for (const mode of ['snapshot', 'replicate'] as const) {
      const rejected: RejectedRow[] = [];
      const load = await begin(target, { mode, rejected });
      const rows: (string | null)[][] = Array.from({ length: 100 }, (_, i) => [
        String(i),
        String(i * 2),
        `ok ${i}`,
      ]);
      rows[7] = ['7', 'seven', 'x'];
      rows[42] = ['42', null, 'y'];
      rows[43] = ['43', '1', 'bad'];
      rows[99] = ['99', '99999999999', 'z'];
      await load.write(rows.slice(0, 60));
      await load.write(rows.slice(60));
      const result = await load.commit();
      assert.equal(result.rowsLoaded, 96);
      assert.equal(result.rejected, 4);
      assert.deepEqual(
        rejected.map((r) => r.row[0]),
        ['7', '42', '43', '99'],
      );
      assert.match(rejected[0]!.reason, /invalid input syntax for type integer: "seven"/);
      assert.match(rejected[1]!.reason, /null value in column "n"/);
      assert.match(rejected[2]!.reason, /violates check constraint/);
      assert.match(rejected[3]!.reason, /out of range for type integer/);
      assert.equal((await db.query('select count(*)::int as n from public.strict'))[0].n, 96);
    }
  });

  it('loads a raw COPY text stream (fast path) and throws on a bad one', async () => {
    const target: TableTarget = {
      syncId: 's1',
      schemaId: 'fast',
      namespace: 'public',
      table: 'fast',
      columns: [col('id', { kind: 'int32' }), col('v', { kind: 'text' })],
      primaryKey: ['id'],
    };
    const load = await begin(target);
    await load.writeCopyText!(Readable.from(['1\tone\n2\t\\N\n', '3\t\n']));
    const result = await load.commit();
    assert.equal(result.rowsLoaded, 3);
    assert.deepEqual(await db.query('select * from public.fast order by id'), [
      { id: 1, v: 'one' },
      { id: 2, v: null },
      { id: 3, v: '' },
    ]);
    const bad = await begin(target);
    await assert.rejects(bad.writeCopyText!(Readable.from(['4\tfour\nfive\t5\n'])), /invalid input syntax/);
    await bad.abort();
    assert.equal((await db.query('select count(*)::int as n from public.fast'))[0].n, 3);
  });

  it('cancels the running COPY when the signal aborts', async () => {
    await db.query(`create function public.slow_ok(int) returns boolean language sql as 'select pg_sleep(0.2) is not null';
      create table public.slow (id int primary key check (public.slow_ok(id)))`);
    const target: TableTarget = {
      syncId: 's1',
      schemaId: 'slow',
      namespace: 'public',
      table: 'slow',
      columns: [col('id', { kind: 'int32' })],
      primaryKey: ['id'],
    };
    const controller = new AbortController();
    const load = await begin(target, { signal: controller.signal });
    const started = Date.now();
    setTimeout(() => controller.abort(), 300);
    await assert.rejects(
      load.write(Array.from({ length: 200 }, (_, i) => [String(i)])), // 40 s if not cancelled
      (error: Error) => error.name === 'AbortError',
    );
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    await load.abort();
    const active = await db.query(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and query like 'copy%' and state = 'active'`,
    );
    assert.equal(active[0].n, 0);
    assert.deepEqual(await stagingTables('public'), []);
  });

  it('keeps staging names within 63 bytes', () => {
    assert.equal(stagingTableName('t', 'x1'), '_ferry_stage_t_x1');
    const long = stagingTableName('é'.repeat(40), 'abc1');
    assert.ok(Buffer.byteLength(long) <= 63 && long.startsWith('_ferry_stage_'));
    assert.notEqual(stagingTableName('é'.repeat(40), 'abc2'), long);
  });

  it("is the connector type's openWriter", async () => {
    const { postgresConnector } = await import('../../src/connectors/postgres/index.ts');
    assert.equal(postgresConnector.capabilities.destination, true);
    const wired = await postgresConnector.openWriter!(db.config as never);
    await wired.close();
  });
});
