import type { Context, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { FerryError } from '../../../domain/errors.ts';
import { authenticate } from '../../../services/api-keys.ts';
import type { HttpEnv } from '../../env.ts';

const reasons: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const body = (status: number, message: string) => ({
  statusCode: status,
  message,
  error: reasons[status] ?? 'Error',
});

/** Errors of the sync-log API: `{statusCode, message, error}`. Invalid input is a 400. */
export function renderQontextError(error: Error, c: Context<HttpEnv>): Response {
  if (error instanceof FerryError) {
    const status = (error.code === 'validation_failed' ? 400 : error.status) as ContentfulStatusCode;
    return c.json(body(status, error.message), status);
  }
  if (error instanceof HTTPException && error.status < 500) {
    return c.json(body(error.status, error.message || 'bad request'), error.status as ContentfulStatusCode);
  }
  c.var.core.log.error({ err: error, requestId: c.var.requestId }, 'request failed');
  return c.json(body(500, `internal error (request ${c.var.requestId})`), 500);
}

/** Qontext authenticates with the `X-API-Key` header: a Ferry API key. */
export const requireApiKeyHeader: MiddlewareHandler<HttpEnv> = async (c, next) => {
  const key = c.req.header('x-api-key')?.trim();
  if (!key) throw new FerryError('unauthorized', 'missing API key: send X-API-Key: <key>');
  c.set('actor', await authenticate(c.var.core.store.db, key));
  await next();
};
