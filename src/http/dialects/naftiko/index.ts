import { z } from '@hono/zod-openapi';
import type { Context, Hono } from 'hono';
import type { ApiFetch } from '../../api-client.ts';
import type { HttpApp } from '../../env.ts';
import { apiPath, naftikoResources, routePattern } from './resources.ts';

/** Request headers the adapter passes on: the caller's key and version, and the body's type. */
const requestHeaders = ['authorization', 'x-polytomic-version', 'content-type', 'accept'];
/** Response headers worth keeping; transfer encodings are the adapter's own business. */
const responseHeaders = ['content-type', 'retry-after', 'content-disposition'];

/**
 * The Naftiko REST adapter: every resource of the seed capabilities under `/v1/api/...`, answered
 * by the Polytomic-compatible API (`/api/...` in process, or an upstream) with its handlers, status
 * codes and envelopes unchanged.
 */
// biome-ignore lint/suspicious/noExplicitAny: mounts on any Hono app (the API's or the MCP gateway's)
export function naftikoRoutes(app: Hono<any>, api: ApiFetch): void {
  for (const resource of naftikoResources) {
    app.on(resource.method, routePattern(resource.path), (c) =>
      forward(c, api, apiPath(resource.path, c.req.param() as Record<string, string>)),
    );
  }
}

/** Lists the adapter's resources in the OpenAPI document, each pointing at the `/api` route it answers as. */
export function documentNaftikoRoutes(app: HttpApp): void {
  for (const resource of naftikoResources) {
    const names = [...resource.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);
    app.openAPIRegistry.registerPath({
      method: resource.method.toLowerCase() as Lowercase<typeof resource.method>,
      path: resource.path,
      tags: ['Naftiko REST adapter'],
      summary: `${resource.method} ${resource.path.slice('/v1'.length)}, same handler and envelope`,
      security: [{ bearerAuth: [] }],
      request: names.length
        ? { params: z.object(Object.fromEntries(names.map((name) => [name, z.string()]))) }
        : undefined,
      responses: { 200: { description: 'The response of the `/api` route, status and envelope included' } },
    });
  }
}

async function forward(c: Context, api: ApiFetch, path: string): Promise<Response> {
  const headers = new Headers();
  for (const name of requestHeaders) {
    const value = c.req.header(name);
    if (value !== undefined) headers.set(name, value);
  }
  const query = new URL(c.req.url).search;
  const hasBody = c.req.method !== 'GET' && c.req.method !== 'DELETE';
  let response: Response;
  try {
    response = await api(`${path}${query}`, {
      method: c.req.method,
      headers,
      body: hasBody ? await c.req.arrayBuffer() : undefined,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return c.json(
      { status: 502, message: `the API could not be reached: ${reason}`, key: 'bad_gateway' },
      502,
    );
  }
  const out = new Headers();
  for (const name of responseHeaders) {
    const value = response.headers.get(name);
    if (value !== null) out.set(name, value);
  }
  return new Response(response.body, { status: response.status, headers: out });
}
