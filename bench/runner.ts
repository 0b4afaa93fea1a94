/**
 * `npm run bench -- runner`: the durable runner in scale-out on PostgreSQL. One API replica
 * (`serve --no-worker`) and `ferry worker` processes share a fresh store:
 *   - start latency: API start → the run is running (store timestamps), p50 / p99;
 *   - drain: N small runs queued with no worker, then drained by 1 worker, and again by 4 workers.
 *     The runs are I/O-bound: the source answers each run's read after `--wait-ms` (a view that
 *     sleeps in the source database), as a warehouse query would; `--wait-ms 0` measures runs that
 *     are bound by Ferry's own work per run (connections, DDL, store updates) instead;
 *   - API reads: GET of an execution at 50 connections (autocannon), requests/s and p99 latency.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import pg from 'pg';
import { type Cluster, type FerryChild, startCluster } from '../test/support/cluster.ts';
import { createPgDatabase, type PgTestConfig, type TestDatabase } from '../test/support/databases.ts';
import { Cleanup, formatInt, formatSeconds, formatTable, machineFacts, parseArgs, sleep } from './support.ts';

const log = (message: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);

interface Options {
  runs: number;
  samples: number;
  seconds: number;
  concurrency: number;
  waitMs: number;
}

function readOptions(argv: string[]): Options {
  const { options } = parseArgs(argv);
  const int = (name: string, fallback: number, min = 1) => {
    const value = options.get(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min)
      throw new Error(`--${name} must be an integer of at least ${min} (got ${value})`);
    return n;
  };
  return {
    runs: int('runs', 1000),
    samples: int('samples', 100),
    seconds: int('seconds', 10),
    concurrency: int('concurrency', 4),
    waitMs: int('wait-ms', 1000, 0),
  };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};

interface Bench {
  cluster: Cluster;
  replica: FerryChild;
  source: TestDatabase<PgTestConfig>;
  destination: TestDatabase<PgTestConfig>;
  call<T = any>(method: string, route: string, body?: unknown): Promise<T>;
  /** A query on the store through one connection kept open: the bench polls it every 100 ms. */
  store<T>(text: string, params?: unknown[]): Promise<T[]>;
}

/** The machine's 1-minute load average: the machine may be shared, and the figures depend on it. */
const load = () => `load ${loadavg()[0]!.toFixed(1)}`;

async function createSyncs(bench: Bench, count: number, table: string, prefix: string): Promise<string[]> {
  const [src, dst] = await Promise.all(
    [bench.source, bench.destination].map((db, i) =>
      bench.call('POST', '/api/connections', {
        name: i === 0 ? 'source' : 'destination',
        type: 'postgresql',
        configuration: db.config,
      }),
    ),
  );
  const ids: string[] = [];
  for (let i = 0; i < count; i += 25) {
    const batch = Array.from({ length: Math.min(25, count - i) }, (_, j) =>
      bench.call('POST', '/api/bulk/syncs', {
        name: `${prefix}_${i + j}`,
        mode: 'snapshot',
        source_connection_id: src.data.id,
        destination_connection_id: dst.data.id,
        destination_configuration: { schema: `${prefix}_${i + j}` },
        schedule: { frequency: 'manual' },
        schemas: [table],
      }),
    );
    ids.push(...(await Promise.all(batch)).map((sync) => sync.data.id as string));
  }
  return ids;
}

const activeRuns = async (bench: Bench) =>
  (
    await bench.store<{ n: number }>(
      `select count(*)::int as n from executions where status in ('created', 'queued', 'running', 'canceling')`,
    )
  )[0]!.n;

async function waitIdle(bench: Bench, what: string): Promise<void> {
  for (let i = 0; (await activeRuns(bench)) > 0; i++) {
    if (i > 36_000) throw new Error(`${what}: runs still active after an hour`);
    await sleep(100);
  }
}

/** Start latency: runs started one at a time; `started_at - created_at` as the store recorded them. */
async function startLatency(bench: Bench, syncIds: string[]): Promise<number[]> {
  const latencies: number[] = [];
  for (const syncId of syncIds) {
    const run = await bench.call('POST', `/api/bulk/syncs/${syncId}/executions`);
    await waitIdle(bench, 'start latency');
    const [row] = await bench.store<{ ms: number }>(
      `select extract(epoch from started_at - created_at)::float8 * 1000 as ms from executions where id = $1`,
      [run.data.id],
    );
    latencies.push(row!.ms);
  }
  return latencies;
}

interface Drained {
  /** From the first run's start to the last run's end. */
  seconds: number;
  /**
   * Runs per second once every worker was up: worker processes start together and load for seconds
   * on a busy machine, while the first one up already runs.
   */
  rate: number;
}

/** Queues one run per sync with no worker alive, then times `workers` workers draining them. */
async function drain(
  bench: Bench,
  syncIds: string[],
  workers: number,
  concurrency: number,
): Promise<Drained> {
  const [mark] = await bench.store<{ at: Date }>('select now() as at');
  for (let i = 0; i < syncIds.length; i += 50) {
    await Promise.all(
      syncIds.slice(i, i + 50).map((id) => bench.call('POST', `/api/bulk/syncs/${id}/executions`)),
    );
  }
  const spawned = await Promise.all(
    Array.from({ length: workers }, () => bench.cluster.spawnWorker(['--concurrency', String(concurrency)])),
  );
  const [ready] = await bench.store<{ at: Date }>('select now() as at');
  await waitIdle(bench, `drain by ${workers}`);
  await Promise.all(spawned.map((worker) => worker.stop()));
  // As the store recorded them.
  const [row] = await bench.store<{ s: number; after: number; ended: number; failed: number }>(
    `select extract(epoch from max(completed_at) - min(started_at))::float8 as s,
            extract(epoch from max(completed_at) - $2)::float8 as after,
            count(*) filter (where completed_at > $2)::int as ended,
            count(*) filter (where status <> 'completed')::int as failed
     from executions where created_at >= $1`,
    [mark!.at, ready!.at],
  );
  if (row!.failed > 0) log(`  ${row!.failed} run(s) did not complete`);
  return { seconds: row!.s, rate: row!.ended / row!.after };
}

