import { Command, Option } from 'commander';
import { startFerry } from '../app.ts';
import type { Config } from '../config.ts';
import { defaultGraceSeconds, exitMarginMs, exitOnSignals, integerAtLeast } from './shutdown.ts';

export function serveCommand(loadConfig: () => Config): Command {
  return new Command('serve')
    .description('Run the API, the dashboard and an in-process worker (what `npm start` runs)')
    .addOption(new Option('-p, --port <port>', 'HTTP port (overrides PORT)'))
    .option('--no-worker', 'serve the API only; run `ferry worker` processes for the jobs')
    .addOption(
      new Option(
        '-c, --concurrency <runs>',
        'sync runs of each kind (bulk, model) the in-process worker executes at the same time',
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
    .action(async (options: { port?: string; worker: boolean; concurrency: number; grace: number }) => {
      const config = loadConfig();
      const port = options.port === undefined ? config.port : Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new Error(`invalid port: ${options.port}`);
      const ferry = await startFerry(
        { ...config, port },
        { worker: options.worker, concurrency: options.concurrency, graceMs: options.grace * 1000 },
      );
      if (ferry.firstAdminKey && !config.apiKey) {
        process.stdout.write(
          `\nFerry created its first admin API key. It is shown only this once; store it now:\n\n  ${ferry.firstAdminKey}\n\n`,
        );
      }
      process.stdout.write(
        `Ferry listening on http://localhost:${ferry.http.port} (store: ${ferry.core.store.kind})\n` +
          `MCP server on http://localhost:${ferry.mcp.port}/ (also /mcp on the main port)\n`,
      );
      exitOnSignals(ferry.stop, ferry.core.log, options.grace * 1000 + exitMarginMs);
    });
}
