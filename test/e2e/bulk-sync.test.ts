import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PolytomicClient, PolytomicError } from 'polytomic';
import { createMysqlDatabase, createPgDatabase } from '../support/databases.ts';
import { type FerryProcess, http, startFerry } from '../support/ferry.ts';
import { startAll } from '../support/start-all.ts';
import { until } from '../support/until.ts';

// Bulk syncs end to end: a real `ferry serve`, the polytomic SDK and plain HTTP for the seed routes,
// moving real data between the machine's PostgreSQL and MariaDB.

async function failure(call: () => Promise<unknown>): Promise<{ status: number; body: any }> {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof PolytomicError, String(error));
    return { status: error.statusCode!, body: error.body };
  }
  assert.fail('the call succeeded');
}

const fidelityTable = `create table "Mixed" (
  id bigint primary key,
  "Select" text,
  ts timestamptz,
  amount numeric(38,10),
  doc jsonb,
  raw bytea,
  updated_at timestamptz not null
)`;

const fidelityRows = `insert into "Mixed" values
  (1, 'plain', '2024-01-02 03:04:05.123456+00', 1234567890123456789012345678.0123456789, '{"a":[1,2,{"b":null}]}', '\\x00ff10', '2024-05-01 00:00:00+00'),
  (2, '', null, -0.0000000001, '[]', '\\x', '2024-05-01 00:00:00+00'),
  (3, null, '1999-12-31 23:59:59.999999+00', 0, null, null, '2024-05-01 00:00:00+00'),
  (4, 'emoji 🚢 ünïcødé', '2024-02-29 12:00:00.000001+00', 42, '"s"', '\\xdeadbeef', '2024-05-02 00:00:00+00')`;

