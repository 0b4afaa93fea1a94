import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createPgDatabase } from '../support/databases.ts';
import { type FerryProcess, http, startFerry } from '../support/ferry.ts';
import { startAll } from '../support/start-all.ts';
import { until } from '../support/until.ts';

// Faults of bulk runs against a real server: cancel mid-copy, a destination that rejects rows, and a
// worker killed with SIGKILL mid-copy. After each, the destination holds a complete state.

async function sql(url: string, text: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

const bigTable = `create table big (id bigint primary key, payload text not null, at timestamptz not null);
  insert into big select g, repeat(md5(g::text), 4), timestamp '2024-01-01' + g * interval '1 second'
  from generate_series(1, 1000000) g`;

describe('bulk sync faults', () => {
  let source: Awaited<ReturnType<typeof createPgDatabase>>;
  let destination: Awaited<ReturnType<typeof createPgDatabase>>;

  before(async () => {
    [source, destination] = await startAll([createPgDatabase(), createPgDatabase()]);
    await sql(
      source.url,
      `${bigTable}; create table small (id int primary key, qty int not null);
       insert into small select g, g from generate_series(1, 100) g`,
    );
  });
  after(async () => {
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  async function setUp(ferry: FerryProcess, schema: string, tables: string[], mode = 'snapshot') {
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await http(ferry.url, method, path, { key: ferry.adminKey, body });
      assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.data;
    };
    const src = await call('POST', '/api/connections', {
      name: 's',
      type: 'postgresql',
      configuration: source.config,
    });
    const dst = await call('POST', '/api/connections', {
      name: 'd',
      type: 'postgresql',
      configuration: destination.config,
    });
    const sync = await call('POST', '/api/bulk/syncs', {
      name: schema,
      mode,
      source_connection_id: src.id,
      destination_connection_id: dst.id,
      destination_configuration: { schema },
      schedule: { frequency: 'manual' },
      schemas: tables,
    });
    return { call, syncId: sync.id as string };
  }

  it('cancels a run mid-copy and leaves the destination untouched', async () => {
    const ferry = await startFerry();
    try {
      const { call, syncId } = await setUp(ferry, 'canceled', ['public.big']);
      const run = await call('POST', `/api/bulk/syncs/${syncId}/executions`);
      await until(
        () => call('GET', `/api/bulk/syncs/${syncId}/executions/${run.id}`),
        (e) => e.status === 'running',
        'running',
      );
      await call('POST', `/api/bulk/syncs/${syncId}/executions/${run.id}/cancel`);
      const ended = await until(
        () => call('GET', `/api/bulk/syncs/${syncId}/executions/${run.id}`),
        (e) => !['running', 'canceling', 'scheduled'].includes(e.status),
        'canceled',
      );
      assert.equal(ended.status, 'canceled');
      const [exists] = await sql(
        destination.url,
        `select to_regclass('canceled.big') is not null as present`,
      );
      assert.equal(exists.present, false, 'the canceled attempt wrote nothing visible');
      const staged = await sql(
        destination.url,
        `select count(*)::int as n from pg_tables where schemaname = 'canceled' and tablename like '%stage%'`,
      );
      assert.equal(staged[0].n, 0, 'no staging table is left behind');
    } finally {
      await ferry.stop();
    }
  });

  it('deleting a sync cancels its run in flight, which then loads nothing', async () => {
    // Info level: the run's end is only visible in the process log once its sync is gone.
    const ferry = await startFerry({ env: { FERRY_LOG_LEVEL: 'info' } });
    try {
      const { call, syncId } = await setUp(ferry, 'deleted', ['public.big']);
      const run = await call('POST', `/api/bulk/syncs/${syncId}/executions`);
      await until(
        () => call('GET', `/api/bulk/syncs/${syncId}/executions/${run.id}`),
        (e) => e.status === 'running',
        'running',
      );
      const deleted = await http(ferry.url, 'DELETE', `/api/bulk/syncs/${syncId}`, { key: ferry.adminKey });
      assert.equal(deleted.status, 204);
      const ended = await until(
        async () =>
          ferry
            .stderr()
            .split('\n')
            .filter((line) => line.includes(run.id) && line.includes('"execution ended"')),
        (lines) => lines.length > 0,
        'the run to end',
      );
      assert.match(ended[0]!, /"status":"canceled"/);
      const [exists] = await sql(destination.url, `select to_regclass('deleted.big') is not null as present`);
      assert.equal(exists.present, false, 'the run of the deleted sync wrote nothing');
    } finally {
      await ferry.stop();
    }
  });

  it('cancels one table of a run: the others complete, the canceled table is untouched', async () => {
    const ferry = await startFerry();
    try {
      const { call, syncId } = await setUp(ferry, 'one_canceled', ['public.big', 'public.small']);
      const run = await call('POST', `/api/bulk/syncs/${syncId}/executions`);
      const read = () => call('GET', `/api/bulk/syncs/${syncId}/executions/${run.id}`);
      await until(
        read,
        // The running table's count moves while its COPY streams (live progress), before it finishes.
        (e) =>
          e.schemas.some(
            (s: any) => s.schema === 'public.big' && s.status === 'running' && s.record_count > 0,
          ),
        'the big table running with rows counted',
      );
      await call('POST', `/api/bulk/syncs/${syncId}/schemas/public.big/cancel`);
      const ended = await until(
        read,
        (e) => !['running', 'canceling', 'scheduled'].includes(e.status),
        'the run',
      );
      const byTable = Object.fromEntries(ended.schemas.map((s: any) => [s.schema, s.status]));
      assert.deepEqual(
        byTable,
        { 'public.big': 'canceled', 'public.small': 'completed' },
        JSON.stringify(ended),
      );
      assert.match(ended.status_message, /canceled table\(s\): public\.big/);
      const [tables] = await sql(
        destination.url,
        `select to_regclass('one_canceled.big') is null as big_absent,
                (select count(*)::int from one_canceled.small) as small_rows`,
      );
      assert.deepEqual(tables, { big_absent: true, small_rows: 100 });
    } finally {
      await ferry.stop();
    }
  });

  it('retries a table whose source connection drops mid-copy and loads it exactly once', async () => {
    const ferry = await startFerry();
    try {
      const { call, syncId } = await setUp(ferry, 'dropped', ['public.big']);
      const run = await call('POST', `/api/bulk/syncs/${syncId}/executions`);
      const read = () => call('GET', `/api/bulk/syncs/${syncId}/executions/${run.id}`);
      await until(read, (e) => e.schemas[0]?.status === 'running', 'the table running');
      // Every session on the source database ends: the COPY being read loses its connection.
      await until(
        async () =>
          (
            await sql(
              source.url,
              `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
                where datname = current_database() and pid <> pg_backend_pid() and query ilike 'copy%'`,
            )
          )[0].n,
        (n) => n > 0,
        'the source COPY to be terminated',
      );
      const ended = await until(
        read,
        (e) => !['running', 'canceling', 'scheduled'].includes(e.status),
        'the run',
      );
      assert.equal(ended.status, 'completed', JSON.stringify(ended));
      const [loaded] = await sql(
        destination.url,
        'select count(*)::int as n, count(distinct id)::int as d from dropped.big',
      );
      assert.deepEqual(loaded, { n: 1_000_000, d: 1_000_000 });
      const messages: string[] = [];
      for (let after = '0'; ; ) {
        const page = await call(
          'GET',
          `/api/bulk/syncs/${syncId}/executions/${run.id}/consolelog?limit=50&after=${after}`,
        );
        if (page.entries.length === 0) break;
        messages.push(...page.entries.map((e: any) => e.message));
        after = page.next_cursor;
      }
      assert.ok(
        messages.some((m) => /attempt 1 failed .*retrying/.test(m)),
        `the console log shows the failed attempt and the retry: ${messages.join(' | ')}`,
      );
    } finally {
      await ferry.stop();
    }
  });

  it('isolates rows the destination rejects into the errors log and loads the rest', async () => {
    const ferry = await startFerry();
    try {
      const { call, syncId } = await setUp(ferry, 'checked', ['public.small']);
      const first = await call('POST', `/api/bulk/syncs/${syncId}/executions`);
      const done = (id: string) =>
        until(
          () => call('GET', `/api/bulk/syncs/${syncId}/executions/${id}`),
          (e) => !['running', 'canceling', 'scheduled'].includes(e.status),
          'the run',
        );
      assert.equal((await done(first.id)).status, 'completed');
      await sql(
        destination.url,
        'alter table checked.small add constraint small_qty check (qty < 90) not valid',
      );
      const second = await call('POST', `/api/bulk/syncs/${syncId}/executions`);
      const ended = await done(second.id);
      assert.equal(ended.status, 'errors', JSON.stringify(ended));
      assert.equal(ended.error_count, 11);
      assert.equal(ended.schemas[0].record_count, 89);
      const [loaded] = await sql(
        destination.url,
        'select count(*)::int as n, max(qty) as top from checked.small',
      );
      assert.deepEqual(loaded, { n: 89, top: 89 });
      const logs = await call('GET', `/api/bulk/syncs/${syncId}/executions/${second.id}/logs`);
      const errors = logs.files.find((f: any) => f.type === 'errors');
      assert.equal(errors.records, 11);
      const lines = (await (await fetch(`${ferry.url}${errors.url}`)).text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.ok(
        lines.every((line) => line.record.qty >= 90 && /small_qty/.test(line.error)),
        JSON.stringify(lines[0]),
      );
    } finally {
      await ferry.stop();
    }
  });

  it('resumes a run whose worker was killed and converges to the source', async () => {
    const first = await startFerry();
    const { call, syncId } = await setUp(first, 'killed', ['public.big']);
    const run = await call('POST', `/api/bulk/syncs/${syncId}/executions`);
    await until(
      () => call('GET', `/api/bulk/syncs/${syncId}/executions/${run.id}`),
      (e) => e.status === 'running',
      'running',
    );
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const [partial] = await sql(destination.url, `select to_regclass('killed.big') is not null as present`);
    assert.equal(partial.present, false, 'a killed snapshot leaves no half-written table');

    const second = await startFerry({ dataDir: first.dataDir, env: { FERRY_API_KEY: first.adminKey } });
    try {
      const ended = await until(
        () =>
          http(second.url, 'GET', `/api/bulk/syncs/${syncId}/executions/${run.id}`, { key: second.adminKey }),
        (r) => ['completed', 'failed', 'interrupted'].includes(r.body.data.status),
        'the resumed run',
      );
      assert.equal(ended.body.data.status, 'completed', JSON.stringify(ended.body.data));
      assert.ok(ended.body.data.attempts >= 2, 'the run records its second attempt');
      const [counts] = await sql(
        destination.url,
        `select count(*)::int as n, count(distinct id)::int as ids, sum(id)::text as total from killed.big`,
      );
      assert.deepEqual(counts, { n: 1000000, ids: 1000000, total: '500000500000' });
    } finally {
      await second.stop();
      await first.stop();
    }
  });
});
