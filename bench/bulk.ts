/**
 * `npm run bench -- bulk [--rows N] [--small-rows N] [--store postgres|embedded] [--only step,...]`
 *
 * Prepares its own data (PostgreSQL with generate_series, MariaDB with the Sequence engine), then, on
 * that same data and in one run:
 *   1. PostgreSQL → PostgreSQL snapshot: `psql COPY TO STDOUT | psql COPY FROM STDIN` vs Ferry.
 *   2. Replicate on `updated_at`: a full first run, 1% of rows updated, the incremental run; then,
 *      with the snapshot of step 1, psql merges the same changed rows into its destination (the floor).
 *   3. MariaDB → PostgreSQL: pgloader vs Ferry.
 *   4. PostgreSQL → DuckDB file (Ferry only).
 *   5. The snapshot again at 1M rows, to compare Ferry's peak RSS (VmHWM) at 1M and at N rows.
 * Every Ferry run is a fresh `ferry serve` process, so each peak RSS is that run's own. Its metadata
 * store is a fresh PostgreSQL database (`--store postgres`, the default: how Ferry runs in production)
 * or the embedded PGlite store (`--store embedded`). Databases,
 * processes and temporary directories are removed at the end, also on failure or Ctrl-C.
 * Nothing is asserted: the targets are printed next to the figures.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  createMysqlDatabase,
  createPgDatabase,
  type MysqlTestConfig,
  type PgTestConfig,
  type TestDatabase,
} from '../test/support/databases.ts';
import {
  api,
  Cleanup,
  type FerryServer,
  formatInt,
  formatSeconds,
  formatTable,
  machineFacts,
  parseArgs,
  peakRssMb,
  psql,
  psqlStatementSeconds,
  resetPeakRss,
  runShell,
  sleep,
  startFerryServer,
  which,
} from './support.ts';

const DEFAULT_ROWS = 5_000_000;
const stepKeys = ['pipe', 'snapshot', 'small', 'pgloader', 'mysql', 'duckdb', 'replicate'];
const DEFAULT_SMALL_ROWS = 1_000_000;
const POLL_MS = 50;
/** Terminal words of the Polytomic bulk execution status. */
const TERMINAL = new Set(['completed', 'errors', 'failed', 'canceled', 'interrupted']);
const RSS_TARGET_MB = 300;
/** A run still going after this long is canceled and reported failed, so the benchmark always ends. */
const RUN_TIMEOUT_MS = 60 * 60 * 1000;

interface Result {
  scenario: string;
  rows: number;
  seconds?: number;
  ratio?: string;
  target?: string;
  rssMb?: number;
  /** VmHWM of the same process just before the run was started (its startup and setup peak). */
  startRssMb?: number;
  /** VmRSS of the same process when the run was started. */
  rssAtStartMb?: number;
  check: string;
}

interface FerryRun {
  seconds: number;
  status: string;
  recordCount: number | undefined;
  rssMb: number | undefined;
  startRssMb: number | undefined;
  rssAtStartMb: number | undefined;
  execution: any;
}

const log = (message: string) =>
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

// ---------------------------------------------------------------------------------------------------
// Data

const PG_TABLE_DDL = (name: string) => `create table ${name} (
  id bigint primary key,
  created_at timestamptz not null,
  amount numeric(18,4),
  name text,
  payload jsonb,
  active boolean,
  qty integer,
  score double precision,
  day date,
  note text,
  updated_at timestamptz not null
)`;

const pgGenerate = (table: string, from: number, to: number) => `insert into ${table}
select g,
  timestamptz '2020-01-01 00:00:00+00' + g * interval '1234567 microseconds',
  ((g * 7919) % 100000000)::numeric / 10000,
  'customer ' || g,
  jsonb_build_object('id', g, 'kind', (array['a','b','c'])[1 + g % 3], 'tags', jsonb_build_array(g % 10, g % 100), 'hash', md5(g::text)),
  g % 2 = 0,
  ((g * 7) % 100000)::int,
  g / 7.0::float8,
  date '2000-01-01' + (g % 9000)::int,
  case when g % 10 = 0 then null else repeat('note ', 1 + (g % 8)::int) end,
  timestamptz '2020-01-01 00:00:00+00' + g * interval '1234567 microseconds'
from generate_series(${from}::bigint, ${to}::bigint) g`;

