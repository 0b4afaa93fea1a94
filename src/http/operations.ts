import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { HttpApp } from './env.ts';

const swaggerDir = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const swaggerAsset = (file: string) => readFileSync(path.join(swaggerDir, file));

const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ferry API reference</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="docs"></div><script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>`;

const docsInit = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs', deepLinking: true });`;

/** Liveness, readiness, the OpenAPI document and its rendered reference (served locally, no CDN). */
export function operationRoutes(app: HttpApp): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      await c.var.core.store.sql.query('select 1');
      return c.json({ status: 'ready', store: c.var.core.store.kind });
    } catch {
      return c.json({ status: 'unavailable', store: c.var.core.store.kind }, 503);
    }
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Ferry API',
      version: '1',
      description: 'Polytomic-compatible API of Ferry. Authenticate with `Authorization: Bearer <key>`.',
    },
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer' });
  app.get('/docs', (c) => c.html(docsPage));
  app.get('/docs/init.js', (c) => c.body(docsInit, 200, { 'content-type': 'text/javascript' }));
  for (const [file, type] of [
    ['swagger-ui.css', 'text/css'],
    ['swagger-ui-bundle.js', 'text/javascript'],
  ] as const) {
    const body = swaggerAsset(file);
    app.get(`/docs/${file}`, (c) =>
      c.body(body, 200, { 'content-type': type, 'cache-control': 'public, max-age=86400' }),
    );
  }
}
