import { Command } from 'commander';
import type { Config } from '../config.ts';
import { openStore } from '../store/database.ts';
import { migrate } from '../store/migrate.ts';

export function migrateCommand(loadConfig: () => Config): Command {
  return new Command('migrate')
    .description('Apply pending migrations to the metadata store (also done by `ferry serve` on start)')
    .action(async () => {
      const store = await openStore(loadConfig());
      try {
        const applied = await migrate(store);
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'store is up to date\n');
      } finally {
        await store.close();
      }
    });
}