const MYSQL_TABLE_DDL = `create table t (
  id bigint primary key,
  created_at datetime(6) not null,
  amount decimal(18,4),
  name varchar(100),
  payload json,
  active boolean,
  qty int,
  score double,
  day date,
  note text,
  updated_at datetime(6) not null
) engine=InnoDB`;

const mysqlGenerate = (from: number, to: number) => `insert into t
select seq,
  timestamp'2020-01-01 00:00:00' + interval (seq * 1234567) microsecond,
  ((seq * 7919) % 100000000) / 10000,
  concat('customer ', seq),
  json_object('id', seq, 'kind', elt(1 + seq % 3, 'a', 'b', 'c'), 'tags', json_array(seq % 10, seq % 100), 'hash', md5(seq)),
  seq % 2 = 0,
  (seq * 7) % 100000,
  seq / 7e0,
  date'2000-01-01' + interval (seq % 9000) day,
  if(seq % 10 = 0, null, repeat('note ', 1 + seq % 8)),
  timestamp'2020-01-01 00:00:00' + interval (seq * 1234567) microsecond
from seq_${from}_to_${to}`;

const CHUNK = 500_000;
const chunks = (rows: number): [number, number][] => {
  const out: [number, number][] = [];
  for (let from = 1; from <= rows; from += CHUNK) out.push([from, Math.min(rows, from + CHUNK - 1)]);
  return out;
};

async function preparePgSource(db: TestDatabase<PgTestConfig>, rows: number, smallRows: number) {
  await db.query(PG_TABLE_DDL('t'));
  for (const [from, to] of chunks(rows)) await db.query(pgGenerate('t', from, to));
  await db.query('create index t_updated_at_id on t (updated_at, id)');
  await db.query(PG_TABLE_DDL('t_small'));
  await db.query(`insert into t_small select * from t where id <= ${smallRows}`);
  // Same starting state for every reader: hint bits set, visibility map and statistics fresh.
  await db.query('vacuum (freeze, analyze) t');
  await db.query('vacuum (freeze, analyze) t_small');
}

async function prepareMysqlSource(db: TestDatabase<MysqlTestConfig>, rows: number) {
  await db.query(MYSQL_TABLE_DDL);
  for (const [from, to] of chunks(rows)) await db.query(mysqlGenerate(from, to));
  await db.query('analyze table t');
}

async function pgCount(db: TestDatabase<PgTestConfig>, table: string, where = ''): Promise<number> {
  const [row] = await db.query<{ n: string }>(`select count(*) as n from ${table} ${where}`);
  return Number(row!.n);
}

/** Schema-qualified name of the one table called `name` in a database, wherever a loader put it. */
async function findPgTable(db: TestDatabase<PgTestConfig>, name: string): Promise<string | undefined> {
  const found = await db.query<{ s: string }>(
    `select table_schema as s from information_schema.tables
      where table_name = $1 and table_schema not in ('pg_catalog', 'information_schema')`,
    [name],
  );
  return found[0] ? `"${found[0].s}"."${name}"` : undefined;
}

const checkCount = (actual: number | undefined, expected: number, extra = '') =>
  actual === expected
    ? `ok: ${formatInt(actual)} rows in destination${extra}`
    : `MISMATCH: ${actual === undefined ? 'no table' : formatInt(actual)} rows in destination, expected ${formatInt(expected)}${extra}`;

// ---------------------------------------------------------------------------------------------------
// Ferry

type FerryHandle = FerryServer;

async function launchFerry(
  cleanup: Cleanup,
  dataDir: string,
  apiKey: string,
  env: Record<string, string>,
): Promise<FerryHandle> {
  const ferry = await startFerryServer({ dataDir, apiKey, env });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await ferry.stop();
    const stderr = ferry.stderr().trim();
    if (stderr) log(`ferry stderr (last lines):\n${stderr.split('\n').slice(-15).join('\n')}`);
  };
  cleanup.add(`stop ferry ${ferry.pid}`, stop);
  return { ...ferry, stop };
}

