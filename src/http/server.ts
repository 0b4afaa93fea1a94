import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import type { Core } from '../services/context.ts';
import { polytomicApi } from './dialects/polytomic/index.ts';
import { downloadRoutes } from './downloads.ts';
import type { HttpApp } from './env.ts';
import { metricsRoutes } from './metrics.ts';
import { operationRoutes } from './operations.ts';
import { createRouter } from './validation.ts';

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
  operationRoutes(app);
  metricsRoutes(app, core);
  downloadRoutes(app);
  app.route('/api', polytomicApi(core.config.rateLimit));
  app.notFound((c) =>
    c.json({ status: 404, message: `no route for ${c.req.method} ${c.req.path}`, key: 'not_found' }, 404),
  );
  app.onError((error, c) => {
    core.log.error({ err: error, requestId: c.var.requestId }, 'request failed');
    return c.json({ status: 500, message: 'internal server error', key: 'internal' }, 500);
  });
  return app;
}

export interface HttpServer {
  port: number;
  close(): Promise<void>;
}

export async function listen(app: HttpApp, port: number): Promise<HttpServer> {
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
  });
}
