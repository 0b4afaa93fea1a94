/**
 * `npm run bench -- model [--rows N] [--store postgres|embedded] [--only step,...]`
 *
 * Prepares an N-row PostgreSQL table, then on that same data:
 *   1. Baseline: `psql COPY TO STDOUT | psql \copy` into a temporary table and one
 *      `INSERT ... ON CONFLICT (id) DO UPDATE` into the target table.
 *   2. Ferry: a model (`select * from people`) synced updateOrCreate into an identical target table.
 *   3. 1% of the source rows changed (their `updated_at` too), and the same sync again: only the
 *      changes travel. The model tracks `updated_at` (indexed in the source), so this run reads just
 *      the rows at or after the first run's greatest value. With the baseline, psql then upserts the
 *      same changed rows into its own table the same way (COPY of the rows after its greatest
 *      `updated_at` + INSERT ... ON CONFLICT): what PostgreSQL alone takes for the change, the floor
 *      under Ferry's second run, printed as a share of Ferry's first run like the target.
 *   4. The model's tracking column dropped, another 1% changed, the sync again: every row is compared
 *      by content hash in the databases.
 *   5. The model into a local HTTP API (batches of 1000 records): records per second.
 * Each Ferry scenario runs in a fresh `ferry serve` process on a PostgreSQL metadata store of its own
 * (`--store embedded` for the default PGlite store, whose WebAssembly PostgreSQL alone holds several
 * hundred MB); its peak RSS (VmHWM) is that run's own, printed next to the RSS when the run started.
 * Databases, processes and temporary directories are removed at the end, also on failure or Ctrl-C.
 * Nothing is asserted: the targets are printed next to the figures. `--only` runs some of the steps:
 * `baseline` (1), `pg` (2 to 4), `http` (5).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createPgDatabase, type PgTestConfig, type TestDatabase } from '../test/support/databases.ts';
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
} from './support.ts';

const DEFAULT_ROWS = 1_000_000;
const POLL_MS = 50;
const TERMINAL = new Set(['completed', 'failed', 'canceled', 'interrupted']);
const RSS_TARGET_MB = 300;
const stepKeys = ['baseline', 'pg', 'http'];

const log = (message: string) =>
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

const PEOPLE_DDL = (name: string) => `create table ${name} (
  id bigint primary key,
  email text not null,
  name text,
  score integer,
  balance numeric(14,2),
  active boolean,
  updated_at timestamptz not null
)`;

const COLUMNS = ['id', 'email', 'name', 'score', 'balance', 'active', 'updated_at'];

interface Row {
  scenario: string;
  rows: number;
  seconds: number;
  perSecond: number;
  target: string;
  rssMb?: number | undefined;
  rssAtStartMb?: number | undefined;
  check: string;
}

async function freshPg(cleanup: Cleanup): Promise<TestDatabase<PgTestConfig>> {
  const db = await createPgDatabase();
  cleanup.add(`drop database ${db.name}`, () => db.drop());
  return db;
}

async function count(db: TestDatabase<PgTestConfig>, table: string): Promise<number> {
  const [row] = await db.query<{ n: string }>(`select count(*) as n from ${table}`);
  return Number(row!.n);
}

/**
 * The baseline: `psql COPY (rows) TO STDOUT | psql \\copy` into a temporary table, then one
 * `INSERT ... ON CONFLICT (id) DO UPDATE` from it into `baseline`. Throws when psql fails.
 * `statementSeconds` leaves out the start of the psql processes and their connections: the sum of
 * the target's statement times (`\\timing`; its `\\copy` lasts as long as the source's COPY).
 */
async function psqlUpsert(
  source: TestDatabase<PgTestConfig>,
  target: TestDatabase<PgTestConfig>,
  rows: string,
) {
  const updates = COLUMNS.slice(1)
    .map((c) => `${c} = excluded.${c}`)
    .join(', ');
  const result = await runShell(
    `${psql(source, `COPY ${rows} TO STDOUT`)} | ` +
      psql(
        target,
        '\\timing on',
        'create temp table stage (like baseline)',
        '\\copy stage from pstdin',
        `insert into baseline select * from stage on conflict (id) do update set ${updates}`,
      ),
  );
  if (result.code !== 0)
    throw new Error(`psql baseline exited ${result.code}: ${result.stderr.slice(-1000)}`);
  return { ...result, statementSeconds: psqlStatementSeconds(result.stdout) };
}

