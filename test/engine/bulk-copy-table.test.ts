import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postgresConnector } from '../../src/connectors/postgres/index.ts';
import type { ColumnSpec, LogicalType, TableReader, TableWriter } from '../../src/engine/bulk/contracts.ts';
import { copyTable } from '../../src/engine/bulk/copy-table.ts';
import { createPgDatabase, type PgTestConfig, type TestDatabase } from '../support/databases.ts';

const col = (name: string, type: LogicalType): ColumnSpec => ({ source: name, name, type, nullable: true });

// One table moved between real PostgreSQL databases, on the COPY fast path.

describe('copyTable', () => {
  let source: TestDatabase<PgTestConfig>;
  let destination: TestDatabase<PgTestConfig>;
  let reader: TableReader;
  let writer: TableWriter;

  before(async () => {
    [source, destination] = await Promise.all([createPgDatabase(), createPgDatabase()]);
    await source.query(`create table items (id int primary key, name text);
      insert into items select g, 'item ' || g from generate_series(1, 1000) g`);
    reader = await postgresConnector.openReader!(source.config);
    writer = await postgresConnector.openWriter!(destination.config);
  });
  after(async () => {
    await reader?.close();
    await writer?.close();
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  const copy = (signal: AbortSignal, beforeCommit?: () => Promise<void>) =>
    copyTable({
      reader,
      writer,
      target: {
        syncId: 's1',
        schemaId: 'public.items',
        namespace: 'public',
        table: 'items',
        columns: [col('id', { kind: 'int32' }), col('name', { kind: 'text' })],
        primaryKey: ['id'],
      },
      read: {
        schemaId: 'public.items',
        columns: [col('id', { kind: 'int32' }), col('name', { kind: 'text' })],
        primaryKey: ['id'],
        filters: [],
      },
      mode: 'snapshot',
      reload: 'none',
      attemptId: 'a1',
      signal,
      onReject: () => {},
      onProgress: () => {},
      ...(beforeCommit ? { beforeCommit } : {}),
    });

  it('does not commit once a cancel found before the commit aborted the run', async () => {
    const run = new AbortController();
    await assert.rejects(
      copy(run.signal, async () => run.abort(new Error('canceled'))),
      /canceled/,
    );
    const [table] = await destination.query(`select to_regclass('public.items') is not null as present`);
    assert.equal(table!.present, false);
    const staged = await destination.query(`select relname from pg_class where relname like '_ferry_stage%'`);
    assert.deepEqual(staged, []);

    const loaded = await copy(new AbortController().signal, async () => {});
    assert.equal(loaded.rowsLoaded, 1000);
  });

  it('a first replicate load and a reload copy the rows whose cursor is NULL too', async () => {
    await source.query(`create table nullcur (id int primary key, upd timestamptz);
      insert into nullcur values (1, '2024-01-01'), (2, null), (3, '2024-01-02'), (4, null)`);
    const columns = [col('id', { kind: 'int32' }), col('upd', { kind: 'timestamptz' })];
    const replicate = (reload: 'none' | 'resync', attemptId: string) =>
      copyTable({
        reader,
        writer,
        target: {
          syncId: 's2',
          schemaId: 'public.nullcur',
          namespace: 'public',
          table: 'nullcur',
          columns,
          primaryKey: ['id'],
          cursorColumn: 'upd',
        },
        read: { schemaId: 'public.nullcur', columns, primaryKey: ['id'], filters: [] },
        mode: 'replicate',
        cursorField: 'upd',
        reload,
        attemptId,
        signal: new AbortController().signal,
        onReject: () => {},
        onProgress: () => {},
      });
    const ids = async () => (await destination.query('select id from nullcur order by id')).map((r) => r.id);
    assert.equal((await replicate('none', 'n1')).rowsLoaded, 4);
    assert.deepEqual(await ids(), [1, 2, 3, 4]);
    await source.query(`insert into nullcur values (5, '2024-01-03'), (6, null)`);
    assert.equal((await replicate('none', 'n2')).rowsLoaded, 1, 'from the stored position: row 5 only');
    assert.deepEqual(await ids(), [1, 2, 3, 4, 5]);
    assert.equal((await replicate('resync', 'n3')).rowsLoaded, 6, 'a resync copies them');
    assert.deepEqual(await ids(), [1, 2, 3, 4, 5, 6]);
  });
});