async function query(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Destination rows as text, ordered, to compare with the source exactly. */
const snapshotOf = (url: string, table: string) =>
  query(
    url,
    `select id::text, "Select", ts::text, amount::text, doc::text, encode(raw, 'hex') as raw, updated_at::text
       from ${table} order by id`,
  );

describe('bulk syncs end to end', () => {
  let ferry: FerryProcess;
  let sdk: PolytomicClient;
  let source: Awaited<ReturnType<typeof createPgDatabase>>;
  let destination: Awaited<ReturnType<typeof createPgDatabase>>;
  let mysql: Awaited<ReturnType<typeof createMysqlDatabase>>;
  let sourceId: string;
  let destinationId: string;

  const waitFor = (syncId: string, executionId: string) =>
    until(
      async () => (await sdk.bulkSync.executions.get(syncId, executionId)).data!,
      (execution) => ['completed', 'failed', 'canceled', 'errors', 'interrupted'].includes(execution.status!),
      `execution ${executionId}`,
    );

  before(async () => {
    [ferry, source, destination, mysql] = await startAll([
      startFerry(),
      createPgDatabase(),
      createPgDatabase(),
      createMysqlDatabase(),
    ]);
    sdk = new PolytomicClient({ environment: ferry.url, token: ferry.adminKey, version: '2024-02-08' });
    await query(
      source.url,
      `${fidelityTable}; ${fidelityRows};
      create table events (id int primary key, kind text not null, at timestamptz not null);
      insert into events select g, 'k' || (g % 7), timestamp '2024-01-01' + (g / 100) * interval '1 hour' from generate_series(1, 5000) g;
      create table modes (id int primary key, v text, updated_at timestamptz not null);
      insert into modes select g, 'v' || g, '2024-01-01' from generate_series(1, 5) g;
      create table evolving (id int primary key, gone text, updated_at timestamptz not null);
      insert into evolving values (1, 'a', '2024-01-01'), (2, 'b', '2024-01-02');
      create table nokey (v text);`,
    );
    sourceId = (
      await sdk.connections.create({ name: 'src', type: 'postgresql', configuration: source.config })
    ).data!.id!;
    destinationId = (
      await sdk.connections.create({ name: 'dst', type: 'postgresql', configuration: destination.config })
    ).data!.id!;
  });

  after(async () => {
    await ferry?.stop();
    await Promise.all([source?.drop(), destination?.drop(), mysql?.drop()]);
  });

  it('snapshots PostgreSQL tables into PostgreSQL row for row, with exact values', async () => {
    const sync = (
      await sdk.bulkSync.create({
        name: 'pg snapshot',
        source_connection_id: sourceId,
        destination_connection_id: destinationId,
        mode: 'snapshot',
        normalize_names: 'disabled',
        destination_configuration: { schema: 'mirror' },
        schedule: { frequency: 'manual' },
        schemas: ['public.Mixed', 'public.events'] as never,
      })
    ).data!;
    const started = (await sdk.bulkSync.start(sync.id!)).data!;
    const done = await waitFor(sync.id!, started.id!);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(done.record_count, 5004);
    assert.deepEqual(
      done.schemas!.map((s) => [s.schema, s.status, s.record_count]),
      [
        ['public.Mixed', 'completed', 4],
        ['public.events', 'completed', 5000],
      ],
    );
    assert.deepEqual(
      await snapshotOf(destination.url, 'mirror."Mixed"'),
      await snapshotOf(source.url, 'public."Mixed"'),
    );
    const [{ count }] = await query(destination.url, 'select count(*)::int as count from mirror.events');
    assert.equal(count, 5000);

    const log = await http(
      ferry.url,
      'GET',
      `/api/bulk/syncs/${sync.id}/executions/${started.id}/consolelog`,
      {
        key: ferry.adminKey,
      },
    );
    assert.equal(log.status, 200);
    assert.ok(log.body.data.entries.length > 0);
    assert.match(log.body.data.entries[0].message, /execution completed/);
    const schemaLog = await http(
      ferry.url,
      'GET',
      `/api/bulk/syncs/${sync.id}/executions/${started.id}/schemas/public.events/consolelog?limit=500`,
      { key: ferry.adminKey },
    );
    assert.equal(schemaLog.status, 200);
    assert.ok(schemaLog.body.data.entries.length <= 50, 'limits above 50 are capped');
    assert.ok(schemaLog.body.data.entries.every((e: any) => e.schema === 'public.events'));
    const oldest = schemaLog.body.data.entries.at(-1).cursor;
    const newer = await http(
      ferry.url,
      'GET',
      `/api/bulk/syncs/${sync.id}/executions/${started.id}/schemas/public.events/consolelog?after=${oldest}`,
      { key: ferry.adminKey },
    );
    assert.equal(newer.body.data.entries.length, schemaLog.body.data.entries.length - 1);
  });

  it('replicates incrementally by (cursor, primary key) and converges after changes', async () => {
    const sync = (
      await sdk.bulkSync.create({
        name: 'pg replicate',
        source_connection_id: sourceId,
        destination_connection_id: destinationId,
        mode: 'replicate',
        normalize_names: 'disabled',
        destination_configuration: { schema: 'replica' },
        schedule: { frequency: 'manual' },
        schemas: [{ id: 'public.Mixed', tracking_field: 'updated_at' }] as never,
      })
    ).data!;
    const first = await waitFor(sync.id!, (await sdk.bulkSync.start(sync.id!)).data!.id!);
    assert.equal(first.status, 'completed', JSON.stringify(first));
    await query(
      source.url,
      `update "Mixed" set "Select" = 'changed', updated_at = '2024-05-03 00:00:00.000001+00' where id = 2;
       insert into "Mixed" values (5, 'new', null, 1, null, null, '2024-05-03 00:00:00.000001+00')`,
    );
    const second = await waitFor(sync.id!, (await sdk.bulkSync.start(sync.id!)).data!.id!);
    assert.equal(second.status, 'completed', JSON.stringify(second));
    assert.equal(second.record_count, 2, 'only rows after the cursor position are read: ids 2 and 5');
    assert.deepEqual(
      await snapshotOf(destination.url, 'replica."Mixed"'),
      await snapshotOf(source.url, 'public."Mixed"'),
    );
  });

  it('follows columns added and dropped at the source between runs, without a schema refresh', async () => {
    const sync = (
      await sdk.bulkSync.create({
        name: 'pg evolving',
        source_connection_id: sourceId,
        destination_connection_id: destinationId,
        mode: 'replicate',
        normalize_names: 'disabled',
        destination_configuration: { schema: 'evolving' },
        schedule: { frequency: 'manual' },
        schemas: [{ id: 'public.evolving', tracking_field: 'updated_at' }] as never,
      })
    ).data!;
    const first = await waitFor(sync.id!, (await sdk.bulkSync.start(sync.id!)).data!.id!);
    assert.equal(first.status, 'completed', JSON.stringify(first));
    await query(
      source.url,
      `alter table evolving add column added numeric(38,10), drop column gone;
       insert into evolving (id, added, updated_at) values (3, 1.0000000001, '2024-01-03')`,
    );
    const second = await waitFor(sync.id!, (await sdk.bulkSync.start(sync.id!)).data!.id!);
    assert.equal(second.status, 'completed', JSON.stringify(second));
    assert.deepEqual(
      await query(destination.url, 'select id, gone, added::text from evolving.evolving order by id'),
      [
        { id: 1, gone: 'a', added: null },
        { id: 2, gone: 'b', added: null },
        { id: 3, gone: null, added: '1.0000000001' },
      ],
      'the new column is loaded; the dropped one is kept, NULL in new rows',
    );
  });

  it('applies table filters in the source query and indexes the partition key', async () => {
    const sync = (
      await sdk.bulkSync.create({
        name: 'pg filtered',
        source_connection_id: sourceId,
        destination_connection_id: destinationId,
        mode: 'snapshot',
        destination_configuration: { schema: 'filtered' },
        schedule: { frequency: 'manual' },
        schemas: [
          {
            id: 'public.events',
            partition_key: 'kind',
            filters: [
              { field_id: 'kind', function: 'StringOneOf', value: ['k1', 'k2'] },
              { field_id: 'id', function: 'LessThanEqual', value: 1000 },
            ],
          },
        ] as never,
      })
    ).data!;
    const done = await waitFor(sync.id!, (await sdk.bulkSync.start(sync.id!)).data!.id!);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    const expected = await query(
      source.url,
      `select id from events where kind in ('k1', 'k2') and id <= 1000 order by id`,
    );
    assert.ok(expected.length > 0 && expected.length < 1000);
    assert.equal(done.record_count, expected.length);
    assert.deepEqual(await query(destination.url, 'select id from filtered.events order by id'), expected);
    const indexes = await query(
      destination.url,
      `select indexdef from pg_indexes where schemaname = 'filtered' and tablename = 'events'`,
    );
    assert.ok(
      indexes.some((i) => /\(kind\)/.test(i.indexdef)),
      `the partition key is indexed: ${JSON.stringify(indexes)}`,
    );
  });

  it('resync modes: refetch merges every row, resync replaces rows, rebuild also recreates the table', async () => {
    const sync = (
      await sdk.bulkSync.create({
        name: 'pg resync modes',
        source_connection_id: sourceId,
        destination_connection_id: destinationId,
        mode: 'replicate',
        destination_configuration: { schema: 'modes' },
        schedule: { frequency: 'manual' },
        schemas: [{ id: 'public.modes', tracking_field: 'updated_at' }] as never,
      })
    ).data!;
    const run = async (request: Record<string, unknown>) => {
      const started = (await sdk.bulkSync.start(sync.id!, request)).data!;
      const done = await waitFor(sync.id!, started.id!);
      assert.equal(done.status, 'completed', JSON.stringify(done));
      return query(destination.url, 'select id, v from modes.modes order by id');
    };
    await run({});
    // Changes the cursor cannot see: a value changed without moving updated_at, and a row deleted.
    // A user column added to the destination table, too.
    await query(source.url, `update modes set v = 'changed' where id = 2; delete from modes where id = 3`);
    await query(destination.url, 'alter table modes.modes add column note text');
    assert.equal((await run({})).find((r) => r.id === 2)!.v, 'v2', 'a normal run continues from the cursor');
    const refetched = await run({ resync_mode: 'refetch' });
    assert.deepEqual(
      refetched.map((r) => [r.id, r.v]),
      [
        [1, 'v1'],
        [2, 'changed'],
        [3, 'v3'],
        [4, 'v4'],
        [5, 'v5'],
      ],
      'refetch re-reads every row and merges it: deleted rows stay',
    );
    const columns = () =>
      query(
        destination.url,
        `select column_name from information_schema.columns where table_schema = 'modes' and table_name = 'modes'
          order by ordinal_position`,
      ).then((rows) => rows.map((r) => r.column_name));
    const resynced = await run({ resync_mode: 'resync' });
    assert.deepEqual(
      resynced.map((r) => r.id),
      [1, 2, 4, 5],
      'resync replaces the rows with exactly the source',
    );
    assert.ok((await columns()).includes('note'), 'resync keeps the table shape');
    await run({ resync_mode: 'rebuild' });
    assert.deepEqual(
      await columns(),
      ['id', 'v', 'updated_at'],
      'rebuild recreates the table from the source',
    );
  });

  it('test runs read a sample into the records log without touching the destination', async () => {
    const sync = (
      await sdk.bulkSync.create({
        name: 'test run',
        source_connection_id: sourceId,
        destination_connection_id: destinationId,
        destination_configuration: { schema: 'tested' },
        schedule: { frequency: 'manual' },
        schemas: ['public.events'] as never,
      })
    ).data!;
    const run = await waitFor(sync.id!, (await sdk.bulkSync.start(sync.id!, { test: true })).data!.id!);
    assert.equal(run.status, 'completed', JSON.stringify(run));
    assert.equal(run.is_test, true);
    const [present] = await query(
      destination.url,
      `select to_regclass('tested.events') is not null as present`,
    );
    assert.equal(present.present, false);

    const logs = await http(ferry.url, 'GET', `/api/bulk/syncs/${sync.id}/executions/${run.id}/logs`, {
      key: ferry.adminKey,
    });
    assert.equal(logs.status, 200);
    const file = logs.body.data.files.find((f: any) => f.type === 'records');
    assert.ok(file, JSON.stringify(logs.body));
    assert.equal(file.records, 100);
    const download = await fetch(`${ferry.url}${file.url}`);
    assert.equal(download.status, 200);
    const lines = (await download.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal(lines.length, 100);
    assert.ok('kind' in lines[0]);
    const tampered = await fetch(
      `${ferry.url}${file.url.replace(/signature=(.)/, (_: string, c: string) => `signature=${c === '0' ? '1' : '0'}`)}`,
    );
    assert.equal(tampered.status, 403);
    const expired = await fetch(`${ferry.url}${file.url.replace(/expires=\d+/, 'expires=1000')}`);
    assert.equal(expired.status, 403);

    const exported = await sdk.bulkSync.executions.exportLogs(sync.id!, run.id!, { notify: true });
    assert.equal(exported.job?.type, 'exportlogs', 'the envelope names its job, as Polytomic does');
    assert.equal(exported.job?.job_id, (exported.data as any).job_id);
    const job: any = await until(
      async () => (await sdk.jobs.get(exported.job!.job_id!, 'exportlogs')).data!,
      (j) => j.status === 'done' || j.status === 'failed',
      'the log export',
    );
    assert.equal(job.status, 'done', JSON.stringify(job));
    const archive = await fetch(`${ferry.url}${job.result.url}`);
    assert.equal(archive.status, 200);
    assert.equal(archive.headers.get('content-type'), 'application/gzip');
    assert.ok((await archive.arrayBuffer()).byteLength > 100);
  });

  it('returns the active run instead of starting a second one', async () => {
    const sync = (
      await sdk.bulkSync.create({
        name: 'once',
        source_connection_id: sourceId,
        destination_connection_id: destinationId,
        destination_configuration: { schema: 'once' },
        schedule: { frequency: 'manual' },
        schemas: ['public.events'] as never,
      })
    ).data!;
    const [a, b] = await Promise.all([sdk.bulkSync.start(sync.id!), sdk.bulkSync.start(sync.id!)]);
    assert.equal(a.data!.id, b.data!.id);
    await waitFor(sync.id!, a.data!.id!);
    const list = await sdk.bulkSync.executions.list(sync.id!, { limit: 1 });
    assert.equal(list.data!.length, 1);
    const status = (await sdk.bulkSync.executions.listStatus({ sync_id: [sync.id!] })).data!;
    assert.equal(status[0]!.sync_id, sync.id);
    assert.equal(status[0]!.status, 'completed');
    // A start that says JSON but sends no body has no options (it is not malformed JSON).
    const bare = await http(ferry.url, 'POST', `/api/bulk/syncs/${sync.id}/executions`, {
      key: ferry.adminKey,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(bare.status, 200, JSON.stringify(bare.body));
    assert.equal((await waitFor(sync.id!, bare.body.data.id)).status, 'completed');
  });

  it('status lists the most recent run of every enabled table, also after a partial run', async () => {
    const sync = (
      await sdk.bulkSync.create({
        name: 'partial status',
        source_connection_id: sourceId,
        destination_connection_id: destinationId,
        destination_configuration: { schema: 'partial' },
        schedule: { frequency: 'manual' },
        schemas: ['public.modes', 'public.evolving'] as never,
      })
    ).data!;
    const full = await waitFor(sync.id!, (await sdk.bulkSync.start(sync.id!)).data!.id!);
    assert.equal(full.status, 'completed', JSON.stringify(full));
    const partial = await waitFor(
      sync.id!,
      (await sdk.bulkSync.start(sync.id!, { schemas: ['public.modes', 'public.modes'] })).data!.id!,
    );
    assert.equal(partial.status, 'completed', JSON.stringify(partial));
    assert.deepEqual(
      partial.schemas!.map((t) => t.schema),
      ['public.modes'],
      'a table named twice runs once',
    );
    const statuses = (await sdk.bulkSync.executions.listStatus({ sync_id: [sync.id!, sync.id!] })).data!;
    assert.equal(statuses.length, 1, 'a sync named twice is listed once');
    const [status] = statuses;
    assert.deepEqual(
      status!.schemas!.map((t) => [t.schema, t.execution_id, t.status]),
      [
        ['public.evolving', full.id, 'completed'],
        ['public.modes', partial.id, 'completed'],
      ],
    );
  });

  it('refuses bad input with the field at fault and creates nothing', async () => {
    const before = (await sdk.bulkSync.list()).data!.length;
    const base = {
      name: 'bad',
      source_connection_id: sourceId,
      destination_connection_id: destinationId,
      destination_configuration: {},
      schedule: { frequency: 'manual' as const },
    };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, source_connection_id: '00000000-0000-0000-0000-000000000000' }, 'source_connection_id'],
      [{ ...base, schemas: ['public.nope'] }, 'schemas.0.id'],
      [{ ...base, schemas: ['public.events', 'public.modes', 'public.events'] }, 'schemas.2.id'],
      [
        { ...base, schemas: ['public.events', { id: 'public.modes', user_output_name: 'events' }] },
        'schemas.1.user_output_name',
      ],
      [{ ...base, schemas: [{ id: 'public.events', user_output_name: ' ' }] }, 'schemas.0.user_output_name'],
      [{ ...base, schemas: [{ id: 'public.events', tracking_field: 'nope' }] }, 'schemas.0.tracking_field'],
      [{ ...base, schedule: { frequency: 'sometimes' } }, 'schedule.frequency'],
      // A sync to run after that the organization does not have: this sync would never run.
      [
        {
          ...base,
          schedule: {
            frequency: 'runafter',
            run_after: { bulk_sync_ids: ['00000000-0000-4000-8000-00000000dead'] },
          },
        },
        'schedule.run_after.bulk_sync_ids.0',
      ],
      [
        {
          ...base,
          schemas: [{ id: 'public.events', filters: [{ field_id: 'kind', function: 'Sometimes' }] }],
        },
        'schemas.0.filters.0.function',
      ],
      [
        {
          ...base,
          schemas: [{ id: 'public.events', filters: [{ field_id: 'id', function: 'Between', value: [1] }] }],
        },
        'schemas.0.filters.0.value',
      ],
      [
        { ...base, schemas: [{ id: 'public.events', filters: [{ field_id: 'nope', function: 'IsNull' }] }] },
        'schemas.0.filters.0.field_id',
      ],
    ];
    for (const [body, field] of cases) {
      const res = await http(ferry.url, 'POST', '/api/bulk/syncs', { key: ferry.adminKey, body });
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.equal(res.body.metadata.field, field);
    }
    assert.equal((await sdk.bulkSync.list()).data!.length, before);
    const sync = (await sdk.bulkSync.list()).data![0]!;
    // Turning a sync to replicate while it keeps a table without a primary key is refused too.
    const keyless = (
      await sdk.bulkSync.create({ ...base, name: 'keyless', schemas: ['public.nokey'] as never })
    ).data!;
    const toReplicate = await http(ferry.url, 'PUT', `/api/bulk/syncs/${keyless.id}`, {
      key: ferry.adminKey,
      body: { ...base, name: 'keyless', mode: 'replicate' },
    });
    assert.equal(toReplicate.status, 422, JSON.stringify(toReplicate.body));
    assert.equal(toReplicate.body.metadata.field, 'mode');
    assert.equal((await sdk.bulkSync.get(keyless.id!)).data!.mode, 'snapshot');
    // Renaming one table onto another enabled one, through PUT of one table, is refused too.
    const snapshot = (await sdk.bulkSync.list()).data!.find((s) => s.name === 'pg snapshot')!;
    const clash = await http(ferry.url, 'PUT', `/api/bulk/syncs/${snapshot.id}/schemas/public.events`, {
      key: ferry.adminKey,
      body: { user_output_name: 'Mixed' },
    });
    assert.equal(clash.status, 422, JSON.stringify(clash.body));
    assert.equal(clash.body.metadata.field, 'schemas.0.user_output_name');
    const events = (await sdk.bulkSync.schemas.get(snapshot.id!, 'public.events')).data!;
    assert.equal(events.output_name, 'events');
    const overLimit = await http(ferry.url, 'GET', `/api/bulk/syncs/${sync.id}/executions?limit=101`, {
      key: ferry.adminKey,
    });
    assert.equal(overLimit.status, 422);
    const badToken = await http(ferry.url, 'GET', `/api/bulk/syncs/${sync.id}/executions?page_token=zzz`, {
      key: ferry.adminKey,
    });
    assert.equal(badToken.status, 422);
    assert.equal((await failure(() => sdk.bulkSync.get('00000000-0000-0000-0000-000000000000'))).status, 404);
  });
});
