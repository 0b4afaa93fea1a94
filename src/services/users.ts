import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { FerryError, notFound } from '../domain/errors.ts';
import { isUniqueViolation } from '../store/errors.ts';
import { apiKeys, type UserRow, users } from '../store/schema.ts';
import { insertApiKey } from './api-keys.ts';
import { type Actor, type Core, requireAdmin } from './context.ts';
import { getOrganization } from './organizations.ts';

export interface UserInput {
  email: string;
  role?: string | undefined;
}

export async function listUsers(core: Core, actor: Actor, orgId: string): Promise<UserRow[]> {
  await getOrganization(core, actor, orgId);
  return core.store.db
    .select()
    .from(users)
    .where(eq(users.organizationId, orgId))
    .orderBy(asc(users.createdAt));
}

export async function getUser(core: Core, actor: Actor, orgId: string, id: string): Promise<UserRow> {
  await getOrganization(core, actor, orgId);
  const [row] = await core.store.db
    .select()
    .from(users)
    .where(and(eq(users.id, id), eq(users.organizationId, orgId)));
  if (!row) throw notFound('user', id);
  return row;
}

export async function createUser(
  core: Core,
  actor: Actor,
  orgId: string,
  input: UserInput,
): Promise<UserRow> {
  requireAdmin(actor);
  await getOrganization(core, actor, orgId);
  try {
    const [row] = await core.store.db
      .insert(users)
      .values({ organizationId: orgId, email: input.email, role: input.role ?? 'admin' })
      .returning();
    return row!;
  } catch (error) {
    throw duplicateEmail(error, input.email);
  }
}

export async function updateUser(core: Core, actor: Actor, orgId: string, id: string, input: UserInput) {
  requireAdmin(actor);
  await getUser(core, actor, orgId, id);
  try {
    const [row] = await core.store.db
      .update(users)
      .set({ email: input.email, ...(input.role ? { role: input.role } : {}), updatedAt: sql`now()` })
      .where(eq(users.id, id))
      .returning();
    return row!;
  } catch (error) {
    throw duplicateEmail(error, input.email);
  }
}

/** Deletes a user; its keys go with it (cascade), so they stop working at once. */
export async function deleteUser(core: Core, actor: Actor, orgId: string, id: string): Promise<UserRow> {
  requireAdmin(actor);
  const user = await getUser(core, actor, orgId, id);
  await core.store.db.delete(users).where(eq(users.id, id));
  return user;
}

/**
 * Issues a user's API key. A user holds one active key: a second request is a conflict unless
 * `force`, which revokes the old key in the same transaction.
 */
export async function createUserApiKey(
  core: Core,
  actor: Actor,
  orgId: string,
  userId: string,
  force: boolean,
) {
  requireAdmin(actor);
  await getUser(core, actor, orgId, userId);
  return core.store.db.transaction(async (tx) => {
    const active = and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt));
    const existing = await tx.select({ id: apiKeys.id }).from(apiKeys).where(active).for('update');
    if (existing.length > 0 && !force) {
      throw new FerryError('conflict', 'the user already has an API key; pass force=true to replace it', {
        field: 'force',
      });
    }
    await tx.update(apiKeys).set({ revokedAt: sql`now()` }).where(active);
    return insertApiKey(tx, { organizationId: orgId, userId });
  });
}

function duplicateEmail(error: unknown, email: string): unknown {
  return isUniqueViolation(error)
    ? new FerryError('conflict', `a user with email ${email} already exists in this organization`, {
        field: 'email',
      })
    : error;
}
