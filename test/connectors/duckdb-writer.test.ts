import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  borrowDuckdbConnection,
  DuckdbStageLoader,
  openDuckdbWriter,
} from '../../src/connectors/duckdb/writer.ts';
import type { RejectedRow, TableTarget, TableWriter } from '../../src/engine/bulk/contracts.ts';
import { type TempDir, tempDir } from '../support/databases.ts';
import { col, eventsTarget } from './writer-support.ts';

let counter = 0;

describe('duckdb writer', () => {
  let dir: TempDir;
  let path: string;
  let writer: TableWriter;

  before(async () => {
    dir = tempDir();
    path = join(dir.path, 'dest.duckdb');
    writer = await openDuckdbWriter({ path });
  });
  after(async () => {
    await writer?.close();
    dir?.cleanup();
  });

  /** Reads the file the way another process would: its own read-only instance. */
  const query = async (sql: string): Promise<Record<string, unknown>[]> => {
    const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
    const connection = await instance.connect();
    try {
      return (await connection.runAndReadAll(sql)).getRowObjectsJson();
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  };

  const begin = (
    target: TableTarget,
    options: Partial<{
      mode: 'snapshot' | 'replicate';
      resync: boolean;
      rebuild: boolean;
      attemptId: string;
      signal: AbortSignal;
      rejected: RejectedRow[];
      /** Another file's writer (the file of the other tests has a primary key from one of them). */
      on: TableWriter;
    }> = {},
  ) =>
    (options.on ?? writer).begin(target, {
      mode: options.mode ?? 'snapshot',
      resync: options.resync ?? false,
      rebuild: options.rebuild ?? false,
      attemptId: options.attemptId ?? `a${++counter}`,
      signal: options.signal ?? new AbortController().signal,
      onReject: (row) => options.rejected?.push(row),
    });

  const stagingTables = async () =>
    (await query(`select table_name from duckdb_tables() where starts_with(table_name, '_ferry_stage_')`))
      .map((r) => String(r.table_name))
      .sort();

  it('keeps every logical type exact, with quoted mixed-case and reserved names', async () => {
    const columns = [
      col('Order', { kind: 'int64' }),
      col('select', { kind: 'text' }),
      col('flag', { kind: 'boolean' }),
      col('i16', { kind: 'int16' }),
      col('i32', { kind: 'int32' }),
      col('f32', { kind: 'float32' }),
      col('f64', { kind: 'float64' }),
      col('Amount', { kind: 'decimal', precision: 38, scale: 10 }),
      col('wide', { kind: 'decimal', precision: 60, scale: 30 }),
      col('free', { kind: 'decimal' }),
      col('id', { kind: 'uuid' }),
      col('day', { kind: 'date' }),
      col('at', { kind: 'time' }),
      col('local', { kind: 'timestamp' }),
      col('ts', { kind: 'timestamptz' }),
      col('doc', { kind: 'json' }),
      col('raw', { kind: 'bytes' }),
    ];
    const target: TableTarget = {
      syncId: 's1',
      schemaId: 'types',
      namespace: 'Mixed Schema',
      table: 'Types "All"',
      columns,
      primaryKey: ['Order'],
    };
    const full = [
      '1',
      'tab\there\nnew line \\ back',
      't',
      '-32768',
      '2147483647',
      '1.5',
      'NaN',
      '1234567890123456789012345678.1234567891',
      '123456789012345678901234567890.123456789012345678901234567890',
      '1e-400',
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      '2024-02-29',
      '23:59:59.999999',
      '2024-01-02 03:04:05.123456',
      '2024-01-02 05:04:05.123456+02',
      '{"a": [1, {"b": null}], "s": "é 😀"}',
      '\\x00ff10',
    ];
    const rows = [
      full,
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
        '0',
        null,
        null,
        null,
        null,
        null,
        '[]',
        '\\x',
      ],
      ['3', 'héllo 😀 — 中文', ...Array.from({ length: 15 }, () => null)],
    ];
    const load = await begin(target);
    await load.write(rows);
    const result = await load.commit();
    assert.equal(result.rowsLoaded, 3);
    const back = await query(
      `select ${columns
        .map((c) =>
          c.name === 'raw'
            ? `'\\x' || lower(hex("raw")) as "raw"`
            : c.name === 'flag'
              ? `case when flag then 't' when not flag then 'f' end as flag`
              : `"${c.name}"::varchar as "${c.name}"`,
        )
        .join(', ')}
       from "Mixed Schema"."Types ""All""" order by "Order"`,
    );
    const values = back.map((r) => columns.map((c) => r[c.name] ?? null));
    // DuckDB spells NaN `nan`; timestamptz comes back in UTC.
    const expected = [...full.slice(0, 14), '2024-01-02 03:04:05.123456+00', ...full.slice(15)];
    expected[6] = 'nan';
    assert.deepEqual(values[0], expected);
    assert.deepEqual(values[1], [
      '2',
      '',
      'f',
      '0',
      '0',
      '0.0',
      '-0.0',
      '-0.0000000001',
      '0',
      '0',
      null,
      null,
      null,
      null,
      null,
      '[]',
      '\\x',
    ]);
    assert.deepEqual(values[2], ['3', 'héllo 😀 — 中文', ...Array.from({ length: 15 }, () => null)]);
    const types = await query(
      `select column_name, data_type from duckdb_columns() where table_name = 'Types "All"' order by column_index`,
    );
    assert.deepEqual(Object.fromEntries(types.map((t) => [t.column_name, t.data_type])), {
      Order: 'BIGINT',
      select: 'VARCHAR',
      flag: 'BOOLEAN',
      i16: 'SMALLINT',
      i32: 'INTEGER',
      f32: 'FLOAT',
      f64: 'DOUBLE',
      Amount: 'DECIMAL(38,10)',
      wide: 'VARCHAR',
      free: 'VARCHAR',
      id: 'UUID',
      day: 'DATE',
      at: 'TIME',
      local: 'TIMESTAMP',
      ts: 'TIMESTAMP WITH TIME ZONE',
      doc: 'JSON',
      raw: 'BLOB',
    });
    // No PRIMARY KEY (its ART index would have to fit in memory): the key column is NOT NULL only.
    assert.deepEqual(
      await query(
        `select constraint_type as t, constraint_column_names as c from duckdb_constraints()
         where table_name = 'Types "All"' order by t`,
      ),
      [{ t: 'NOT NULL', c: ['Order'] }],
    );
    assert.deepEqual(await stagingTables(), []);
  });

  it('swaps snapshots atomically, keeps extra columns, and abort leaves the previous state', async () => {
    const target: TableTarget = {
      syncId: 's1',
      schemaId: 'snap',
      namespace: 'main',
      table: 'snap',
      columns: [col('id', { kind: 'int32' }), col('name', { kind: 'text' }), col('legacy', { kind: 'text' })],
      primaryKey: ['id'],
    };
    const first = await begin(target);
    await first.write([
      ['1', 'one', 'l1'],
      ['2', 'two', null],
    ]);
    await first.commit();

    const next = { ...target, columns: target.columns.slice(0, 2) };
    const load = await begin(next);
    await load.write([['10', 'ten']]);
    const borrowed = await borrowDuckdbConnection(path);
    try {
      const ids = async () =>
        (await borrowed.connection.runAndReadAll('select id from main.snap order by id'))
          .getRowsJson()
          .map((r) => r[0]);
      assert.deepEqual(await ids(), [1, 2]);
      await load.write([['11', 'eleven']]);
      assert.deepEqual(await ids(), [1, 2]);
      const result = await load.commit();
      assert.equal(result.inserted, 2);
      assert.deepEqual(await ids(), [10, 11]);
    } finally {
      await borrowed.release();
    }
    assert.deepEqual(await query('select id, name, legacy from main.snap order by id'), [
      { id: 10, name: 'ten', legacy: null },
      { id: 11, name: 'eleven', legacy: null },
    ]);

    const aborted = await begin(next);
    await aborted.write([['99', 'lost']]);
    await aborted.abort();
    assert.deepEqual(
      (await query('select id from main.snap order by id')).map((r) => r.id),
      [10, 11],
    );
    assert.deepEqual(await stagingTables(), []);
  });

  it('a snapshot renames its staging table into place, unless the destination has an index or the load a duplicate key', async () => {
    const target: TableTarget = {
      syncId: 's1',
      schemaId: 'renamed',
      namespace: 'main',
      table: 'renamed',
      columns: [col('id', { kind: 'int32' }), col('name', { kind: 'text' })],
      primaryKey: ['id'],
    };
    // Object ids are the writer's instance's own: one stays open over each load.
    const snapshot = async (rows: string[][]) => {
      const borrowed = await borrowDuckdbConnection(path);
      const oid = async (where: string) =>
        (await borrowed.connection.runAndReadAll(`select table_oid from duckdb_tables() where ${where}`))
          .getRowsJson()
          .map((r) => r[0])[0];
      try {
        const load = await begin(target);
        await load.write(rows);
        const staged = await oid(`starts_with(table_name, '_ferry_stage_renamed')`);
        const result = await load.commit();
        return { result, staged, oid: await oid(`table_name = 'renamed'`) };
      } finally {
        await borrowed.release();
      }
    };
    const first = await snapshot([
      ['1', 'one'],
      ['2', 'two'],
    ]);
    assert.equal(first.oid, first.staged);
    assert.equal(first.result.inserted, 2);
    const borrowed = await borrowDuckdbConnection(path);
    await borrowed.connection.run(`comment on table main.renamed is 'people'`);
    await borrowed.connection.run(`comment on column main.renamed.name is 'full name'`);
    await borrowed.release();

    const second = await snapshot([['3', 'three']]);
    assert.equal(second.oid, second.staged);
    assert.deepEqual(await query('select * from main.renamed'), [{ id: 3, name: 'three' }]);
    assert.deepEqual(await query(`select comment from duckdb_tables() where table_name = 'renamed'`), [
      { comment: 'people' },
    ]);
    assert.deepEqual(
      await query(
        `select column_name, comment, is_nullable from duckdb_columns() where table_name = 'renamed'`,
      ),
      [
        { column_name: 'id', comment: null, is_nullable: false },
        { column_name: 'name', comment: 'full name', is_nullable: true },
      ],
    );

    // A key loaded twice: the rows are copied, the latest of each key.
    const duplicated = await snapshot([
      ['4', 'old'],
      ['4', 'new'],
    ]);
    assert.notEqual(duplicated.oid, duplicated.staged);
    assert.deepEqual(await query('select * from main.renamed'), [{ id: 4, name: 'new' }]);

    // An index made outside Ferry stays: the rows are copied into the table.
    const indexed = await borrowDuckdbConnection(path);
    await indexed.connection.run('create index renamed_name on main.renamed (name)');
    await indexed.release();
    const kept = await snapshot([['5', 'five']]);
    assert.notEqual(kept.oid, kept.staged);
    assert.deepEqual(await query('select * from main.renamed'), [{ id: 5, name: 'five' }]);
    assert.deepEqual(await query(`select index_name from duckdb_indexes() where table_name = 'renamed'`), [
      { index_name: 'renamed_name' },
    ]);
    assert.deepEqual(await stagingTables(), []);
  });

  it('a later begin removes stale staging tables of the same table only', async () => {
    const target: TableTarget = {
      syncId: 's1',
      schemaId: 'stale',
      namespace: 'main',
      table: 'stale',
      columns: [col('id', { kind: 'int32' })],
      primaryKey: ['id'],
    };
    const crashed = await begin(target, { attemptId: 'crash1' });
    await crashed.write([['1']]);
    const other = await begin({ ...target, table: 'stale2' }, { attemptId: 'other' });
    const retry = await begin(target, { attemptId: 'retry2' });
    const borrowed = await borrowDuckdbConnection(path);
    const names = (
      await borrowed.connection.runAndReadAll(
        `select table_name from duckdb_tables() where starts_with(table_name, '_ferry_stage_') order by 1`,
      )
    )
      .getRowsJson()
      .map((r) => r[0]);
    await borrowed.release();
    assert.deepEqual(names, ['_ferry_stage_stale2_other', '_ferry_stage_stale_retry2']);
    await retry.commit();
    await other.abort();
    // The crashed load's instance reference is still held: releasing it lets the file close.
    await crashed.abort();
    assert.deepEqual(await stagingTables(), []);
  });

  it('merges replicate loads, counts inserted/updated, stores the greatest (cursor, pk)', async () => {
    const target = eventsTarget({ syncId: 'sync-r', schemaId: 'events', namespace: 'ns_r', table: 'events' });
    assert.equal(await writer.readCursor(target), null);
    const l1 = await begin(target, { mode: 'replicate' });
    await l1.write([
      ['1', '2024-01-01 00:00:00.000001+00', 'one'],
      ['2', '2024-01-01 00:00:00.000002+00', 'two'],
      ['10', '2024-01-01 00:00:00.000002+00', 'ten'],
      ['9', '2024-01-01 02:00:00.000002+02', 'nine'],
    ]);
    const r1 = await l1.commit();
    assert.deepEqual(
      { inserted: r1.inserted, updated: r1.updated, cursor: r1.cursor },
      { inserted: 4, updated: 0, cursor: { value: '2024-01-01 00:00:00.000002+00', pk: ['10'] } },
    );
    assert.deepEqual(await writer.readCursor(target), r1.cursor);

    const l2 = await begin(target, { mode: 'replicate' });
    await l2.write([
      ['2', '2024-01-02 00:00:00+00', 'two v2'],
      ['3', '2024-01-02 00:00:00+00', 'three'],
      ['2', '2024-01-03 00:00:00.5+00', 'two v3'],
    ]);
    await l2.write([['2', '2024-01-02 12:00:00+00', 'two stale']]);
    const r2 = await l2.commit();
    assert.deepEqual(
      { loaded: r2.rowsLoaded, inserted: r2.inserted, updated: r2.updated, cursor: r2.cursor },
      { loaded: 4, inserted: 1, updated: 1, cursor: { value: '2024-01-03 00:00:00.5+00', pk: ['2'] } },
    );
    assert.deepEqual(await query('select id::int as id, v from ns_r.events order by id'), [
      { id: 1, v: 'one' },
      { id: 2, v: 'two v3' },
      { id: 3, v: 'three' },
      { id: 9, v: 'nine' },
      { id: 10, v: 'ten' },
    ]);

    const empty = await begin(target, { mode: 'replicate' });
    const r3 = await empty.commit();
    assert.deepEqual([r3.inserted, r3.updated], [0, 0]);
    assert.deepEqual(r3.cursor, r2.cursor);
    assert.deepEqual(await writer.readCursor(target), r2.cursor);

    const resync = await begin(target, { mode: 'replicate', resync: true });
    await resync.write([['5', '2020-01-01 00:00:00+00', 'five']]);
    const r4 = await resync.commit();
    assert.deepEqual(r4.cursor, { value: '2020-01-01 00:00:00+00', pk: ['5'] });
    assert.deepEqual(await writer.readCursor(target), r4.cursor);
    assert.deepEqual(await query('select id::int as id from ns_r.events'), [{ id: 5 }]);
  });

  it('merges composite keys without a PRIMARY KEY, keeping columns the load does not carry', async () => {
    const target: TableTarget = {
      syncId: 'sync-k',
      schemaId: 'composite',
      namespace: 'ns_k',
      table: 'composite',
      columns: [col('a', { kind: 'int32' }), col('b', { kind: 'text' }), col('v', { kind: 'text' })],
      primaryKey: ['a', 'b'],
    };
    const l1 = await begin(target, { mode: 'replicate' });
    await l1.write([
      ['1', 'x', 'v1'],
      ['1', 'y', 'v1'],
      ['2', 'x', 'v1'],
    ]);
    assert.equal((await l1.commit()).inserted, 3);
    const { connection, release } = await borrowDuckdbConnection(path);
    try {
      await connection.run(`alter table ns_k.composite add column extra varchar`);
      await connection.run(`update ns_k.composite set extra = 'kept ' || a || b`);
    } finally {
      await release();
    }
    const l2 = await begin(target, { mode: 'replicate' });
    await l2.write([
      ['1', 'x', 'v2'],
      ['3', 'z', 'v2'],
    ]);
    await l2.write([['1', 'x', 'v3']]);
    const r2 = await l2.commit();
    assert.deepEqual([r2.inserted, r2.updated], [1, 1]);
    assert.deepEqual(await query('select a, b, v, extra from ns_k.composite order by a, b'), [
      { a: 1, b: 'x', v: 'v3', extra: 'kept 1x' },
      { a: 1, b: 'y', v: 'v1', extra: 'kept 1y' },
      { a: 2, b: 'x', v: 'v1', extra: 'kept 2x' },
      { a: 3, b: 'z', v: 'v2', extra: null },
    ]);
    assert.deepEqual(
      await query(
        `select constraint_type as t, constraint_column_names as c from duckdb_constraints()
         where table_name = 'composite' order by c`,
      ),
      [
        { t: 'NOT NULL', c: ['a'] },
        { t: 'NOT NULL', c: ['b'] },
      ],
    );
  });

  it('keeps loading tables that were created with a PRIMARY KEY', async () => {
    const { connection, release } = await borrowDuckdbConnection(path);
    try {
      await connection.run(`create table main.legacy (id int primary key, v varchar)`);
      await connection.run(`insert into main.legacy values (1, 'one'), (2, 'two')`);
    } finally {
      await release();
    }
    const target: TableTarget = {
      syncId: 's-legacy',
      schemaId: 'legacy',
      namespace: 'main',
      table: 'legacy',
      columns: [col('id', { kind: 'int32' }), col('v', { kind: 'text' })],
      primaryKey: ['id'],
    };
    const merge = await begin(target, { mode: 'replicate' });
    await merge.write([
      ['2', 'two v2'],
      ['3', 'three'],
    ]);
    const merged = await merge.commit();
    assert.deepEqual([merged.inserted, merged.updated], [1, 1]);
    assert.deepEqual(await query('select id, v from main.legacy order by id'), [
      { id: 1, v: 'one' },
      { id: 2, v: 'two v2' },
      { id: 3, v: 'three' },
    ]);
    const snapshot = await begin(target);
    await snapshot.write([
      ['3', 'three v2'],
      ['4', 'four'],
    ]);
    await snapshot.commit();
    assert.deepEqual(await query('select id, v from main.legacy order by id'), [
      { id: 3, v: 'three v2' },
      { id: 4, v: 'four' },
    ]);
    const [pk] = await query(
      `select constraint_column_names as c from duckdb_constraints() where table_name = 'legacy' and constraint_type = 'PRIMARY KEY'`,
    );
    assert.deepEqual(pk?.c, ['id']);
  });

  it('merges a load larger than its memory limit (sorts, joins and staged rows spill)', async () => {
    const target: TableTarget = {
      syncId: 's-big',
      schemaId: 'big',
      namespace: 'main',
      table: 'big',
      columns: [col('id', { kind: 'int64' }), col('n', { kind: 'int32' }), col('body', { kind: 'text' })],
      primaryKey: ['id'],
      cursorColumn: 'n',
    };
    // 160k rows of ~500 characters: ~80 MB of text per load, more than the instance's 32 MB.
    const rowsOf = (from: number, to: number, n: number) =>
      Array.from({ length: to - from }, (_, i) => {
        const id = from + i;
        return [String(id), String(n), `${id} `.repeat(500 / String(id).length).slice(0, 500)];
      });
    const loadAll = async (from: number, to: number, n: number) => {
      const load = await begin(target, { mode: 'replicate' });
      for (let id = from; id < to; id += 5_000) await load.write(rowsOf(id, Math.min(id + 5_000, to), n));
      return load;
    };
    const first = await loadAll(0, 160_000, 1);
    assert.equal((await first.commit()).inserted, 160_000);
    // Half the keys again, each twice (the later, greater cursor wins), and 80k new ones.
    const second = await loadAll(80_000, 240_000, 2);
    await second.write(rowsOf(80_000, 160_000, 3));
    const result = await second.commit();
    assert.deepEqual([result.inserted, result.updated], [80_000, 80_000]);
    assert.deepEqual(
      await query(
        `select count(*)::int as n, count(distinct id)::int as ids, sum(n)::int as cursor_sum,
           count(*) filter (where length(body) = 500)::int as full_bodies from main.big`,
      ),
      [{ n: 240_000, ids: 240_000, cursor_sum: 80_000 * 1 + 80_000 * 3 + 80_000 * 2, full_bodies: 240_000 }],
    );
  });

  it('merges millions of keys with more memory than loads, in slices; a file with an index loads with more', async () => {
    const target: TableTarget = {
      syncId: 's-wide',
      schemaId: 'wide',
      namespace: 'main',
      table: 'wide',
      columns: [col('id', { kind: 'int64' }), col('n', { kind: 'int32' })],
      primaryKey: ['id'],
      cursorColumn: 'n',
    };
    const keys = 3_000_000;
    const file = join(dir.path, 'wide.duckdb');
    const on = await openDuckdbWriter({ path: file });
    // Borrowed for the whole test: the instance stays open, so its settings after the commit show.
    const { connection, release } = await borrowDuckdbConnection(file);
    try {
      await connection.run(
        `create table main.wide as select range::bigint as id, 1 as n from range(${keys})`,
      );
      // Every key again: the merge's hash joins would want 64 MiB of row pointers at once, and its
      // DELETE ~45 MB until the commit; the load's 32 MB buffer pool holds neither.
      const load = await begin(target, { mode: 'replicate', on });
      const batch = 10_000;
      for (let from = 0; from < keys; from += batch)
        await load.write(Array.from({ length: batch }, (_, i) => [String(from + i), '2']));
      const result = await load.commit();
      assert.deepEqual([result.inserted, result.updated], [0, keys]);
      const after = await connection.runAndReadAll(
        `select count(*)::int as n, sum(n)::int as total, current_setting('memory_limit') as memory from main.wide`,
      );
      assert.deepEqual(after.getRowObjectsJson(), [{ n: keys, total: 2 * keys, memory: '30.5 MiB' }]);
    } finally {
      await release();
    }

    // An index in the file (here added by hand) must fit in memory at every checkpoint, which the
    // 32 MB pool would fail for good: the file loads with a larger pool.
    const plain = await DuckDBInstance.create(file);
    const setup = await plain.connect();
    await setup.run('create index wide_n on main.wide (n)');
    setup.closeSync();
    plain.closeSync();
    const indexed = await borrowDuckdbConnection(file);
    try {
      const snapshot = await begin(target, { mode: 'snapshot', on });
      for (let from = 0; from < keys; from += 10_000)
        await snapshot.write(Array.from({ length: 10_000 }, (_, i) => [String(from + i), '3']));
      assert.equal((await snapshot.commit()).inserted, keys);
      const after = await indexed.connection.runAndReadAll(
        `select count(*)::int as n, sum(n)::int as total, current_setting('memory_limit') as memory from main.wide`,
      );
      assert.deepEqual(after.getRowObjectsJson(), [{ n: keys, total: 3 * keys, memory: '244.1 MiB' }]);
    } finally {
      await indexed.release();
    }
  });

  it('adds new columns and keeps removed ones', async () => {
    const base: TableTarget = {
      syncId: 's-ev',
      schemaId: 'ev',
      namespace: 'main',
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
    assert.deepEqual(await query('select id, a, gone, b::varchar as b from main.evolve order by id'), [
      { id: 1, a: 'a1 v2', gone: 'g1', b: '2024-01-01' },
      { id: 2, a: 'a2', gone: null, b: null },
    ]);
    const rebuilt = await begin(evolved, { mode: 'replicate', resync: true, rebuild: true });
    await rebuilt.write([['3', 'a3', '2024-02-02']]);
    await rebuilt.commit();
    assert.deepEqual(
      await query('select id, a, b::varchar as b from main.evolve order by id'),
      [{ id: 3, a: 'a3', b: '2024-02-02' }],
      'a rebuild recreates the table from the source columns',
    );
    assert.deepEqual(
      (await query(`select column_name from duckdb_columns() where table_name = 'evolve'`)).map(
        (r) => r.column_name,
      ),
      ['id', 'a', 'b'],
    );
  });

  it('isolates refused rows by bisecting, with DuckDB reasons, and loads the rest', async () => {
    const target: TableTarget = {
      syncId: 's1',
      schemaId: 'strict',
      namespace: 'main',
      table: 'strict',
      columns: [col('id', { kind: 'int32' }), col('n', { kind: 'int32' }), col('raw', { kind: 'bytes' })],
      primaryKey: ['id'],
    };
    const setup = await borrowDuckdbConnection(path);
    await setup.connection.run(
      'create table main.strict (id int primary key, n int, raw blob, check (n <> 13))',
    );
    await setup.release();
    const rejected: RejectedRow[] = [];
    const load = await begin(target, { rejected });
    const rows: (string | null)[][] = Array.from({ length: 100 }, (_, i) => [String(i), String(i), '\\x01']);
    rows[7] = ['7', 'seven', null];
    rows[42] = [null, '1', null];
    rows[50] = ['50', '99999999999', null];
    rows[77] = ['77', '1', 'not hex'];
    await load.write(rows.slice(0, 60));
    await load.write(rows.slice(60));
    const result = await load.commit();
    assert.deepEqual(
      rejected.map((r) => r.row[0]),
      ['7', '13', null, '50', '77'],
    );
    assert.match(rejected[0]!.reason, /Could not convert string 'seven' to INT32/);
    assert.match(rejected[1]!.reason, /CHECK constraint failed/);
    assert.match(rejected[2]!.reason, /NOT NULL constraint failed/);
    assert.match(rejected[3]!.reason, /Could not convert string '99999999999' to INT32/);
    assert.match(rejected[4]!.reason, /bytea/);
    assert.equal(result.rowsLoaded, 95);
    assert.equal(result.rejected, 5);
    assert.equal((await query('select count(*)::int as n from main.strict'))[0]!.n, 95);
  });

  it('opens the file with settings that keep little of a load in memory', async () => {
    // A file of its own: the other tests' file has a primary key, which takes a larger pool.
    const { connection, release } = await borrowDuckdbConnection(join(dir.path, 'settings.duckdb'));
    try {
      const [settings] = (
        await connection.runAndReadAll(
          `select current_setting('memory_limit') as memory, current_setting('threads') as threads,
             current_setting('write_buffer_row_group_count') as row_groups,
             current_setting('allocator_background_threads') as purge,
             current_setting('allocator_flush_threshold') as flush,
             current_setting('allocator_bulk_deallocation_flush_threshold') as bulk_flush,
             current_setting('lock_configuration') as locked`,
        )
      ).getRowObjectsJson();
      assert.deepEqual(settings, {
        memory: '30.5 MiB',
        threads: '1',
        row_groups: '1',
        purge: true,
        flush: '3.8 MiB',
        bulk_flush: '1.9 MiB',
        locked: false,
      });
    } finally {
      await release();
    }
  });

  it('keeps no storage of loaded batches in the raw table', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      await connection.run('create table stage (id bigint, _ferry_ord bigint)');
      const loader = new DuckdbStageLoader({
        connection,
        stage: 'stage',
        columns: [{ name: 'id', type: 'BIGINT', notNull: false }],
        signal: new AbortController().signal,
        onReject: () => {},
      });
      await loader.init();
      for (let b = 0; b < 3; b++) await loader.write(Array.from({ length: 5000 }, (_, i) => [String(i)]));
      assert.equal(loader.rows, 15_000);
      // Emptying by DELETE would keep the deleted rows' row groups (and their memory) until a checkpoint.
      const [raw] = (
        await connection.runAndReadAll(
          `select count(*)::int as n from pragma_storage_info('temp.main._ferry_raw')`,
        )
      ).getRowObjectsJson();
      assert.equal(raw!.n, 0);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  it('stops on an aborted signal and leaves nothing behind', async () => {
    const target: TableTarget = {
      syncId: 's1',
      schemaId: 'cancel',
      namespace: 'main',
      table: 'cancel',
      columns: [col('id', { kind: 'int64' }), col('doc', { kind: 'json' })],
      primaryKey: ['id'],
    };
    const controller = new AbortController();
    const load = await begin(target, { signal: controller.signal });
    const big = Array.from({ length: 300_000 }, (_, i) => [
      String(i),
      `{"n": ${i}, "pad": "${'x'.repeat(50)}"}`,
    ]);
    const writing = load.write(big);
    setImmediate(() => controller.abort());
    // The running INSERT is interrupted (it usually is still running when the abort fires).
    await writing.then(
      () => {},
      (error: Error) => assert.equal(error.name, 'AbortError'),
    );
    await assert.rejects(load.write([['1', '{}']]), (error: Error) => error.name === 'AbortError');
    await load.abort();
    assert.deepEqual(await stagingTables(), []);
    assert.deepEqual(await query(`select * from duckdb_tables() where table_name = 'cancel'`), []);
  });

  it("is the connector type's openWriter", async () => {
    const { duckdbConnector } = await import('../../src/connectors/duckdb/index.ts');
    assert.equal(duckdbConnector.capabilities.destination, true);
    const wired = await duckdbConnector.openWriter!({ path } as never);
    await wired.close();
  });
});
