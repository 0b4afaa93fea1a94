import { eq } from 'drizzle-orm';
import { organizations, users } from '../store/schema.ts';
import type { Actor, Core } from './context.ts';

export interface Identity {
  userId: string | null;
  email: string | null;
  role: string | null;
  organizationId: string;
  organizationName: string;
  isUser: boolean;
  isAdmin: boolean;
}

/** Who the caller is (`GET /api/me`). */
export async function whoAmI(core: Core, actor: Actor): Promise<Identity> {
  const [org] = await core.store.db
    .select({ name: organizations.name })
    .from(organizations)
    .where(eq(organizations.id, actor.organizationId));
  const [user] = actor.userId
    ? await core.store.db
        .select({ email: users.email, role: users.role })
        .from(users)
        .where(eq(users.id, actor.userId))
    : [];
  return {
    userId: actor.userId,
    email: user?.email ?? null,
    role: user?.role ?? null,
    organizationId: actor.organizationId,
    organizationName: org?.name ?? '',
    isUser: actor.userId !== null,
    isAdmin: actor.isAdmin,
  };
}
