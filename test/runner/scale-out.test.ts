import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { type Cluster, type FerryChild, startCluster } from '../support/cluster.ts';
import { createPgDatabase, type PgTestConfig, type TestDatabase } from '../support/databases.ts';
import { http } from '../support/ferry.ts';
import { startAll } from '../support/start-all.ts';
import { until } from '../support/until.ts';

// Scale-out on the machine's PostgreSQL: two API replicas (`serve --no-worker`) and three `worker`
// processes spawned from bin/ferry.js share one store and its queue.

const syncCount = Number(process.env.FERRY_TEST_SYNCS ?? 200);
const rounds = 3;
// Enough rows that a copy is still going 1-2 s after it starts (1M finished before a cancel once in CI).
const bigRows = 2_000_000;
const activeStatuses = `('created', 'queued', 'running', 'canceling')`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('runner scale-out: two API replicas and three workers on PostgreSQL', () => {
  let cluster: Cluster;
  let source: TestDatabase<PgTestConfig>;
  let destination: TestDatabase<PgTestConfig>;
  let sourceId: string;
  let destinationId: string;

  const api = async (replica: FerryChild, method: string, route: string, body?: unknown) => {
    const res = await http(replica.url, method, route, { key: cluster.adminKey, body });
    if (res.status >= 300) {
      const failure = replica.logs().findLast((line) => line.msg === 'request failed');
      assert.fail(`${method} ${route}: ${res.status} ${JSON.stringify(res.body)} ${JSON.stringify(failure)}`);
    }
    return res.body.data;
  };
  const createSync = async (
    schema: string,
    tables: string[],
    schedule: unknown = { frequency: 'manual' },
  ) => {
    const sync = await api(cluster.replicas[0]!, 'POST', '/api/bulk/syncs', {
      name: schema,
      mode: 'snapshot',
      source_connection_id: sourceId,
      destination_connection_id: destinationId,
      destination_configuration: { schema },
      schedule,
      schemas: tables,
    });
    return sync.id as string;
  };
  const execution = async (id: string) =>
    (await cluster.store.query('select * from executions where id = $1', [id]))[0];
  const holderOf = (executionId: string, attempt?: number) =>
    Promise.any(
      cluster.workers
        .filter((w) => w.child.exitCode === null && w.child.signalCode === null)
        .map((w) =>
          w
            .waitForLog(
              (l) =>
                l.msg === 'run started' &&
                l.executionId === executionId &&
                (attempt === undefined || l.attempt === attempt),
              120_000,
            )
            .then(() => w),
        ),
    );
  const bigTableFingerprint = (db: TestDatabase<PgTestConfig>, table: string) =>
    db.query(
      `select count(*)::int as n, count(distinct id)::int as ids, sum(id)::text as total,
              sum(hashtext(payload)::bigint)::text as payloads from ${table}`,
    );

  before(async () => {
    [source, destination] = await startAll([createPgDatabase(), createPgDatabase()]);
    await source.query(
      `create table small (id int primary key, name text not null);
       insert into small select g, 'row ' || g from generate_series(1, 20) g;
       create table big (id bigint primary key, payload text not null);
       insert into big select g, repeat(md5(g::text), 2) from generate_series(1, ${bigRows}) g`,
    );
    cluster = await startCluster({ replicas: 2, workers: 3, env: { FERRY_HEARTBEAT_TIMEOUT: '10' } });
    const replica = cluster.replicas[0]!;
    sourceId = (
      await api(replica, 'POST', '/api/connections', {
        name: 'source',
        type: 'postgresql',
        configuration: source.config,
      })
    ).id;
    destinationId = (
      await api(replica, 'POST', '/api/connections', {
        name: 'destination',
        type: 'postgresql',
        configuration: destination.config,
      })
    ).id;
  });

  // Scheduled from the start, checked by the last test: every minute, and one that follows it.
  let everyMinute: string;
  let follower: string;
  before(async () => {
    everyMinute = await createSync('every_minute', ['public.small'], {
      frequency: 'custom',
      minute: '*',
      timezone: 'Asia/Kolkata',
    });
    follower = await createSync('follower', ['public.small'], {
      frequency: 'runafter',
      run_after: { bulk_sync_ids: [everyMinute] },
    });
  });

  after(async () => {
    await cluster?.stopAll();
    await Promise.all([source?.drop(), destination?.drop()]);
  });

  it(`keeps at most one active run per sync while ${syncCount} syncs are started from both replicas, ${rounds} times`, async () => {
    const syncIds: string[] = [];
    for (let i = 0; i < syncCount; i += 10) {
      const batch = Array.from({ length: Math.min(10, syncCount - i) }, (_, j) =>
        createSync(`many_${i + j}`, ['public.small']),
      );
      syncIds.push(...(await Promise.all(batch)));
    }

    // Watch the executions table the whole time: no instant may show two active runs of one sync.
    const watcher = new pg.Client({ connectionString: cluster.store.url });
    await watcher.connect();
    const violations: unknown[] = [];
    let watching = true;
    const watched = (async () => {
      while (watching) {
        const { rows } = await watcher.query(
          `select sync_id, count(*)::int as active from executions
           where status in ${activeStatuses} group by sync_id having count(*) > 1`,
        );
        violations.push(...rows);
        await sleep(20);
      }
    })();

    const [a, b] = cluster.replicas as [FerryChild, FerryChild];
    const answers: { syncId: string; ids: string[] }[] = [];
    try {
      for (let round = 0; round < rounds; round++) {
        await Promise.all(
          syncIds.map(async (syncId) => {
            const route = `/api/bulk/syncs/${syncId}/executions`;
            const both = await Promise.all([api(a, 'POST', route), api(b, 'POST', route)]);
            answers.push({ syncId, ids: both.map((run) => run.id) });
          }),
        );
      }
      await until(
        async () =>
          (
            await cluster.store.query(
              `select count(*)::int as n from executions where status in ${activeStatuses}`,
            )
          )[0].n,
        (n) => n === 0,
        'every run to end',
      );
    } finally {
      watching = false;
      await watched;
      await watcher.end();
    }

    assert.deepEqual(violations, [], 'a sync never had two active runs');
    const runs = await cluster.store.query<{
      id: string;
      status: string;
      created_at: Date;
      completed_at: Date;
    }>('select id, status, created_at, completed_at from executions where sync_id = any($1)', [syncIds]);
    assert.ok(
      runs.every((run) => run.status === 'completed'),
      JSON.stringify(runs.filter((run) => run.status !== 'completed')),
    );
    // Two starts answered with different runs only when the first had ended before the second began.
    // created_at is the start of the inserting transaction, which may begin just before the other
    // run's end commits; the watcher above is the exact check, this one catches gross overlaps.
    const byId = new Map(runs.map((run) => [run.id, run]));
    for (const { ids } of answers) {
      if (ids[0] === ids[1]) continue;
      const [first, second] = ids.map((id) => byId.get(id)!).sort((x, y) => +x.created_at - +y.created_at);
      assert.ok(+first!.completed_at <= +second!.created_at + 1_000, `runs ${ids.join(' and ')} overlapped`);
    }
    assert.ok(runs.length <= syncCount * rounds * 2);
  });

  it('finishes the run of a SIGKILLed worker on another worker; the destination equals the source', async () => {
    const syncId = await createSync('killed', ['public.big']);
    const run = await api(cluster.replicas[0]!, 'POST', `/api/bulk/syncs/${syncId}/executions`);
    const holder = await holderOf(run.id);
    await sleep(1_000);
    assert.equal((await execution(run.id)).status, 'running', 'the run is mid-copy when its worker dies');
    holder.child.kill('SIGKILL');
    await holder.exited;

    const ended = await until(
      () => execution(run.id),
      (e) => !['queued', 'running', 'canceling'].includes(e.status),
      'the retried run',
    );
    assert.equal(ended.status, 'completed', JSON.stringify(ended));
    assert.ok(ended.attempt >= 2, 'the retry counts as a second attempt');
    const rescuer = await holderOf(run.id, ended.attempt);
    assert.notEqual(rescuer.pid, holder.pid);
    assert.deepEqual(
      await bigTableFingerprint(destination, 'killed.big'),
      await bigTableFingerprint(source, 'public.big'),
    );
    await cluster.spawnWorker(); // back to three workers
  });

  it('stops a run held by another worker within 5 s of a cancel sent to replica A', async () => {
    const syncId = await createSync('canceled', ['public.big']);
    const run = await api(cluster.replicas[1]!, 'POST', `/api/bulk/syncs/${syncId}/executions`);
    await holderOf(run.id);
    await sleep(1_000);
    assert.equal((await execution(run.id)).status, 'running');
    await api(cluster.replicas[0]!, 'POST', `/api/bulk/syncs/${syncId}/executions/${run.id}/cancel`);
    const ended = await until(
      () => execution(run.id),
      (e) => !['running', 'canceling'].includes(e.status),
      'the canceled run',
      5_000,
    );
    assert.equal(ended.status, 'canceled');
    // The query reading the source is cancelled in the database too, not left running.
    await until(
      async () =>
        (
          await source.query(
            `select count(*)::int as n from pg_stat_activity where datname = current_database()
             and state = 'active' and query ilike 'copy (%' and query ilike '%"big"%'`,
          )
        )[0].n,
      (n) => n === 0,
      'the source query to stop',
      5_000,
    );
    const [table] = await destination.query(`select to_regclass('canceled.big') is not null as present`);
    assert.equal(table.present, false);
  });

  it('a SIGTERMed worker hands its unfinished run back; another worker completes it exactly once', async () => {
    // The run must land on a worker without grace period: it is the only worker alive at the start.
    const short = await cluster.spawnWorker(['--grace', '0']);
    const others = cluster.workers.filter(
      (w) => w !== short && w.child.exitCode === null && w.child.signalCode === null,
    );
    assert.deepEqual(
      await Promise.all(others.map((w) => w.stop())),
      others.map(() => 0),
    );
    cluster.workers.splice(0, cluster.workers.length, short);
    const syncId = await createSync('drained', ['public.big']);
    const run = await api(cluster.replicas[0]!, 'POST', `/api/bulk/syncs/${syncId}/executions`);
    await holderOf(run.id);
    // Stop it as soon as the table starts loading: with no grace the copy stops midway.
    await until(
      () =>
        cluster.store.query(
          `select 1 from console_logs where execution_id = $1 and message like 'table public.big%started'`,
          [run.id],
        ),
      (rows) => rows.length > 0,
      'the table to start',
    );
    assert.equal(await short.stop(60_000), 0, 'the worker exits with 0 after its graceful stop');
    await Promise.all([cluster.spawnWorker(), cluster.spawnWorker()]);
    const ended = await until(
      () => execution(run.id),
      (e) => !['queued', 'running', 'canceling'].includes(e.status),
      'the handed-back run',
    );
    assert.equal(ended.status, 'completed', JSON.stringify(ended));
    assert.equal(ended.attempt, 1, 'a graceful hand-back is not a lost attempt');
    const lines = (
      await cluster.store.query<{ message: string }>(
        'select message from console_logs where execution_id = $1 order by id',
        [run.id],
      )
    ).map((line) => line.message);
    assert.equal(
      lines.filter((line) => line.startsWith('worker shut down: execution handed back')).length,
      1,
      `${lines.join('\n')}\n${short
        .logs()
        .map((l) => JSON.stringify(l))
        .join('\n')}`,
    );
    assert.deepEqual(
      await bigTableFingerprint(destination, 'drained.big'),
      await bigTableFingerprint(source, 'public.big'),
    );
    await cluster.spawnWorker();
  });

  it('fires a scheduled sync exactly once per tick with five processes running the scheduler', async () => {
    const fires = await until(
      () =>
        cluster.store.query<{ due_at: Date; n: number; started: boolean }>(
          `select due_at, count(*)::int as n, bool_and(started) as started from schedule_fires
           where sync_id = $1 group by 1 order by 1`,
          [everyMinute],
        ),
      // Each claimed tick records whether it started a run once the start returns.
      (rows) => rows.length >= 2 && rows.every((row) => row.started !== null),
      'two ticks',
      200_000,
    );
    assert.ok(
      fires.every((fire) => fire.n === 1 && fire.due_at.getUTCSeconds() === 0),
      JSON.stringify(fires),
    );
    const [scheduled] = await cluster.store.query<{ n: number }>(
      `select count(*)::int as n from executions where sync_id = $1 and type = 'scheduled'`,
      [everyMinute],
    );
    assert.equal(scheduled!.n, fires.filter((fire) => fire.started).length, 'one run per tick that fired');
    const [created] = await cluster.store.query('select updated_at from bulk_syncs where id = $1', [
      everyMinute,
    ]);
    const firstDue = (Math.floor(created.updated_at.getTime() / 60_000) + 1) * 60_000;
    assert.equal(fires[0]!.due_at.getTime(), firstDue, 'the first tick after the sync was created fired');

    // The `runafter` sync followed each completed run of the scheduled one, once each.
    const upstream = await cluster.store.query<{ id: string }>(
      `select id from executions where sync_id = $1 and status = 'completed'`,
      [everyMinute],
    );
    const followed = await until(
      () =>
        cluster.store.query<{ schedule_key: string }>(
          'select schedule_key from schedule_fires where sync_id = $1',
          [follower],
        ),
      (rows) => rows.length >= upstream.length,
      'the runafter sync',
    );
    const keys = followed.map((row) => row.schedule_key);
    assert.equal(new Set(keys).size, keys.length);
    for (const run of upstream) assert.ok(keys.includes(`sync:after:${run.id}`), `followed ${run.id}`);
    const followerRuns = await cluster.store.query<{ type: string }>(
      'select type from executions where sync_id = $1',
      [follower],
    );
    assert.ok(followerRuns.length >= 1 && followerRuns.every((run) => run.type === 'scheduled'));
  });

  it('reports the same store metrics from either replica', async () => {
    const storeLines = async (replica: FerryChild) =>
      (await (await fetch(`${replica.url}/metrics`)).text())
        .split('\n')
        .filter((line) =>
          /^ferry_(runs|rows_moved_total|run_duration_seconds_count|webhook_deliveries)\b/.test(line),
        );
    // A scheduled run may end between the two scrapes: compare until both see the same store.
    const [a, b] = await until(
      () => Promise.all(cluster.replicas.map(storeLines)),
      ([first, second]) => JSON.stringify(first) === JSON.stringify(second),
      'equal metrics',
      30_000,
    );
    assert.deepEqual(a, b);
    assert.ok(
      a!.some((line) => /^ferry_runs\{kind="bulk",status="completed"\} \d+$/.test(line)),
      a!.join('\n'),
    );
    assert.ok(a!.some((line) => /^ferry_rows_moved_total\{kind="bulk"\} [1-9]\d*$/.test(line)));
  });
});
