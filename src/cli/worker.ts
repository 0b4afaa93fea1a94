import { Command, Option } from 'commander';
import { startWorker } from '../app.ts';
import type { Config } from '../config.ts';
import { defaultGraceSeconds, exitMarginMs, exitOnSignals, integerAtLeast } from './shutdown.ts';

export function workerCommand(loadConfig: () => Config): Command {
  return new Command('worker')
    .description(
      'Run jobs (sync runs, schedules, log exports, webhooks) from the queue in the store; with DATABASE_URL any number of workers and `serve --no-worker` replicas share the work',
    )
    .addOption(
      new Option(
        '-c, --concurrency <runs>',
        'sync runs of each kind (bulk, model) this process executes at the same time',
      )
        .default(4)
        .argParser(integerAtLeast('--concurrency', 1)),
    )
    .addOption(
      new Option(
        '--grace <seconds>',
        'on SIGTERM, seconds running tables may take to commit before their run is handed back',
      )
        .default(defaultGraceSeconds)
        .argParser(integerAtLeast('--grace', 0)),
    )
    .action(async (options: { concurrency: number; grace: number }) => {
      const config = loadConfig();
      if (!config.databaseUrl) {
        // The embedded store belongs to the one process that opened it, and `ferry serve` runs a worker.
        throw new Error(
          'ferry worker needs DATABASE_URL (a PostgreSQL store shared with `ferry serve --no-worker`)',
        );
      }
      const worker = await startWorker(config, {
        concurrency: options.concurrency,
        graceMs: options.grace * 1000,
      });
      exitOnSignals(worker.stop, worker.core.log, options.grace * 1000 + exitMarginMs);
    });
}
