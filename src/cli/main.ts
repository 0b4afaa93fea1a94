import { Command } from 'commander';
import { configVariables, loadConfig } from '../config.ts';
import { isFerryError } from '../domain/errors.ts';
import { keysCommand } from './keys.ts';
import { mcpCommand } from './mcp.ts';
import { migrateCommand } from './migrate.ts';
import { serveCommand } from './serve.ts';
import { workerCommand } from './worker.ts';

const environmentHelp = `\nEnvironment:\n${configVariables
  .map(([name, fallback, about]) => `  ${name.padEnd(18)} ${about} (default: ${fallback})`)
  .join('\n')}\n`;

const program = new Command('ferry')
  .description('Ferry: self-hosted data syncs with a Polytomic-compatible API')
  .showHelpAfterError()
  .addHelpText('after', environmentHelp);

program.addCommand(serveCommand(loadConfig).addHelpText('after', environmentHelp));
program.addCommand(workerCommand(loadConfig).addHelpText('after', environmentHelp));
program.addCommand(migrateCommand(loadConfig));
program.addCommand(keysCommand(loadConfig));
program.addCommand(mcpCommand(loadConfig));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(
    `ferry: ${isFerryError(error) ? error.message : error instanceof Error ? error.message : String(error)}`,
  );
  // Exit now: a half-started server may still hold handles (store, timers) that keep Node alive.
  process.exit(1);
}