/** One fresh Ferry process over its own temporary data directory, stopped and removed afterwards. */
async function withFerry<T>(
  ctx: Context,
  work: (h: FerryHandle, restart: () => Promise<FerryHandle>) => Promise<T>,
): Promise<T> {
  const { cleanup } = ctx;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ferry-bench-'));
  cleanup.add(`remove ${dataDir}`, () => rmSync(dataDir, { recursive: true, force: true }));
  const apiKey = `fy_bench_${randomBytes(16).toString('hex')}`;
  const store = ctx.store === 'postgres' ? await freshPg(cleanup) : undefined;
  const env: Record<string, string> = store ? { DATABASE_URL: store.url } : {};
  let current = await launchFerry(cleanup, dataDir, apiKey, env);
  try {
    return await work(current, async () => {
      await current.stop();
      current = await launchFerry(cleanup, dataDir, apiKey, env);
      return current;
    });
  } finally {
    await current.stop();
    rmSync(dataDir, { recursive: true, force: true });
    await store?.drop();
  }
}

async function createConnection(ferry: FerryHandle, name: string, type: string, configuration: object) {
  const body = await api(ferry, 'POST', '/api/connections', { name, type, configuration });
  return body.data.id as string;
}

async function createBulkSync(
  ferry: FerryHandle,
  options: {
    name: string;
    source: string;
    destination: string;
    mode: 'snapshot' | 'replicate';
    schemas: unknown[];
  },
) {
  const body = await api(ferry, 'POST', '/api/bulk/syncs', {
    name: options.name,
    source_connection_id: options.source,
    destination_connection_id: options.destination,
    mode: options.mode,
    active: true,
    schedule: { frequency: 'manual' },
    schemas: options.schemas,
    destination_configuration: { schema: 'bench' },
    normalize_names: 'disabled',
  });
  return body.data.id as string;
}