/** Starts a run and polls it until terminal; the time is from the start request to the terminal answer. */
async function runSync(ferry: FerryServer, syncId: string) {
  const rssAtStartMb = peakRssMb(ferry.pid, 'VmRSS');
  if (!resetPeakRss(ferry.pid)) log('  (could not reset VmHWM: the peak includes the startup)');
  const started = performance.now();
  const execId = (await api(ferry, 'POST', `/api/syncs/${syncId}/executions`, {})).data.id as string;
  let execution: any = { status: 'queued' };
  while (!TERMINAL.has(execution.status)) {
    await sleep(POLL_MS);
    execution = (await api(ferry, 'GET', `/api/syncs/${syncId}/executions/${execId}`)).data;
  }
  const seconds = (performance.now() - started) / 1000;
  const rssMb = peakRssMb(ferry.pid);
  if (execution.status !== 'completed' || execution.counts.error > 0) {
    const consoleLog = await api(
      ferry,
      'GET',
      `/api/syncs/${syncId}/executions/${execId}/consolelog?limit=20`,
    );
    log(
      `execution ${execId} ended ${execution.status}: ${JSON.stringify(execution.counts)} ${execution.errors}`,
    );
    for (const e of consoleLog.data.entries.reverse()) log(`  ${e.level} ${e.message}`);
  }
  return { seconds, rssMb, rssAtStartMb, execution };
}

async function withFerry<T>(
  cleanup: Cleanup,
  embedded: boolean,
  work: (ferry: FerryServer) => Promise<T>,
): Promise<T> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ferry-bench-'));
  cleanup.add(`remove ${dataDir}`, () => rmSync(dataDir, { recursive: true, force: true }));
  const env: Record<string, string> = {};
  if (!embedded) {
    const store = await freshPg(cleanup);
    env.DATABASE_URL = store.url;
    env.FERRY_SECRET_KEY = randomBytes(24).toString('hex');
  }
  const ferry = await startFerryServer({
    dataDir,
    apiKey: `fy_bench_${randomBytes(16).toString('hex')}`,
    env,
  });
  cleanup.add(`stop ferry ${ferry.pid}`, () => ferry.stop());
  try {
    return await work(ferry);
  } finally {
    await ferry.stop();
  }
}

/** A model over `people` on the source and a sync of it into `target`; returns the sync id. */
async function setUpSync(
  ferry: FerryServer,
  source: TestDatabase<PgTestConfig>,
  target: { type: string; configuration: object; object: string },
) {
  const post = async (route: string, body: unknown) => (await api(ferry, 'POST', route, body)).data;
  const sourceId = (
    await post('/api/connections', { name: 'src', type: 'postgresql', configuration: source.config })
  ).id;
  const targetId = (
    await post('/api/connections', { name: 'dst', type: target.type, configuration: target.configuration })
  ).id;
  const model = await post('/api/models', { ...modelBody(sourceId), tracking_columns: ['updated_at'] });
  const sync = await post('/api/syncs', {
    name: 'people',
    mode: 'updateOrCreate',
    schedule: { frequency: 'manual' },
    target: { connection_id: targetId, object: target.object },
    fields: COLUMNS.map((field) => ({ source: { model_id: model.id, field }, target: field })),
    identity: { source: { model_id: model.id, field: 'id' }, target: 'id', function: 'Equality' },
  });
  return { syncId: sync.id as string, modelId: model.id as string, sourceId };
}

const modelBody = (connectionId: string) => ({
  name: 'people',
  connection_id: connectionId,
  configuration: { query: `select ${COLUMNS.join(', ')} from people` },
  identifier: 'id',
});

