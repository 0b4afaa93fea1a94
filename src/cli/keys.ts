import { Command } from 'commander';
import { eq } from 'drizzle-orm';
import { openCore } from '../app.ts';
import type { Config } from '../config.ts';
import { FerryError } from '../domain/errors.ts';
import { insertApiKey } from '../services/api-keys.ts';
import { defaultOrganizationName } from '../services/bootstrap.ts';
import { organizations, users } from '../store/schema.ts';

export function keysCommand(loadConfig: () => Config): Command {
  const keys = new Command('keys').description('Manage API keys directly on the store');
  keys
    .command('create')
    .description('Create an API key and print it once (an admin key of the default organization by default)')
    .option('--org <id>', 'organization of the key (a non-admin organization key)')
    .option('--user <id>', 'user the key belongs to (within --org)')
    .action(async (options: { org?: string; user?: string }) => {
      const core = await openCore(loadConfig());
      try {
        const db = core.store.db;
        const [org] = options.org
          ? await db.select().from(organizations).where(eq(organizations.id, options.org))
          : await db.select().from(organizations).where(eq(organizations.name, defaultOrganizationName));
        if (!org)
          throw new FerryError(
            'not_found',
            `organization ${options.org ?? defaultOrganizationName} not found`,
          );
        if (options.user) {
          const [user] = await db.select().from(users).where(eq(users.id, options.user));
          if (user?.organizationId !== org.id)
            throw new FerryError('not_found', `user ${options.user} not found`);
        }
        const key = await insertApiKey(db, {
          organizationId: org.id,
          userId: options.user,
          isAdmin: !options.org,
        });
        process.stdout.write(`${key.value}\n`);
      } finally {
        await core.store.close();
      }
    });
  return keys;
}
