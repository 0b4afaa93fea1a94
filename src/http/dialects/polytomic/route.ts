import { createRoute, type RouteConfig, type z } from '@hono/zod-openapi';
import { errorResponses } from './errors.ts';
import { apiError, restErrResponse } from './schemas.ts';

type Responses = RouteConfig['responses'];

const errorContent = (status: number) => ({
  description: errorResponses[status as keyof typeof errorResponses],
  content: { 'application/json': { schema: status === 401 ? restErrResponse : apiError } },
});

const standardErrors = Object.fromEntries(
  Object.keys(errorResponses).map((s) => [s, errorContent(Number(s))]),
);

/** A Polytomic route: bearer auth, the standard error responses, JSON bodies. */
export function polytomicRoute<R extends Omit<RouteConfig, 'responses'> & { responses: Responses }>(
  config: R & { tags: string[] },
) {
  return createRoute({
    ...config,
    security: [{ bearerAuth: [] }],
    responses: { ...standardErrors, ...config.responses },
  });
}

export const json = <T extends z.ZodType>(schema: T, description = 'OK') => ({
  description,
  content: { 'application/json': { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

export const noContent = { description: 'No content' };