/** Starts a run and polls it until terminal; time is from the start request to the terminal answer. */
async function runBulkSync(h: FerryHandle, syncId: string): Promise<FerryRun> {
  const startRssMb = peakRssMb(h.pid);
  const rssAtStartMb = peakRssMb(h.pid, 'VmRSS');
  // VmHWM from here on is this run's own peak, not the startup's (migrations of the embedded store).
  if (!resetPeakRss(h.pid)) log('  (could not reset VmHWM: the peak includes the startup)');
  const started = performance.now();
  const startBody = await api(h, 'POST', `/api/bulk/syncs/${syncId}/executions`, {});
  const execId = startBody.data.id as string;
  let execution: any = startBody.data;
  let lastLogged = started;
  while (!TERMINAL.has(execution.status)) {
    await sleep(POLL_MS);
    execution = (await api(h, 'GET', `/api/bulk/syncs/${syncId}/executions/${execId}`)).data;
    if (h.child.exitCode !== null) throw new Error(`ferry exited with ${h.child.exitCode}`);
    if (performance.now() - started > RUN_TIMEOUT_MS) {
      await api(h, 'POST', `/api/bulk/syncs/${syncId}/executions/${execId}/cancel`).catch(() => undefined);
      throw new Error(`run ${execId} still ${execution.status} after ${RUN_TIMEOUT_MS / 1000} s; canceled`);
    }
    if (performance.now() - lastLogged > 30_000) {
      lastLogged = performance.now();
      const counts = (execution.schemas ?? [])
        .map((s: any) => `${s.schema}=${s.status}/${s.record_count ?? 0}`)
        .join(' ');
      log(`  … ${execution.status} after ${((lastLogged - started) / 1000).toFixed(0)} s ${counts}`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const rssMb = peakRssMb(h.pid);
  const consoleLog = await api(
    h,
    'GET',
    `/api/bulk/syncs/${syncId}/executions/${execId}/consolelog?limit=50`,
  ).catch((error) => ({ data: { entries: [{ message: `(console log unavailable: ${error.message})` }] } }));
  const entries = ([...(consoleLog?.data?.entries ?? [])] as any[]).sort((a, b) =>
    String(a.timestamp ?? '').localeCompare(String(b.timestamp ?? '')),
  );
  const consoleText = entries
    .map(
      (e) =>
        `    ${e.timestamp ?? ''} ${e.level ?? ''} ${e.schema ? `[${e.schema}] ` : ''}${e.message ?? ''}`,
    )
    .join('\n');
  if (execution.status !== 'completed') {
    log(
      `execution ${execId} ended ${execution.status}: ${execution.status_message ?? ''}\n` +
        (execution.schemas ?? [])
          .map((s: any) => `  schema ${s.schema}: ${s.status} ${s.status_message ?? ''}`)
          .join('\n') +
        `\n  console log:\n${consoleText}`,
    );
  } else {
    log(`  completed in ${formatSeconds(seconds)} s; console log:\n${consoleText}`);
  }
  return {
    seconds,
    status: execution.status,
    recordCount: execution.record_count,
    rssMb,
    startRssMb,
    rssAtStartMb,
    execution,
  };
}

const failed = (run: FerryRun) =>
  `FAILED: ${run.status}${run.execution.status_message ? ` — ${String(run.execution.status_message).slice(0, 160)}` : ''}`;

// ---------------------------------------------------------------------------------------------------
// Scenarios

interface Context {
  cleanup: Cleanup;
  rows: number;
  smallRows: number;
  pgSource: TestDatabase<PgTestConfig>;
  mysqlSource: TestDatabase<MysqlTestConfig>;
  results: Result[];
  /** Ferry's metadata store in this run. */
  store: 'postgres' | 'embedded';
  /** Seconds of Ferry's full PG→PG snapshot of `t`, the reference of the incremental run. */
  fullSnapshotSeconds?: number;
  /** The destination of that snapshot, kept for psql's merge of the replicate run's changed rows. */
  snapshotDestination?: TestDatabase<PgTestConfig>;
  pipeRowsPerSecond?: number;
}

async function freshPg(cleanup: Cleanup): Promise<TestDatabase<PgTestConfig>> {
  const db = await createPgDatabase();
  cleanup.add(`drop database ${db.name}`, () => db.drop());
  return db;
}

async function pipeBaseline(ctx: Context): Promise<void> {
  const dst = await freshPg(ctx.cleanup);
  await dst.query(PG_TABLE_DDL('t'));
  const command = `${psql(ctx.pgSource, 'COPY t TO STDOUT')} | ${psql(dst, 'COPY t FROM STDIN')}`;
  log(`baseline: ${command}`);
  const result = await runShell(command);
  if (result.code !== 0) throw new Error(`psql pipe exited ${result.code}: ${result.stderr.slice(-1000)}`);
  ctx.pipeRowsPerSecond = ctx.rows / result.seconds;
  ctx.results.push({
    scenario: 'PG→PG snapshot: psql COPY | psql COPY (baseline)',
    rows: ctx.rows,
    seconds: result.seconds,
    ratio: '1.00×',
    check: checkCount(await pgCount(dst, 't'), ctx.rows),
  });
  await dst.drop();
}

async function ferryPgSnapshot(ctx: Context, table: 't' | 't_small', rows: number): Promise<void> {
  const dst = await freshPg(ctx.cleanup);
  await dst.query('create schema bench');
  const label = `PG→PG snapshot: Ferry${table === 't' ? '' : ` (${formatInt(rows)}-row table)`}`;
  await withFerry(ctx, async (h) => {
    const source = await createConnection(h, 'bench source', 'postgresql', ctx.pgSource.config);
    const destination = await createConnection(h, 'bench destination', 'postgresql', dst.config);
    const syncId = await createBulkSync(h, {
      name: `bench snapshot ${table}`,
      source,
      destination,
      mode: 'snapshot',
      schemas: [`public.${table}`],
    });
    log(`${label}: running`);
    const run = await runBulkSync(h, syncId);
    const ok = run.status === 'completed';
    if (table === 't' && ok) {
      ctx.fullSnapshotSeconds = run.seconds;
      ctx.snapshotDestination = dst;
    }
    ctx.results.push({
      scenario: label,
      rows,
      seconds: run.seconds,
      ratio:
        ctx.pipeRowsPerSecond && ok
          ? `${(rows / run.seconds / ctx.pipeRowsPerSecond).toFixed(2)}×`
          : undefined,
      target: table === 't' ? '≥ 0.70× pipe' : `RSS flat`,
      rssMb: run.rssMb,
      startRssMb: run.startRssMb,
      rssAtStartMb: run.rssAtStartMb,
      check: ok ? checkCount(await pgCount(dst, `bench.${table}`).catch(() => undefined), rows) : failed(run),
    });
  });
  if (ctx.snapshotDestination !== dst) await dst.drop();
}

/**
 * What PostgreSQL alone takes for the incremental run's change, the floor under it: psql copies the
 * source rows after the snapshot destination's greatest `updated_at` into a temporary table and
 * merges them into that (cold) copy of `t` with one INSERT ... ON CONFLICT. The time is the sum of
 * the statements' times (`\\timing`), without the start of the psql processes.
 */
async function psqlMergeFloor(ctx: Context, changed: number): Promise<void> {
  const dst = ctx.snapshotDestination;
  if (!dst || !ctx.fullSnapshotSeconds) return;
  log('replicate: psql merge of the same changed rows (the floor)');
  const [{ m }] = (await dst.query('select max(updated_at)::text as m from bench.t')) as [{ m: string }];
  const columns = (
    await dst.query<{ c: string }>(
      `select column_name as c from information_schema.columns
       where table_schema = 'bench' and table_name = 't' order by ordinal_position`,
    )
  ).map((row) => row.c);
  const list = columns.join(', ');
  const updates = columns
    .filter((c) => c !== 'id')
    .map((c) => `${c} = excluded.${c}`)
    .join(', ');
  const result = await runShell(
    `${psql(ctx.pgSource, `COPY (select ${list} from t where updated_at > $$${m}$$::timestamptz) TO STDOUT`)} | ` +
      psql(
        dst,
        '\\timing on',
        'create temp table stage (like bench.t)',
        `\\copy stage (${list}) from pstdin`,
        `insert into bench.t (${list}) select ${list} from stage on conflict (id) do update set ${updates}`,
      ),
  );
  if (result.code !== 0) throw new Error(`psql merge exited ${result.code}: ${result.stderr.slice(-1000)}`);
  const seconds = psqlStatementSeconds(result.stdout);
  const moved = await pgCount(dst, 'bench.t', `where updated_at > '${m}'::timestamptz`);
  ctx.results.push({
    scenario: 'PG→PG psql merge of the same 1%, statements only (floor)',
    rows: changed,
    seconds,
    ratio: `${((seconds / ctx.fullSnapshotSeconds) * 100).toFixed(1)}% of snapshot time`,
    check: moved === changed ? 'ok' : `MISMATCH: ${moved} rows merged`,
  });
  await dst.drop();
  ctx.snapshotDestination = undefined;
}

async function ferryReplicate(ctx: Context): Promise<void> {
  const dst = await freshPg(ctx.cleanup);
  await dst.query('create schema bench');
  const changed = Math.floor(ctx.rows / 100);
  await withFerry(ctx, async (first, restart) => {
    const source = await createConnection(first, 'bench source', 'postgresql', ctx.pgSource.config);
    const destination = await createConnection(first, 'bench destination', 'postgresql', dst.config);
    const syncId = await createBulkSync(first, {
      name: 'bench replicate t',
      source,
      destination,
      mode: 'replicate',
      schemas: [{ id: 'public.t', tracking_field: 'updated_at' }],
    });
    log('replicate: first (full) run');
    const full = await runBulkSync(first, syncId);
    ctx.results.push({
      scenario: 'PG→PG replicate: Ferry first run (full)',
      rows: ctx.rows,
      seconds: full.seconds,
      ratio:
        ctx.fullSnapshotSeconds && full.status === 'completed'
          ? `${((full.seconds / ctx.fullSnapshotSeconds) * 100).toFixed(0)}% of snapshot time`
          : undefined,
      rssMb: full.rssMb,
      startRssMb: full.startRssMb,
      rssAtStartMb: full.rssAtStartMb,
      check:
        full.status === 'completed'
          ? checkCount(await pgCount(dst, 'bench.t').catch(() => undefined), ctx.rows)
          : failed(full),
    });
    if (full.status !== 'completed') return;

    await ctx.pgSource.query(`update t set updated_at = now() where id % 100 = 0`);
    // A new process for the incremental run, so its peak RSS is its own (same data dir: a restart).
    const second = await restart();
    log(`replicate: incremental run after ${formatInt(changed)} rows changed`);
    const incremental = await runBulkSync(second, syncId);
    let check = failed(incremental);
    if (incremental.status === 'completed') {
      const total = await pgCount(dst, 'bench.t').catch(() => undefined);
      const [srcMax] = await ctx.pgSource.query<{ m: string }>(`select max(updated_at)::text as m from t`);
      const moved = await pgCount(dst, 'bench.t', `where updated_at = '${srcMax!.m}'::timestamptz`).catch(
        () => undefined,
      );
      check =
        checkCount(total, ctx.rows) +
        (moved === changed
          ? `; ${formatInt(moved)} updated rows carried`
          : `; MISMATCH updated rows: ${moved}`) +
        `; record_count ${incremental.recordCount}`;
    }
    ctx.results.push({
      scenario: 'PG→PG replicate: Ferry after 1% changed',
      rows: changed,
      seconds: incremental.seconds,
      ratio:
        ctx.fullSnapshotSeconds && incremental.status === 'completed'
          ? `${((incremental.seconds / ctx.fullSnapshotSeconds) * 100).toFixed(1)}% of snapshot time`
          : undefined,
      target: '≤ 5% of snapshot',
      rssMb: incremental.rssMb,
      startRssMb: incremental.startRssMb,
      rssAtStartMb: incremental.rssAtStartMb,
      check,
    });
    await psqlMergeFloor(ctx, changed);
  });
  await dst.drop();
}

async function pgloaderBaseline(ctx: Context): Promise<void> {
  const scenario = 'MariaDB→PG: pgloader (baseline)';
  const binary = await which('pgloader');
  if (!binary) {
    log('pgloader is not installed; install it with: apt-get install -y pgloader');
    ctx.results.push({
      scenario,
      rows: ctx.rows,
      check: 'SKIPPED: pgloader not installed (apt-get install -y pgloader)',
    });
    return;
  }
  const { config } = ctx.mysqlSource;
  const source = `mysql://${config.username}@${config.hostname}:${config.port}/${config.database}`;
  // pgloader's defaults (1 GB SBCL heap, prefetch rows = 100000) can exhaust its heap on wide rows
  // (dimitri/pgloader#962, #327): then it is run again with a bigger heap and a smaller prefetch.
  const attempts = [
    { label: scenario, options: '' },
    {
      label: 'MariaDB→PG: pgloader, 4 GB heap, prefetch 10000 (baseline)',
      options: `--dynamic-space-size 4096 --with 'prefetch rows = 10000' `,
    },
  ];
  for (const attempt of attempts) {
    const dst = await freshPg(ctx.cleanup);
    const command = `${binary} ${attempt.options}${source} '${dst.url}'`;
    log(`baseline: ${command}`);
    const result = await runShell(command);
    const output = result.stdout + result.stderr;
    const table = await findPgTable(dst, 't');
    const count = table ? await pgCount(dst, table) : undefined;
    await dst.drop();
    if (result.code !== 0) log(`pgloader exited ${result.code}:\n${output.slice(-3000)}`);
    const heapExhausted = result.code !== 0 && /Heap exhausted/i.test(output);
    ctx.results.push({
      scenario: attempt.label,
      rows: ctx.rows,
      seconds: result.code === 0 ? result.seconds : undefined,
      ratio: result.code === 0 ? '1.00×' : undefined,
      check:
        result.code === 0
          ? checkCount(count, ctx.rows)
          : `pgloader failed: exit ${result.code} after ${formatSeconds(result.seconds)} s${heapExhausted ? ' (SBCL heap exhausted)' : ''}`,
    });
    if (!heapExhausted) return;
  }
}

async function ferryMysqlToPg(ctx: Context): Promise<void> {
  const dst = await freshPg(ctx.cleanup);
  await dst.query('create schema bench');
  const baseline = ctx.results.find(
    (r) => r.scenario.startsWith('MariaDB→PG: pgloader') && r.seconds !== undefined,
  );
  await withFerry(ctx, async (h) => {
    const source = await createConnection(h, 'bench mariadb', 'mysql', ctx.mysqlSource.config);
    const destination = await createConnection(h, 'bench destination', 'postgresql', dst.config);
    const syncId = await createBulkSync(h, {
      name: 'bench mariadb t',
      source,
      destination,
      mode: 'snapshot',
      schemas: ['t'],
    });
    log('MariaDB→PG: Ferry running');
    const run = await runBulkSync(h, syncId);
    const ok = run.status === 'completed';
    ctx.results.push({
      scenario: 'MariaDB→PG snapshot: Ferry',
      rows: ctx.rows,
      seconds: run.seconds,
      ratio: baseline?.seconds && ok ? `${(baseline.seconds / run.seconds).toFixed(2)}×` : undefined,
      target: 'vs pgloader',
      rssMb: run.rssMb,
      startRssMb: run.startRssMb,
      rssAtStartMb: run.rssAtStartMb,
      check: ok ? checkCount(await pgCount(dst, 'bench.t').catch(() => undefined), ctx.rows) : failed(run),
    });
  });
  await dst.drop();
}

async function ferryPgToDuckdb(ctx: Context): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ferry-bench-duckdb-'));
  ctx.cleanup.add(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  // Not `bench.duckdb`: DuckDB names the catalog after the file, and a catalog named like the destination
  // schema (`bench`) makes `bench.t` ambiguous.
  const file = path.join(dir, 'warehouse.duckdb');
  let run: FerryRun | undefined;
  await withFerry(ctx, async (h) => {
    const source = await createConnection(h, 'bench source', 'postgresql', ctx.pgSource.config);
    const destination = await createConnection(h, 'bench duckdb', 'duckdb', { path: file });
    const syncId = await createBulkSync(h, {
      name: 'bench duckdb t',
      source,
      destination,
      mode: 'snapshot',
      schemas: ['public.t'],
    });
    log('PG→DuckDB: Ferry running');
    run = await runBulkSync(h, syncId);
  });
  // Counted after Ferry stopped: DuckDB files take one writer process at a time.
  let check = run ? failed(run) : 'FAILED';
  if (run?.status === 'completed') {
    const instance = await DuckDBInstance.create(file);
    const connection = await instance.connect();
    try {
      const reader = await connection.runAndReadAll('select count(*)::bigint as n from bench.t');
      check = checkCount(Number(reader.getRowObjects()[0]!.n), ctx.rows);
    } catch (error) {
      check = `MISMATCH: ${(error as Error).message}`;
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  }
  ctx.results.push({
    scenario: 'PG→DuckDB snapshot: Ferry',
    rows: ctx.rows,
    seconds: run?.seconds,
    ratio: undefined,
    target: 'no baseline',
    rssMb: run?.rssMb,
    startRssMb: run?.startRssMb,
    rssAtStartMb: run?.rssAtStartMb,
    check,
  });
  rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 100) throw new Error(`${name} must be an integer ≥ 100 (got ${value})`);
  return n;
}

export async function runBulkBenchmark(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv);
  let rows: number;
  let smallRows: number;
  const store = options.get('store') ?? 'postgres';
  const only = options.get('only')?.split(',');
  try {
    if (store !== 'postgres' && store !== 'embedded') throw new Error('--store must be postgres or embedded');
    const unknown = only?.filter((key) => !stepKeys.includes(key));
    if (unknown?.length)
      throw new Error(`--only: unknown step(s) ${unknown.join(', ')}; steps: ${stepKeys.join(', ')}`);
    rows =
      positiveInt(options.get('rows'), '--rows') ??
      positiveInt(process.env.BENCH_ROWS, 'BENCH_ROWS') ??
      DEFAULT_ROWS;
    smallRows =
      positiveInt(options.get('small-rows'), '--small-rows') ??
      (rows > DEFAULT_SMALL_ROWS ? DEFAULT_SMALL_ROWS : Math.max(100, Math.floor(rows / 5)));
    if (smallRows > rows) throw new Error('--small-rows must not exceed --rows');
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }

  console.log(
    `Ferry bulk benchmark — ${formatInt(rows)} rows (RSS comparison at ${formatInt(smallRows)}); Ferry store: ${store}`,
  );
  for (const line of machineFacts()) console.log(line);
  console.log('');

  const cleanup = new Cleanup();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: cleaning up`);
    void cleanup.runAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const results: Result[] = [];
  let failures = 0;
  try {
    const pgSource = await freshPg(cleanup);
    const mysqlSource = await createMysqlDatabase();
    cleanup.add(`drop database ${mysqlSource.name}`, () => mysqlSource.drop());

    let t0 = performance.now();
    log(`preparing PostgreSQL source ${pgSource.name}: ${formatInt(rows)} rows`);
    await preparePgSource(pgSource, rows, smallRows);
    const [size] = await pgSource.query<{ s: string }>(
      `select pg_size_pretty(pg_total_relation_size('t')) as s`,
    );
    log(`  done in ${formatSeconds((performance.now() - t0) / 1000)} s (table t with indexes: ${size!.s})`);
    t0 = performance.now();
    log(`preparing MariaDB source ${mysqlSource.name}: ${formatInt(rows)} rows`);
    await prepareMysqlSource(mysqlSource, rows);
    log(`  done in ${formatSeconds((performance.now() - t0) / 1000)} s`);

    const ctx: Context = { cleanup, rows, smallRows, pgSource, mysqlSource, results, store };
    // Snapshots first, all on the same untouched data; the replicate run updates 1% of the source last.
    const steps: [string, string, () => Promise<void>][] = [
      ['pipe', 'PG→PG pipe baseline', () => pipeBaseline(ctx)],
      ['snapshot', 'PG→PG Ferry snapshot', () => ferryPgSnapshot(ctx, 't', rows)],
      ['small', 'PG→PG Ferry snapshot (small)', () => ferryPgSnapshot(ctx, 't_small', smallRows)],
      ['pgloader', 'MariaDB→PG pgloader', () => pgloaderBaseline(ctx)],
      ['mysql', 'MariaDB→PG Ferry', () => ferryMysqlToPg(ctx)],
      ['duckdb', 'PG→DuckDB Ferry', () => ferryPgToDuckdb(ctx)],
      ['replicate', 'PG→PG Ferry replicate', () => ferryReplicate(ctx)],
    ];
    for (const [key, name, step] of steps) {
      if (interrupted) break;
      if (only && !only.includes(key)) continue;
      try {
        await step();
      } catch (error) {
        failures++;
        log(`${name} failed: ${(error as Error).stack ?? error}`);
        results.push({ scenario: name, rows: 0, check: `ERROR: ${(error as Error).message.slice(0, 160)}` });
      }
    }
  } catch (error) {
    failures++;
    log(`benchmark setup failed: ${(error as Error).stack ?? error}`);
  } finally {
    await cleanup.runAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  failures += results.filter((r) => /^(FAILED|MISMATCH|ERROR)/.test(r.check)).length;
  console.log('');
  console.log(
    formatTable([
      [
        'scenario',
        'rows',
        'seconds',
        'rows/s',
        'ratio vs baseline',
        'target',
        'peak RSS MB (run)',
        'RSS at start MB',
        'startup VmHWM MB',
        'check',
      ],
      ...results.map((r) => [
        r.scenario,
        r.rows ? formatInt(r.rows) : '',
        r.seconds === undefined ? '—' : formatSeconds(r.seconds),
        r.seconds === undefined || !r.rows ? '—' : formatInt(r.rows / r.seconds),
        r.ratio ?? '—',
        r.target ?? '',
        r.rssMb === undefined ? '—' : r.rssMb.toFixed(0),
        r.rssAtStartMb === undefined ? '—' : r.rssAtStartMb.toFixed(0),
        r.startRssMb === undefined ? '—' : r.startRssMb.toFixed(0),
        r.check.replace(/\s+/g, ' ').slice(0, 220),
      ]),
    ]),
  );
  const big = results.find((r) => r.scenario === 'PG→PG snapshot: Ferry');
  const small = results.find((r) => r.scenario.startsWith('PG→PG snapshot: Ferry ('));
  if (big?.rssMb !== undefined && small?.rssMb !== undefined) {
    const growth = ((big.rssMb - small.rssMb) / small.rssMb) * 100;
    console.log(
      `\nPeak RSS of Ferry during the PG→PG snapshot: ${small.rssMb.toFixed(0)} MB at ${formatInt(small.rows)} rows, ` +
        `${big.rssMb.toFixed(0)} MB at ${formatInt(big.rows)} rows (${growth >= 0 ? '+' : ''}${growth.toFixed(0)}%); ` +
        `target < ${RSS_TARGET_MB} MB and flat.` +
        (big.startRssMb !== undefined && small.startRssMb !== undefined
          ? `\nWhole-process peak including startup: ${Math.max(small.rssMb, small.startRssMb).toFixed(0)} MB and ${Math.max(big.rssMb, big.startRssMb).toFixed(0)} MB.`
          : ''),
    );
  }
  console.log(
    'Ratios: snapshot rows/s ÷ baseline rows/s (MariaDB: pgloader seconds ÷ Ferry seconds); replicate: seconds ÷ full Ferry snapshot seconds.',
  );
  console.log(
    'Peak RSS (run): VmHWM of the Ferry server process, reset (clear_refs) when the run starts and read when it ends;\n' +
      'one fresh process per run (the replicate runs: one each). RSS at start: VmRSS when the run starts.\n' +
      'Startup VmHWM: the peak of the same process before the run (start, store migrations, setup requests).',
  );
  return failures === 0 ? 0 : 1;
}