async function readThroughput(bench: Bench, syncId: string, seconds: number) {
  const list = await bench.call('GET', `/api/bulk/syncs/${syncId}/executions`);
  const executionId = list.data[0].id as string;
  const result = await autocannon({
    url: `${bench.replica.url}/api/bulk/syncs/${syncId}/executions/${executionId}`,
    connections: 50,
    duration: seconds,
    headers: { authorization: `Bearer ${bench.cluster.adminKey}` },
  });
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

export async function runRunnerBenchmark(argv: string[]): Promise<number> {
  let options: Options;
  try {
    options = readOptions(argv);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  console.log(
    `Ferry runner benchmark — PostgreSQL store, ${formatInt(options.runs)} queued runs, ${options.samples} start samples`,
  );
  for (const line of machineFacts()) console.log(line);
  console.log('');

  const cleanup = new Cleanup();
  const rows: string[][] = [];
  try {
    const [source, destination] = await Promise.all([createPgDatabase(), createPgDatabase()]);
    cleanup.add('drop source and destination', () => Promise.all([source.drop(), destination.drop()]));
    await source.query(
      `create table tiny (id int primary key, name text); insert into tiny values (1, $$one$$);
       create view slow as select t.id, t.name from tiny t cross join pg_sleep(${options.waitMs / 1000})`,
    );
    log('starting one API replica');
    const cluster = await startCluster({ replicas: 1, workers: 0, env: { FERRY_RATE_LIMIT: '1000000' } });
    cleanup.add('stop Ferry processes and drop the store', () => cluster.stopAll());
    const replica = cluster.replicas[0]!;
    const call = async (method: string, route: string, body?: unknown) => {
      const res = await fetch(`${replica.url}${route}`, {
        method,
        headers: {
          authorization: `Bearer ${cluster.adminKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${route} → ${res.status}: ${text.slice(0, 500)}`);
      return text ? JSON.parse(text) : undefined;
    };
    const storeClient = new pg.Client({
      connectionString: cluster.store.url,
      application_name: 'ferry-bench',
    });
    await storeClient.connect();
    cleanup.add('close the store connection', () => storeClient.end());
    const store = async <T>(text: string, params: unknown[] = []) =>
      (await storeClient.query(text, params)).rows as T[];
    const bench: Bench = { cluster, replica, source, destination, call, store };

    log(`creating ${formatInt(options.samples + options.runs)} syncs`);
    const sampleIds = await createSyncs(bench, options.samples, 'public.tiny', 'sample');
    const syncIds = await createSyncs(bench, options.runs, 'public.slow', 'drain');

    log(`start latency: ${options.samples} runs, one worker`);
    const worker = await cluster.spawnWorker(['--concurrency', String(options.concurrency)]);
    const latencies = await startLatency(bench, sampleIds);
    await worker.stop();
    rows.push([
      'start latency (API start → running)',
      `p50 ${percentile(latencies, 50).toFixed(0)} ms`,
      `p99 ${percentile(latencies, 99).toFixed(0)} ms`,
      `target p99 < 250 ms; ${load()}`,
    ]);

    const drained: Record<number, Drained> = {};
    for (const workers of [1, 4]) {
      log(
        `drain: ${formatInt(options.runs)} queued runs, ${workers} worker(s) × concurrency ${options.concurrency}`,
      );
      const t0 = performance.now();
      drained[workers] = await drain(bench, syncIds, workers, options.concurrency);
      const { seconds, rate } = drained[workers]!;
      log(`  ${formatSeconds(seconds)} s of runs (${formatSeconds((performance.now() - t0) / 1000)} s wall)`);
      rows.push([
        `drain ${formatInt(options.runs)} runs, ${workers} worker(s)`,
        `${formatSeconds(seconds)} s, ${(options.runs / seconds).toFixed(1)} runs/s`,
        `${rate.toFixed(1)} runs/s once all up`,
        `source wait ${options.waitMs} ms per run; ${load()}`,
      ]);
    }
    rows.push([
      '4 workers vs 1',
      `${(drained[1]!.seconds / drained[4]!.seconds).toFixed(2)}×`,
      `${(drained[4]!.rate / drained[1]!.rate).toFixed(2)}× once all up`,
      'target ≥ 2.5× (I/O-bound runs)',
    ]);

    log(`API reads: ${options.seconds} s at 50 connections`);
    const reads = await readThroughput(bench, syncIds[0]!, options.seconds);
    rows.push([
      'GET execution, 50 connections',
      `${formatInt(reads.rps)} req/s`,
      `p99 ${reads.p99} ms`,
      `${reads.errors ? `${reads.errors} errors; ` : ''}${load()}`,
    ]);
  } catch (error) {
    log(`runner benchmark failed: ${(error as Error).stack ?? error}`);
    return 1;
  } finally {
    await cleanup.runAll();
  }
  console.log('');
  console.log(formatTable([['measure', 'result', '', 'note'], ...rows]));
  return 0;
}
