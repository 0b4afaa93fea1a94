/**
 * `npm run bench -- <benchmark> [options]`: each benchmark prepares its own data, runs Ferry next to
 * a baseline on the same data, prints one table and cleans up. Figures are reported, never asserted.
 */
import { parseArgs } from './support.ts';

const benchmarks: Record<string, { summary: string; run: (argv: string[]) => Promise<number> }> = {
  bulk: {
    summary:
      'bulk syncs: PG→PG snapshot vs psql COPY pipe, replicate after 1% changed, MariaDB→PG vs pgloader, PG→DuckDB, peak RSS 1M vs N rows',
    run: async (argv) => (await import('./bulk.ts')).runBulkBenchmark(argv),
  },
  model: {
    summary:
      'model syncs: PG→PG updateOrCreate vs psql INSERT ON CONFLICT, second run after 1% changed, PG→HTTP API records/s, peak RSS',
    run: async (argv) => (await import('./model.ts')).runModelBenchmark(argv),
  },
  runner: {
    summary:
      'runner on PostgreSQL: start latency p50/p99, N queued runs drained by 1 vs 4 workers, API reads at 50 connections',
    run: async (argv) => (await import('./runner.ts')).runRunnerBenchmark(argv),
  },
};

function usage(): string {
  return [
    'usage: npm run bench -- <benchmark> [options]',
    '',
    'benchmarks:',
    ...Object.entries(benchmarks).map(([name, b]) => `  ${name.padEnd(8)} ${b.summary}`),
    '',
    'options (bulk):',
    '  --rows N        rows of the main table (default 5000000; or BENCH_ROWS)',
    '  --small-rows N  rows of the second snapshot for the RSS comparison (default 1000000)',
    "  --store S       Ferry's metadata store: postgres (default, a fresh database) or embedded",
    '  --only a,b      run only these steps: pipe, snapshot, small, pgloader, mysql, duckdb, replicate',
    '',
    'options (model):',
    '  --rows N        rows of the model (default 1000000; or BENCH_ROWS)',
    "  --store S       Ferry's metadata store: postgres (default) or embedded",
    '',
    'options (runner):',
    '  --runs N        queued runs drained by 1 and by 4 workers (default 1000)',
    '  --samples N     runs timed for the start latency (default 100)',
    '  --seconds N     duration of the API read load (default 10)',
    '  --concurrency N runs per worker process (default 4)',
    "  --wait-ms N     the source's answer time of each drained run: I/O-bound runs (default 1000; 0: tiny runs)",
  ].join('\n');
}

const argv = process.argv.slice(2);
const { words } = parseArgs(argv);
const name = words[0];
const benchmark = name === undefined ? undefined : benchmarks[name];
if (!benchmark) {
  if (name !== undefined && name !== 'help') console.error(`unknown benchmark: ${name}\n`);
  console.error(usage());
  process.exit(2);
}
process.exitCode = await benchmark.run(argv.slice(argv.indexOf(name!) + 1));
