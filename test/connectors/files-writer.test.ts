import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { openParquetWriter } from '../../src/connectors/files/writer.ts';
import type { RejectedRow, TableTarget, TableWriter } from '../../src/engine/bulk/contracts.ts';
import { type TempDir, tempDir } from '../support/databases.ts';
import { col, eventsTarget } from './writer-support.ts';

let counter = 0;

describe('parquet files writer', () => {
  let dir: TempDir;
  let writer: TableWriter;
  let reader: DuckDBInstance;

  before(async () => {
    dir = tempDir();
    writer = await openParquetWriter({ path: dir.path });
    reader = await DuckDBInstance.create(':memory:');
  });
  after(async () => {
    await writer?.close();
    reader?.closeSync();
    dir?.cleanup();
  });

  const query = async (sql: string): Promise<Record<string, unknown>[]> => {
    const connection = await reader.connect();
    try {
      return (await connection.runAndReadAll(sql)).getRowObjectsJson();
    } finally {
      connection.closeSync();
    }
  };
  const file = (...parts: string[]) => `'${join(dir.path, ...parts).replaceAll("'", "''")}'`;

  const begin = (
    target: TableTarget,
    options: Partial<{
      mode: 'snapshot' | 'replicate';
      resync: boolean;
      rebuild: boolean;
      attemptId: string;
      signal: AbortSignal;
      rejected: RejectedRow[];
    }> = {},
  ) =>
    writer.begin(target, {
      mode: options.mode ?? 'snapshot',
      resync: options.resync ?? false,
      rebuild: options.rebuild ?? false,
      attemptId: options.attemptId ?? `a${++counter}`,
      signal: options.signal ?? new AbortController().signal,
      onReject: (row) => options.rejected?.push(row),
    });

  const hidden = (...parts: string[]) =>
    readdirSync(join(dir.path, ...parts)).filter((name) => name.startsWith('.ferry_stage_'));

  it('writes <namespace>/<table>.parquet with exact values and parquet types', async () => {
    const columns = [
      col('Order', { kind: 'int64' }),
      col('select', { kind: 'text' }),
      col('flag', { kind: 'boolean' }),
      col('Amount', { kind: 'decimal', precision: 38, scale: 10 }),
      col('wide', { kind: 'decimal' }),
      col('id', { kind: 'uuid' }),
      col('day', { kind: 'date' }),
      col('ts', { kind: 'timestamptz' }),
      col('doc', { kind: 'json' }),
      col('raw', { kind: 'bytes' }),
    ];
    const target: TableTarget = {
      syncId: 's1',
      schemaId: 'types',
      namespace: 'Sales',
      table: 'Types All',
      columns,
      primaryKey: ['Order'],
    };
    const load = await begin(target);
    await load.write([
      [
        '1',
        'tab\there\nnew line \\ 😀',
        't',
        '1234567890123456789012345678.1234567891',
        '123456789012345678901234567890.123456789012345678901234567890',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        '2024-02-29',
        '2024-01-02 05:04:05.123456+02',
        '{"a": [1, {"b": null}]}',
        '\\x00ff10',
      ],
      ['2', '', 'f', '0', '0', null, null, null, null, '\\x'],
      ['3', null, null, null, null, null, null, null, null, null],
    ]);
    const result = await load.commit();
    assert.equal(result.rowsLoaded, 3);
    const back = await query(
      `select "Order"::varchar as "Order", "select", case when flag then 't' when not flag then 'f' end as flag,
         "Amount"::varchar as "Amount", wide, id::varchar as id, day::varchar as day, ts::varchar as ts,
         doc::varchar as doc, '\\x' || lower(hex(raw)) as raw
       from read_parquet(${file('Sales', 'Types All.parquet')}) order by "Order"`,
    );
    assert.deepEqual(back[0], {
      Order: '1',
      select: 'tab\there\nnew line \\ 😀',
      flag: 't',
      Amount: '1234567890123456789012345678.1234567891',
      wide: '123456789012345678901234567890.123456789012345678901234567890',
      id: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      day: '2024-02-29',
      ts: '2024-01-02 03:04:05.123456+00',
      doc: '{"a": [1, {"b": null}]}',
      raw: '\\x00ff10',
    });
    assert.equal(back[1]!.select, '');
    assert.equal(back[2]!.select, null);
    const schema = await query(
      `select name, type, converted_type from parquet_schema(${file('Sales', 'Types All.parquet')})`,
    );
    const byName = Object.fromEntries(schema.map((s) => [s.name, s]));
    assert.equal(byName.Amount!.converted_type, 'DECIMAL');
    assert.equal(byName.ts!.converted_type, 'TIMESTAMP_MICROS');
    assert.equal(byName.wide!.type, 'BYTE_ARRAY');
    assert.deepEqual(hidden('Sales'), []);
  });

  it('replaces snapshots by rename, keeps extra columns, and abort leaves the old file', async () => {
    const target: TableTarget = {
      syncId: 's1',
      schemaId: 'snap',
      namespace: '',
      table: 'snap',
      columns: [col('id', { kind: 'int32' }), col('name', { kind: 'text' }), col('legacy', { kind: 'text' })],
      primaryKey: ['id'],
    };
    const l1 = await begin(target);
    await l1.write([
      ['1', 'one', 'x'],
      ['2', 'two', 'y'],
    ]);
    await l1.commit();
    const next = { ...target, columns: target.columns.slice(0, 2) };
    const l2 = await begin(next);
    await l2.write([['10', 'ten']]);
    assert.deepEqual(
      (await query(`select id from read_parquet(${file('snap.parquet')}) order by id`)).map((r) => r.id),
      [1, 2],
    );
    await l2.commit();
    assert.deepEqual(await query(`select * from read_parquet(${file('snap.parquet')})`), [
      { id: 10, name: 'ten', legacy: null },
    ]);
    const aborted = await begin(next);
    await aborted.write([['11', 'lost']]);
    await aborted.abort();
    assert.deepEqual(await query(`select id from read_parquet(${file('snap.parquet')})`), [{ id: 10 }]);
    // A crashed attempt leaves its staging files; the next begin removes them.
    const crashed = await begin(next, { attemptId: 'crash' });
    await crashed.write([['12', 'crash']]);
    assert.ok(hidden().length > 0);
    const retry = await begin(next, { attemptId: 'retry' });
    await retry.write([['13', 'retry']]);
    await retry.commit();
    await crashed.abort();
    assert.deepEqual(hidden(), []);
    assert.deepEqual(await query(`select id from read_parquet(${file('snap.parquet')})`), [{ id: 13 }]);
    const rebuilt = await begin(next, { resync: true, rebuild: true });
    await rebuilt.write([['14', 'rebuilt']]);
    await rebuilt.commit();
    assert.deepEqual(
      await query(`select * from read_parquet(${file('snap.parquet')})`),
      [{ id: 14, name: 'rebuilt' }],
      'a rebuild writes the source columns only',
    );
  });

  it('merges replicate loads by key with an atomic rename and keeps the cursor in _ferry_state.json', async () => {
    const target = eventsTarget({ syncId: 'sync-r', schemaId: 'events', namespace: 'ns', table: 'events' });
    assert.equal(await writer.readCursor(target), null);
    const l1 = await begin(target, { mode: 'replicate' });
    await l1.write([
      ['1', '2024-01-01 00:00:00.000001+00', 'one'],
      ['2', '2024-01-01 00:00:00.000002+00', 'two'],
      ['10', '2024-01-01 00:00:00.000002+00', 'ten'],
    ]);
    const r1 = await l1.commit();
    assert.deepEqual(r1.cursor, { value: '2024-01-01 00:00:00.000002+00', pk: ['10'] });
    assert.deepEqual(await writer.readCursor(target), r1.cursor);
    const state = JSON.parse(readFileSync(join(dir.path, 'ns', '_ferry_state.json'), 'utf8'));
    assert.equal(state['sync-r'].events.cursor_value, '2024-01-01 00:00:00.000002+00');

    const l2 = await begin(
      { ...target, columns: [...target.columns, col('extra', { kind: 'int32' })] },
      {
        mode: 'replicate',
      },
    );
    await l2.write([
      ['2', '2024-01-02 00:00:00+00', 'two v2', '7'],
      ['3', '2024-01-02 00:00:00+00', 'three', null],
      ['2', '2024-01-03 00:00:00.5+00', 'two v3', '8'],
    ]);
    const r2 = await l2.commit();
    assert.deepEqual(
      { inserted: r2.inserted, updated: r2.updated, cursor: r2.cursor },
      { inserted: 1, updated: 1, cursor: { value: '2024-01-03 00:00:00.5+00', pk: ['2'] } },
    );
    assert.deepEqual(
      await query(
        `select id::int as id, v, extra from read_parquet(${file('ns', 'events.parquet')}) order by id`,
      ),
      [
        { id: 1, v: 'one', extra: null },
        { id: 2, v: 'two v3', extra: 8 },
        { id: 3, v: 'three', extra: null },
        { id: 10, v: 'ten', extra: null },
      ],
    );
    // Re-running the same merge (a crash between the data and the state rename) changes nothing.
    const again = await begin(
      { ...target, columns: [...target.columns, col('extra', { kind: 'int32' })] },
      {
        mode: 'replicate',
      },
    );
    await again.write([['2', '2024-01-03 00:00:00.5+00', 'two v3', '8']]);
    const r3 = await again.commit();
    assert.deepEqual([r3.inserted, r3.updated], [0, 1]);
    assert.equal(
      (await query(`select count(*)::int as n from read_parquet(${file('ns', 'events.parquet')})`))[0]!.n,
      4,
    );
    // Removed column (extra) kept; nothing loaded: cursor stays.
    const empty = await begin(target, { mode: 'replicate' });
    const r4 = await empty.commit();
    assert.deepEqual(r4.cursor, r2.cursor);
    assert.deepEqual(await writer.readCursor(target), r2.cursor);
    assert.deepEqual(
      (await query(`select extra from read_parquet(${file('ns', 'events.parquet')}) order by id`)).map(
        (r) => r.extra,
      ),
      [null, 8, null, null],
    );
    assert.deepEqual(hidden('ns'), []);
  });

  it('isolates refused rows and honours the signal', async () => {
    const target: TableTarget = {
      syncId: 's1',
      schemaId: 'strict',
      namespace: '',
      table: 'strict',
      columns: [col('id', { kind: 'int32' }), col('n', { kind: 'int32' })],
      primaryKey: ['id'],
    };
    const rejected: RejectedRow[] = [];
    const load = await begin(target, { rejected });
    await load.write([
      ['1', '1'],
      ['2', 'two'],
      [null, '3'],
      ['4', '4'],
    ]);
    const result = await load.commit();
    assert.deepEqual(
      rejected.map((r) => r.row),
      [
        ['2', 'two'],
        [null, '3'],
      ],
    );
    assert.match(rejected[0]!.reason, /Could not convert string 'two' to INT32/);
    assert.equal(result.rowsLoaded, 2);

    const controller = new AbortController();
    const cancelled = await begin(target, { signal: controller.signal });
    controller.abort();
    await assert.rejects(cancelled.write([['5', '5']]), (error: Error) => error.name === 'AbortError');
    await cancelled.abort();
    assert.deepEqual(hidden(), []);
    assert.equal(
      (await query(`select count(*)::int as n from read_parquet(${file('strict.parquet')})`))[0]!.n,
      2,
    );
  });

  it("is the connector type's openWriter", async () => {
    const { filesConnector } = await import('../../src/connectors/files/index.ts');
    assert.equal(filesConnector.capabilities.destination, true);
    const wired = await filesConnector.openWriter!({ path: dir.path } as never);
    await wired.close();
  });

  it('writes rows sorted by the partition key', async () => {
    const target: TableTarget = {
      syncId: 's1',
      schemaId: 'parted',
      namespace: '',
      table: 'parted',
      columns: [col('id', { kind: 'int32' }), col('region', { kind: 'text' })],
      primaryKey: ['id'],
      partitionKey: 'region',
    };
    const load = await begin(target);
    await load.write([
      ['1', 'west'],
      ['2', 'east'],
      ['3', 'north'],
      ['4', 'east'],
    ]);
    await load.commit();
    const rows = await query(`select region from read_parquet(${file('parted.parquet')})`);
    assert.deepEqual(
      rows.map((r) => r.region),
      ['east', 'east', 'north', 'west'],
    );
  });
});
