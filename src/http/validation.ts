import { OpenAPIHono } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import { FerryError } from '../domain/errors.ts';
import type { HttpEnv } from './env.ts';

/** Turns the first zod issue into a 422 naming the field at fault (`configuration.port`, `limit`). */
export function validationError(error: ZodError, target?: string): FerryError {
  const issue = error.issues[0]!;
  const path = issue.path.map(String).join('.');
  const field = path || (target === 'json' ? 'body' : (target ?? 'body'));
  return new FerryError('validation_failed', `${field}: ${issue.message}`, { field });
}

/** A router whose every zod-validated input fails with a FerryError, so each face renders it in its envelope. */
export function createRouter(): OpenAPIHono<HttpEnv> {
  return new OpenAPIHono<HttpEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error, result.target);
    },
  });
}
