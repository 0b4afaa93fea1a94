import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { FerryError } from '../../../domain/errors.ts';
import type { HttpEnv } from '../../env.ts';

/**
 * Polytomic's error envelopes: `ApiError` `{status, message, key, metadata}` for every status but
 * 401, which is a `RestErrResponse` `{status, code, error}`. Internals never leave: a 500 carries only
 * the request id to quote in a support request.
 */
export function renderPolytomicError(error: Error, c: Context<HttpEnv>): Response {
  const ferryError = asFerryError(error);
  if (!ferryError) {
    c.var.core.log.error({ err: error, requestId: c.var.requestId }, 'request failed');
    return c.json(
      {
        status: 500,
        message: 'internal server error',
        key: 'internal',
        metadata: { request_id: c.var.requestId },
      },
      500,
    );
  }
  const status = ferryError.status as ContentfulStatusCode;
  if (status === 401) return c.json({ status: 'Unauthorized', code: 401, error: ferryError.message }, 401);
  const metadata = { ...ferryError.metadata, ...(ferryError.field ? { field: ferryError.field } : {}) };
  return c.json(
    {
      status,
      message: ferryError.message,
      key: ferryError.code,
      ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
    },
    status,
  );
}

/** Errors raised by hono itself (malformed JSON, body too large) are client errors with a clear message. */
function asFerryError(error: Error): FerryError | undefined {
  if (error instanceof FerryError) return error;
  if (error instanceof HTTPException && error.status < 500) {
    const code = error.status === 401 ? 'unauthorized' : error.status === 404 ? 'not_found' : 'bad_request';
    const message = error.status === 413 ? 'request body too large' : error.message || 'bad request';
    return new FerryError(code, message, { field: 'body' });
  }
  return undefined;
}

export const errorResponses = {
  400: 'Bad request',
  401: 'Missing, invalid or revoked API key',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  422: 'Invalid input: `metadata.field` names the field at fault',
  429: 'Too many requests',
  500: 'Internal server error',
} as const;
