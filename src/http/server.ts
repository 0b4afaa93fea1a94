import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { mcpHttpHandler } from '../mcp/http.ts';
import { authenticate } from '../services/api-keys.ts';
import type { Core } from '../services/context.ts';
import { localApi } from './api-client.ts';
import { celigoApi } from './dialects/celigo/index.ts';
import { documentNaftikoRoutes, naftikoRoutes } from './dialects/naftiko/index.ts';
import { polytomicApi } from './dialects/polytomic/index.ts';
import { qontextApi } from './dialects/qontext/index.ts';
import { downloadRoutes } from './downloads.ts';
import type { HttpApp } from './env.ts';
import { metricsRoutes } from './metrics.ts';
import { operationRoutes } from './operations.ts';
import { createRouter } from './validation.ts';
import { webRoutes } from './web.ts';

/**
 * A request that says its body is JSON but sends none (`curl -X POST -H 'Content-Type:
 * application/json'`, a start or cancel without options) has no body, rather than malformed JSON:
 * routes whose body is optional take it as absent, the others name the missing fields. A copy of the
 * body is read to know (the request keeps its own for the routes): headers alone cannot tell, as an
 * in-process request (MCP tools, the Naftiko adapter) has neither Content-Length nor Transfer-Encoding.
 */
export const emptyJsonIsNoBody: MiddlewareHandler = async (c, next) => {
  const type = c.req.header('content-type');
  if (type && /json/i.test(type) && (await c.req.raw.clone().text()).trim() === '') {
    const headers = new Headers(c.req.raw.headers);
    headers.delete('content-type');
    c.req.raw = new Request(c.req.raw.url, { method: c.req.method, headers, signal: c.req.raw.signal });
  }
  await next();
};

export function createHttpApp(core: Core): HttpApp {
  const app = createRouter();
  app.use('*', requestId());
  app.use('*', async (c, next) => {
    c.set('core', core);
    const started = performance.now();
    await next();
    core.log.info(
      {
        requestId: c.var.requestId,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      'request',
    );
  });
  app.use('*', bodyLimit({ maxSize: 10 * 1024 * 1024 }));
  app.use('*', emptyJsonIsNoBody);
  operationRoutes(app);
  metricsRoutes(app, core);
  downloadRoutes(app);
  app.route('/api', polytomicApi(core.config.rateLimit));
  // MCP tools and the Naftiko adapter call this very app, so `/api`'s auth and envelopes apply to them.
  const api = localApi(app);
  app.all('/mcp', mcpHttpHandler({ api, verifyKey: (key) => authenticate(core.store.db, key) }));
  naftikoRoutes(app, api);
  documentNaftikoRoutes(app);
  app.route('/', celigoApi(core.config.rateLimit));
  app.route('/', qontextApi(core.config.rateLimit));
  // Last: the dashboard only answers what no API route matched.
  webRoutes(app);
  app.notFound((c) =>
    c.json({ status: 404, message: `no route for ${c.req.method} ${c.req.path}`, key: 'not_found' }, 404),
  );
  app.onError((error, c) => {
    core.log.error({ err: error, requestId: c.var.requestId }, 'request failed');
    return c.json({ status: 500, message: 'internal server error', key: 'internal' }, 500);
  });
  return app;
}

/**
 * The standalone MCP port: Streamable HTTP at `/` (and `/mcp`); every other path is the main app's,
 * so that the API links in tool results (jobs, signed downloads) resolve against this origin too.
 */
export function createMcpPortApp(main: HttpApp): Hono {
  const app = new Hono();
  app.all('/', (c) => main.fetch(new Request(new URL('/mcp', c.req.url), c.req.raw)));
  app.all('*', (c) => main.fetch(c.req.raw));
  return app;
}

export interface HttpServer {
  port: number;
  close(): Promise<void>;
}

export async function listen(app: { fetch: HttpApp['fetch'] }, port: number): Promise<HttpServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: '0.0.0.0' }, (info: AddressInfo) => {
      resolve({
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Idle keep-alive sockets would hold close() open; in-flight requests still finish.
            (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
          }),
      });
    });
    server.once('error', reject);
    // Idle keep-alive connections outlive any client's: clients close theirs before the server's
    // timeout (undici: the server's `Keep-Alive: timeout` less 2 s; load balancers: 60 s). With Node's
    // 5 s, a client whose timers run late reuses a connection the server is closing, and its request
    // (a POST is never retried) fails.
    (server as Server).keepAliveTimeout = 65_000;
    (server as Server).headersTimeout = 66_000;
  });
}
