import type { Context, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { FerryError } from '../../../domain/errors.ts';
import { authenticate } from '../../../services/api-keys.ts';
import { keyFromAuthorization } from '../../auth.ts';
import type { HttpEnv } from '../../env.ts';

/** An error with the code integrator.io documents for the situation (`sync_job_not_cancellable`, …). */
export class CeligoError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: string;
  readonly field: string | undefined;

  constructor(status: ContentfulStatusCode, code: string, message: string, field?: string) {
    super(message);
    this.name = 'CeligoError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** Domain errors a route does not translate itself, in integrator.io's words. */
const codeOf: Partial<Record<FerryError['code'], string>> = {
  not_found: 'invalid_ref',
  bad_request: 'invalid_parameter',
  validation_failed: 'invalid_parameter',
  forbidden: 'forbidden',
  conflict: 'conflict',
  rate_limited: 'rate_limited',
};

/**
 * Renders errors in integrator.io's envelope `{errors: [{code, message, field, source}]}`. A 401
 * is a bare `{message}`, as integrator.io's auth layer answers before any endpoint runs.
 */
export function renderCeligoError(error: Error, c: Context<HttpEnv>): Response {
  const celigo = asCeligoError(error);
  if (!celigo) {
    c.var.core.log.error({ err: error, requestId: c.var.requestId }, 'request failed');
    return c.json(
      { errors: [{ code: 'internal_error', message: `internal error (request ${c.var.requestId})` }] },
      500,
    );
  }
  if (celigo.status === 401) return c.json({ message: 'Bearer Authentication Failed' }, 401);
  return c.json(
    {
      errors: [
        {
          code: celigo.code,
          message: celigo.message,
          ...(celigo.field ? { field: celigo.field } : {}),
          source: 'api',
        },
      ],
    },
    celigo.status,
  );
}

function asCeligoError(error: Error): CeligoError | undefined {
  if (error instanceof CeligoError) return error;
  if (error instanceof FerryError) {
    return new CeligoError(
      error.status as ContentfulStatusCode,
      codeOf[error.code] ?? error.code,
      error.message,
      error.field,
    );
  }
  if (error instanceof HTTPException && error.status < 500) {
    const message = error.status === 413 ? 'request body too large' : error.message || 'bad request';
    return new CeligoError(400, 'invalid_parameter', message, 'body');
  }
  return undefined;
}

/**
 * Bearer auth as integrator.io answers it: `Unauthorized` without an Authorization header,
 * `Bearer Authentication Failed` when the token is not a valid key.
 */
export const requireBearerKey: MiddlewareHandler<HttpEnv> = async (c, next) => {
  const header = c.req.header('authorization');
  if (!header) return c.json({ message: 'Unauthorized' }, 401);
  const key = keyFromAuthorization(header);
  if (!key) return c.json({ message: 'Bearer Authentication Failed' }, 401);
  try {
    c.set('actor', await authenticate(c.var.core.store.db, key));
  } catch (error) {
    if (error instanceof FerryError && error.code === 'unauthorized')
      return c.json({ message: 'Bearer Authentication Failed' }, 401);
    throw error;
  }
  await next();
};

/** Runs `work`, turning the domain errors `translate` names into integrator.io's specific codes. */
export async function translating<T>(
  work: () => Promise<T>,
  translate: Partial<Record<FerryError['code'], CeligoError>>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const specific = error instanceof FerryError ? translate[error.code] : undefined;
    throw specific ?? error;
  }
}