/** A local HTTP API that accepts record batches and counts them. */
async function startHttpTarget(cleanup: Cleanup) {
  let records = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'POST') records += JSON.parse(Buffer.concat(chunks).toString('utf8')).records.length;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.add('stop the HTTP target', () => new Promise((resolve) => server.close(resolve)));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/records`,
    records: () => records,
  };
}

export async function runModelBenchmark(argv: string[]): Promise<number> {
  const { options } = parseArgs(argv);
  const rows = Number(options.get('rows') ?? process.env.BENCH_ROWS ?? DEFAULT_ROWS);
  if (!Number.isInteger(rows) || rows < 100) throw new Error('--rows must be an integer of at least 100');
  const store = options.get('store') ?? 'postgres';
  if (store !== 'postgres' && store !== 'embedded') throw new Error('--store must be postgres or embedded');
  const embedded = store === 'embedded';
  const only = options.get('only')?.split(',');
  const unknown = only?.filter((key) => !stepKeys.includes(key));
  if (unknown?.length)
    throw new Error(`--only: unknown step(s) ${unknown.join(', ')}; steps: ${stepKeys.join(', ')}`);
  const runs = (key: string) => !only || only.includes(key);
  const cleanup = new Cleanup();
  const onSignal = () => void cleanup.runAll().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  const results: Row[] = [];
  try {
    const [source, target] = await Promise.all([freshPg(cleanup), freshPg(cleanup)]);
    log(`preparing ${formatInt(rows)} source rows`);
    await source.query(PEOPLE_DDL('people'));
    await source.query(`insert into people select g, 'user' || g || '@example.com', 'Person ' || g, (g * 7) % 1000,
      ((g::bigint * 7919) % 10000000)::numeric / 100, g % 3 = 0, timestamptz '2024-01-01' + g * interval '1 second'
      from generate_series(1, ${rows}) g`);
    // As a table tracked by `updated_at` would be: the runs after the first read through this index.
    await source.query('create index on people (updated_at)');
    await source.query('vacuum (freeze, analyze) people');
    await target.query(`${PEOPLE_DDL('baseline')}; ${PEOPLE_DDL('people')}`);

    // The PG→PG runs' target compares with the baseline's time: without it, no ratio.
    let baselineSeconds: number | undefined;
    if (runs('baseline')) {
      log('baseline: psql COPY | psql \\copy + INSERT ... ON CONFLICT');
      const baseline = await psqlUpsert(source, target, 'people');
      const baselineCount = await count(target, 'baseline');
      results.push({
        scenario: 'PG→PG upsert: psql COPY + INSERT ON CONFLICT (baseline)',
        rows,
        seconds: baseline.seconds,
        perSecond: rows / baseline.seconds,
        target: '',
        check: baselineCount === rows ? 'ok' : `MISMATCH: ${baselineCount}`,
      });
      baselineSeconds = baseline.seconds;
    }

    if (runs('pg'))
      await withFerry(cleanup, embedded, async (ferry) => {
        const { syncId, modelId, sourceId } = await setUpSync(ferry, source, {
          type: 'postgresql',
          configuration: target.config,
          object: 'public.people',
        });
        log('ferry: first run');
        const first = await runSync(ferry, syncId);
        const landed = await count(target, 'people');
        results.push({
          scenario: 'PG→PG model sync updateOrCreate, first run',
          rows,
          seconds: first.seconds,
          perSecond: rows / first.seconds,
          target:
            baselineSeconds === undefined
              ? ''
              : `≥ 0.5× baseline: ${(baselineSeconds / first.seconds).toFixed(2)}×`,
          rssMb: first.rssMb,
          rssAtStartMb: first.rssAtStartMb,
          check:
            first.execution.status === 'completed' && landed === rows
              ? 'ok'
              : `FAILED: ${first.execution.status}, ${landed} rows`,
        });
        /** 1% of the rows (`id % 100 = remainder`) changed, the sync run again. */
        const changedRun = async (scenario: string, remainder: number, touch: string) => {
          const [{ n }] = (await source.query(
            `with changed as (update people set score = score + 1${touch} where id % 100 = ${remainder} returning 1)
            select count(*) as n from changed`,
          )) as [{ n: string }];
          const changed = Number(n);
          log(`ferry: ${scenario}`);
          const again = await runSync(ferry, syncId);
          const [updated] = await target.query<{ n: string }>(
            `select count(*) as n from people where id % 100 = ${remainder} and score = (id * 7) % 1000 + 1`,
          );
          results.push({
            scenario: `PG→PG model sync, ${scenario}`,
            rows: changed,
            seconds: again.seconds,
            perSecond: changed / again.seconds,
            target: `≤ 5% of first: ${((100 * again.seconds) / first.seconds).toFixed(1)}%`,
            rssMb: again.rssMb,
            rssAtStartMb: again.rssAtStartMb,
            check:
              again.execution.counts.total === changed && Number(updated!.n) === changed
                ? 'ok'
                : `MISMATCH: sent ${again.execution.counts.total}, updated ${updated!.n}`,
          });
          return changed;
        };
        const changed = await changedRun(
          'second run after 1% changed (tracking updated_at)',
          0,
          ', updated_at = now()',
        );
        if (baselineSeconds !== undefined) {
          log('baseline: psql upsert of the same changed rows (the floor)');
          const [{ m }] = (await target.query('select max(updated_at)::text as m from baseline')) as [
            { m: string },
          ];
          const floor = await psqlUpsert(
            source,
            target,
            `(select ${COLUMNS.join(', ')} from people where updated_at > $$${m}$$::timestamptz)`,
          );
          const [updated] = await target.query<{ n: string }>(
            'select count(*) as n from baseline where id % 100 = 0 and score = (id * 7) % 1000 + 1',
          );
          results.push({
            scenario: 'PG→PG psql upsert of the same 1%, statements only (floor of the 2nd run)',
            rows: changed,
            seconds: floor.statementSeconds,
            perSecond: changed / floor.statementSeconds,
            target: `${((100 * floor.statementSeconds) / first.seconds).toFixed(1)}% of Ferry's first`,
            check: Number(updated!.n) === changed ? 'ok' : `MISMATCH: updated ${updated!.n}`,
          });
        }
        await api(ferry, 'PUT', `/api/models/${modelId}`, { ...modelBody(sourceId), tracking_columns: [] });
        await changedRun('third run after another 1% changed (content hashes)', 1, '');
      });

    if (runs('http')) {
      const httpTarget = await startHttpTarget(cleanup);
      await withFerry(cleanup, embedded, async (ferry) => {
        const { syncId } = await setUpSync(ferry, source, {
          type: 'http',
          configuration: { url: httpTarget.url, batch_size: 1000 },
          object: 'records',
        });
        log('ferry: model → HTTP API');
        const run = await runSync(ferry, syncId);
        results.push({
          scenario: 'PG→HTTP API model sync (batches of 1000)',
          rows,
          seconds: run.seconds,
          perSecond: rows / run.seconds,
          target: '',
          rssMb: run.rssMb,
          rssAtStartMb: run.rssAtStartMb,
          check: httpTarget.records() === rows ? 'ok' : `MISMATCH: ${httpTarget.records()} records received`,
        });
      });
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    await cleanup.runAll();
  }

  console.log(
    [...machineFacts(), `store:    ${embedded ? 'embedded (PGlite)' : 'PostgreSQL (DATABASE_URL)'}`].join(
      '\n',
    ),
  );
  console.log();
  console.log(
    formatTable([
      [
        'scenario',
        'rows',
        'seconds',
        'rows/s',
        'target',
        `peak RSS MB (< ${RSS_TARGET_MB})`,
        'RSS at start',
        'check',
      ],
      ...results.map((r) => [
        r.scenario,
        formatInt(r.rows),
        formatSeconds(r.seconds),
        formatInt(r.perSecond),
        r.target,
        r.rssMb === undefined ? '' : r.rssMb.toFixed(0),
        r.rssAtStartMb === undefined ? '' : r.rssAtStartMb.toFixed(0),
        r.check,
      ]),
    ]),
  );
  return results.every((r) => r.check === 'ok') ? 0 : 1;
}
