import { Command, Option } from 'commander';
import { startFerry } from '../app.ts';
import type { Config } from '../config.ts';

export function serveCommand(loadConfig: () => Config): Command {
  return new Command('serve')
    .description('Run the API, the dashboard and an in-process worker (what `npm start` runs)')
    .addOption(new Option('-p, --port <port>', 'HTTP port (overrides PORT)'))
    .option('--no-worker', 'serve the API only; run `ferry worker` processes for the jobs')
    .action(async (options: { port?: string; worker: boolean }) => {
      const config = loadConfig();
      const port = options.port === undefined ? config.port : Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new Error(`invalid port: ${options.port}`);
      const ferry = await startFerry({ ...config, port }, { worker: options.worker });
      if (ferry.firstAdminKey && !config.apiKey) {
        process.stdout.write(
          `\nFerry created its first admin API key. It is shown only this once; store it now:\n\n  ${ferry.firstAdminKey}\n\n`,
        );
      }
      process.stdout.write(
        `Ferry listening on http://localhost:${ferry.http.port} (store: ${ferry.core.store.kind})\n` +
          `MCP server on http://localhost:${ferry.mcp.port}/ (also /mcp on the main port)\n`,
      );
      const shutdown = (signal: string) => {
        ferry.core.log.info({ signal }, 'shutting down');
        const timer = setTimeout(() => process.exit(1), 20_000);
        timer.unref();
        ferry.stop().then(
          () => process.exit(0),
          (error) => {
            ferry.core.log.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    });
}
