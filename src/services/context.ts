import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { FerryError } from '../domain/errors.ts';
import type { JobQueue } from '../runner/queue.ts';
import type { Store } from '../store/database.ts';
import type { SecretBox } from '../store/secret-box.ts';

/** What every domain operation may use: injected once at start-up, the same for every face. */
export interface Core {
  config: Config;
  store: Store;
  secrets: SecretBox;
  /** Signs expiring download URLs (record logs, exports). */
  signingKey: string;
  queue: JobQueue;
  log: Logger;
}

/** The caller of an operation, resolved from its API key. */
export interface Actor {
  keyId: string;
  organizationId: string;
  userId: string | null;
  /** Admin (partner) keys manage organizations, users and keys, and may act inside any organization. */
  isAdmin: boolean;
}

export function requireAdmin(actor: Actor): void {
  if (!actor.isAdmin) throw new FerryError('forbidden', 'this operation needs an admin key');
}

/** The organization an operation acts in: the caller's own, or one an admin names explicitly. */
export function targetOrganization(actor: Actor, requested?: string): string {
  if (!requested || requested === actor.organizationId) return actor.organizationId;
  if (!actor.isAdmin) {
    throw new FerryError('forbidden', 'a key may only act inside its own organization', {
      field: 'organization_id',
    });
  }
  return requested;
}
