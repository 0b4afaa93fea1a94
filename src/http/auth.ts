import type { MiddlewareHandler } from 'hono';
import { FerryError } from '../domain/errors.ts';
import { authenticate } from '../services/api-keys.ts';
import type { HttpEnv } from './env.ts';

/**
 * Reads the API key from `Authorization: Bearer <key>`, or from Basic credentials where an
 * organization-scoped key may stand as the user name or the password.
 */
export function keyFromAuthorization(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (!value) return undefined;
  if (/^bearer$/i.test(scheme!)) return value;
  if (/^basic$/i.test(scheme!)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const [user, password] = colon < 0 ? [decoded, ''] : [decoded.slice(0, colon), decoded.slice(colon + 1)];
    return user || password || undefined;
  }
  return undefined;
}

export const requireApiKey: MiddlewareHandler<HttpEnv> = async (c, next) => {
  const key = keyFromAuthorization(c.req.header('authorization'));
  if (!key) throw new FerryError('unauthorized', 'missing API key: send Authorization: Bearer <key>');
  c.set('actor', await authenticate(c.var.core.store.db, key));
  await next();
};
