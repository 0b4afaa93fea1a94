import { Command } from 'commander';
import { configVariables, loadConfig } from '../config.ts';
import { isFerryError } from '../domain/errors.ts';
import { ApiError } from './commands/client.ts';
import { connectionsCommand } from './commands/connections.ts';
import { demoCommand } from './commands/demo.ts';
import { executionsCommand } from './commands/executions.ts';
import { logsCommand } from './commands/logs.ts';
import { runCommand } from './commands/run.ts';
import { syncsCommand } from './commands/syncs.ts';

const environmentHelp = `\nEnvironment:\n${configVariables
  .map(([name, fallback, about]) => `  ${name.padEnd(18)} ${about} (default: ${fallback})`)
  .join('\n')}\n`;

const program = new Command('ferry')
  .description('Ferry: self-hosted data syncs with a Polytomic-compatible API')
  .addHelpText('after', environmentHelp);

const apiCommands = [
  connectionsCommand(),
  syncsCommand(),
  executionsCommand(),
  logsCommand(),
  runCommand(),
  demoCommand(loadConfig),
];
// The server's commands load the whole platform (store, engine, connectors): seconds of start-up that
// the API commands, plain HTTP clients of a running server, have no use for.
if (!apiCommands.some((command) => command.name() === process.argv[2])) {
  const [{ serveCommand }, { workerCommand }, { migrateCommand }, { keysCommand }, { mcpCommand }] =
    await Promise.all([
      import('./serve.ts'),
      import('./worker.ts'),
      import('./migrate.ts'),
      import('./keys.ts'),
      import('./mcp.ts'),
    ]);
  program.addCommand(serveCommand(loadConfig).addHelpText('after', environmentHelp));
  program.addCommand(workerCommand(loadConfig).addHelpText('after', environmentHelp));
  program.addCommand(migrateCommand(loadConfig));
  program.addCommand(keysCommand(loadConfig));
  program.addCommand(mcpCommand(loadConfig));
}
for (const command of apiCommands) program.addCommand(command);

/**
 * Exit codes: 0 success, 1 failure (an API error, a failed run, a server that cannot start),
 * 2 usage error (unknown option, missing argument), so that scripts can tell them apart.
 * Commander does not pass these settings on to commands added with addCommand, hence the walk.
 */
const usageExitCode = 2;
(function configure(command: Command, path: string) {
  command
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : usageExitCode))
    .showHelpAfterError(command === program ? true : `(run \`${path} --help\` for usage)`);
  for (const sub of command.commands) configure(sub, `${path} ${sub.name()}`);
})(program, 'ferry');

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const message =
    error instanceof ApiError
      ? error.describe()
      : isFerryError(error) || error instanceof Error
        ? error.message
        : String(error);
  console.error(`ferry: ${message}`);
  // Exit now: a half-started server may still hold handles (store, timers) that keep Node alive.
  process.exit(1);
}
