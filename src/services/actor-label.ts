import { eq } from 'drizzle-orm';
import { users } from '../store/schema.ts';
import type { Actor, Core } from './context.ts';

/** Who acted, as run histories show it: `user:<email>` for a user's key, `key:<id>` for an organization key. */
export async function actorLabel(core: Core, actor: Actor): Promise<string> {
  if (actor.userId) {
    const [user] = await core.store.db
      .select({ email: users.email })
      .from(users)
      .where(eq(users.id, actor.userId));
    if (user) return `user:${user.email}`;
  }
  return `key:${actor.keyId}`;
}
