import { asc, eq, sql } from 'drizzle-orm';
import { FerryError, notFound } from '../domain/errors.ts';
import { isUniqueViolation } from '../store/errors.ts';
import { type OrganizationRow, organizations } from '../store/schema.ts';
import { type Actor, type Core, requireAdmin } from './context.ts';

export interface OrganizationInput {
  name: string;
  ssoDomain?: string | undefined;
  ssoOrgId?: string | undefined;
  issuer?: string | undefined;
}

/** Admins see every organization; any other key sees only its own. */
export async function listOrganizations(core: Core, actor: Actor): Promise<OrganizationRow[]> {
  const query = core.store.db.select().from(organizations).orderBy(asc(organizations.createdAt));
  return actor.isAdmin ? query : query.where(eq(organizations.id, actor.organizationId));
}

export async function getOrganization(core: Core, actor: Actor, id: string): Promise<OrganizationRow> {
  if (!actor.isAdmin && id !== actor.organizationId) throw notFound('organization', id);
  const [row] = await core.store.db.select().from(organizations).where(eq(organizations.id, id));
  if (!row) throw notFound('organization', id);
  return row;
}

export async function createOrganization(
  core: Core,
  actor: Actor,
  input: OrganizationInput,
): Promise<OrganizationRow> {
  requireAdmin(actor);
  try {
    const [row] = await core.store.db.insert(organizations).values(input).returning();
    return row!;
  } catch (error) {
    throw duplicateName(error, input.name);
  }
}

export async function updateOrganization(
  core: Core,
  actor: Actor,
  id: string,
  input: OrganizationInput,
): Promise<OrganizationRow> {
  requireAdmin(actor);
  await getOrganization(core, actor, id);
  try {
    const [row] = await core.store.db
      .update(organizations)
      .set({ ...input, updatedAt: sql`now()` })
      .where(eq(organizations.id, id))
      .returning();
    return row!;
  } catch (error) {
    throw duplicateName(error, input.name);
  }
}

/** Deletes an organization and, by cascade, everything it owns. An admin cannot delete its own. */
export async function deleteOrganization(core: Core, actor: Actor, id: string): Promise<void> {
  requireAdmin(actor);
  await getOrganization(core, actor, id);
  if (id === actor.organizationId) {
    throw new FerryError('conflict', 'an admin key cannot delete the organization it belongs to');
  }
  await core.store.db.delete(organizations).where(eq(organizations.id, id));
}

function duplicateName(error: unknown, name: string): unknown {
  return isUniqueViolation(error)
    ? new FerryError('conflict', `an organization named "${name}" already exists`, { field: 'name' })
    : error;
}
