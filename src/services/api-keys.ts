import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { FerryError } from '../domain/errors.ts';
import type { Db } from '../store/database.ts';
import { preparedQuery } from '../store/prepared.ts';
import { apiKeys, organizations } from '../store/schema.ts';
import type { Actor } from './context.ts';

const keyPrefix = 'fy_';

export const hashApiKey = (value: string) => createHash('sha256').update(value).digest('hex');

/** A new random key; only its hash is stored, so the value is shown to the caller once. */
export function generateApiKey(): string {
  return `${keyPrefix}${randomBytes(32).toString('base64url')}`;
}

export interface NewKey {
  organizationId: string;
  userId?: string | null;
  isAdmin?: boolean;
  /** A value chosen by the operator (FERRY_API_KEY); generated when absent. */
  value?: string;
}

export async function insertApiKey(
  db: Pick<Db, 'insert'>,
  key: NewKey,
): Promise<{ id: string; value: string }> {
  const value = key.value ?? generateApiKey();
  const [row] = await db
    .insert(apiKeys)
    .values({
      organizationId: key.organizationId,
      userId: key.userId ?? null,
      isAdmin: key.isAdmin ?? false,
      hash: hashApiKey(value),
      prefix: value.slice(0, 8),
    })
    .returning({ id: apiKeys.id });
  return { id: row!.id, value };
}

const keyByHash = preparedQuery((db) =>
  db
    .select({
      id: apiKeys.id,
      organizationId: apiKeys.organizationId,
      userId: apiKeys.userId,
      isAdmin: apiKeys.isAdmin,
    })
    .from(apiKeys)
    .innerJoin(organizations, eq(organizations.id, apiKeys.organizationId))
    .where(and(eq(apiKeys.hash, sql.placeholder('hash')), isNull(apiKeys.revokedAt)))
    .prepare('ferry_api_key_by_hash'),
);

/** Resolves a presented key to its actor; unknown, revoked and orphaned keys are all "invalid". */
export async function authenticate(db: Db, value: string): Promise<Actor> {
  const [row] = await keyByHash(db).execute({ hash: hashApiKey(value) });
  if (!row) throw new FerryError('unauthorized', 'invalid or revoked API key');
  return { keyId: row.id, organizationId: row.organizationId, userId: row.userId, isAdmin: row.isAdmin };
}

export async function revokeApiKey(db: Db, id: string): Promise<boolean> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}
