import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { HttpApp } from './env.ts';

/** The dashboard's build output (`npm run build`). */
export const webDistDir = path.resolve(import.meta.dirname, '../../web/dist');

/** Paths that belong to the APIs: an unknown path under them stays a JSON 404, never the dashboard. */
const apiPrefixes = [
  '/api',
  '/v1',
  '/workspaces',
  '/mcp',
  '/openapi.json',
  '/docs',
  '/healthz',
  '/readyz',
  '/metrics',
];

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const missingBuildPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ferry</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>Ferry</h1>
<p>The dashboard has not been built. Run <code>npm run build</code> (or <code>npm install</code>) and reload.</p>
<p>The API is up: see <a href="/docs">/docs</a>.</p>
</body></html>`;

const isApiPath = (p: string) => apiPrefixes.some((prefix) => p === prefix || p.startsWith(`${prefix}/`));

/** A file of the build for a request path, or undefined; `..` cannot leave the build directory. */
function fileOf(distDir: string, requestPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(requestPath);
  } catch {
    return undefined;
  }
  const file = path.resolve(distDir, `.${path.posix.normalize(decoded)}`);
  if (file !== distDir && !file.startsWith(distDir + path.sep)) return undefined;
  return existsSync(file) && statSync(file).isFile() ? file : undefined;
}

/**
 * Serves the dashboard: the build's static files, and `index.html` for any other page a browser asks
 * for (client-side routes). Mounted after every API route, so it only sees what they left unmatched.
 */
export function webRoutes(app: HttpApp, distDir = webDistDir): void {
  app.get('*', async (c, next) => {
    if (isApiPath(c.req.path)) return next();
    const indexFile = path.join(distDir, 'index.html');
    if (!existsSync(indexFile)) {
      return c.req.header('accept')?.includes('text/html') ? c.html(missingBuildPage, 200) : next();
    }
    const file = c.req.path === '/' ? indexFile : fileOf(distDir, c.req.path);
    if (file) {
      const type = contentTypes[path.extname(file)] ?? 'application/octet-stream';
      // Vite fingerprints everything under assets/, so those may be cached for good.
      const cache = c.req.path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
      return c.body(readFileSync(file), 200, { 'content-type': type, 'cache-control': cache });
    }
    if (!c.req.header('accept')?.includes('text/html')) return next();
    return c.body(readFileSync(indexFile), 200, {
      'content-type': contentTypes['.html']!,
      'cache-control': 'no-cache',
    });
  });
}
