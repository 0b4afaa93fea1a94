import { Command, InvalidArgumentError } from 'commander';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { openCore } from '../app.ts';
import type { Config } from '../config.ts';
import { FerryError } from '../domain/errors.ts';
import { insertApiKey } from '../services/api-keys.ts';
import { ensureDefaultOrganization } from '../services/bootstrap.ts';
import { organizations, users } from '../store/schema.ts';

// A usage error (exit 2), like any other malformed option.
const uuidOption = (value: string) => {
  if (!z.uuid().safeParse(value).success) throw new InvalidArgumentError('must be a UUID');
  return value;
};

export function keysCommand(loadConfig: () => Config): Command {
  const keys = new Command('keys').description('Manage API keys directly on the store');
  keys
    .command('create')
    .description('Create an API key and print it once (an admin key of the default organization by default)')
    .option('--org <id>', 'organization of the key (a non-admin organization key)', uuidOption)
    .option('--user <id>', 'user the key belongs to (within --org)', uuidOption)
    .action(async (options: { org?: string; user?: string }) => {
      const core = await openCore(loadConfig());
      try {
        const db = core.store.db;
        const organizationId = options.org ?? (await ensureDefaultOrganization(db));
        const [org] = await db.select().from(organizations).where(eq(organizations.id, organizationId));
        if (!org) throw new FerryError('not_found', `organization ${organizationId} not found`);
        if (options.user) {
          const [user] = await db.select().from(users).where(eq(users.id, options.user));
          if (user?.organizationId !== organizationId) {
            throw new FerryError(
              'not_found',
              `user ${options.user} not found in organization ${organizationId}`,
            );
          }
        }
        const key = await insertApiKey(db, { organizationId, userId: options.user, isAdmin: !options.org });
        process.stdout.write(`${key.value}\n`);
      } finally {
        await core.store.close();
      }
    });
  return keys;
}
