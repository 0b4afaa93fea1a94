import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Context } from 'hono';
import { isFerryError } from '../domain/errors.ts';
import type { ApiFetch } from '../http/api-client.ts';
import { keyFromAuthorization } from '../http/auth.ts';
import { createMcpServer } from './server.ts';

export interface McpHttpOptions {
  api: ApiFetch;
  /** Rejects a key before any MCP work (the local store's keys); an upstream checks keys itself. */
  verifyKey?: (key: string) => Promise<unknown>;
  /** Base of the API's relative links; the origin of the MCP request by default. */
  baseUrl?: string;
}

/**
 * Streamable HTTP, stateless: every POST carries the caller's bearer key and gets a server of its own
 * acting with that key, so any replica can answer any request and tenancy is the API's. There is no
 * server-initiated stream, hence 405 on GET and DELETE (which the spec allows).
 */
export function mcpHttpHandler(options: McpHttpOptions) {
  return async (c: Context): Promise<Response> => {
    if (c.req.method !== 'POST') {
      return c.json(rpcError('this MCP endpoint is stateless: send JSON-RPC requests with POST'), 405, {
        allow: 'POST',
      });
    }
    const authorization = c.req.header('authorization');
    const key = keyFromAuthorization(authorization);
    if (!key) return unauthorized(c, 'missing API key: send Authorization: Bearer <key>');
    if (options.verifyKey) {
      try {
        await options.verifyKey(key);
      } catch (error) {
        if (isFerryError(error) && error.status === 401) return unauthorized(c, error.message);
        throw error;
      }
    }
    const server = createMcpServer({
      api: options.api,
      credentials: { authorization: authorization!, version: c.req.header('x-polytomic-version') },
      baseUrl: options.baseUrl ?? new URL(c.req.url).origin,
    });
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    try {
      return await transport.handleRequest(c.req.raw);
    } finally {
      await server.close();
    }
  };
}

const rpcError = (message: string) => ({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });

function unauthorized(c: Context, message: string): Response {
  return c.json({ status: 'Unauthorized', code: 401, error: message }, 401, {
    'www-authenticate': 'Bearer realm="ferry"',
  });
}
