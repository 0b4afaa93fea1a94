import { eq, sql } from 'drizzle-orm';
import { FerryError } from '../domain/errors.ts';
import type { Db, Store } from '../store/database.ts';
import { apiKeys, organizations, settings } from '../store/schema.ts';
import type { SecretBox } from '../store/secret-box.ts';
import { insertApiKey } from './api-keys.ts';

export const defaultOrganizationName = 'Default';

/**
 * First start of a store: creates the default organization and its admin key (FERRY_API_KEY when
 * given, otherwise a generated one returned so the caller can print it once). Runs under an advisory
 * lock so replicas starting together create exactly one.
 */
export async function ensureAdminKey(
  store: Store,
  presetKey?: string,
): Promise<{ created: boolean; key?: string }> {
  return store.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('ferry:bootstrap'))`);
    const [any] = await tx.select({ id: apiKeys.id }).from(apiKeys).limit(1);
    if (any) return { created: false };
    const organizationId = await ensureDefaultOrganization(tx);
    const key = await insertApiKey(tx, { organizationId, isAdmin: true, value: presetKey });
    return { created: true, key: key.value };
  });
}

/** The organization admin keys belong to, created on first use. */
export async function ensureDefaultOrganization(db: Pick<Db, 'select' | 'insert'>): Promise<string> {
  const [org] = await db
    .insert(organizations)
    .values({ name: defaultOrganizationName })
    .onConflictDoNothing()
    .returning({ id: organizations.id });
  if (org) return org.id;
  const [existing] = await db
    .select({ id: organizations.id })
    .from(organizations)
    .where(eq(organizations.name, defaultOrganizationName));
  return existing!.id;
}

/**
 * Records which secret key seals this store's connection secrets, and refuses another one: a process
 * started with the wrong FERRY_SECRET_KEY must fail loudly rather than write secrets no one can read.
 */
export async function checkSecretKey(store: Store, secrets: SecretBox): Promise<void> {
  await store.db
    .insert(settings)
    .values({ key: 'secret_key_fingerprint', value: secrets.fingerprint })
    .onConflictDoNothing();
  const [row] = await store.db.select().from(settings).where(eq(settings.key, 'secret_key_fingerprint'));
  if (row?.value !== secrets.fingerprint) {
    throw new FerryError(
      'bad_request',
      'FERRY_SECRET_KEY does not match the key this store was created with; use the original key',
      { field: 'FERRY_SECRET_KEY' },
    );
  }
}
