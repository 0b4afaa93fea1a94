import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createRouter } from '../../src/http/validation.ts';
import { webRoutes } from '../../src/http/web.ts';
import { tempDir } from '../support/databases.ts';

// The dashboard's file serving on its own: a build directory made up by the test, behind an app whose
// unmatched requests end in the JSON 404 the server uses.

function appServing(distDir: string) {
  const app = createRouter();
  app.get('/api/known', (c) => c.json({ data: 'api' }));
  webRoutes(app, distDir);
  app.notFound((c) => c.json({ status: 404, key: 'not_found' }, 404));
  return async (route: string, accept = 'text/html') => {
    const res = await app.request(route, { headers: { accept } });
    return {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      cache: res.headers.get('cache-control') ?? '',
      text: await res.text(),
    };
  };
}

describe('dashboard file serving', () => {
  const dist = tempDir('ferry-web-');
  after(() => dist.cleanup());
  mkdirSync(path.join(dist.path, 'assets'));
  writeFileSync(path.join(dist.path, 'index.html'), '<div id="root"></div>');
  writeFileSync(path.join(dist.path, 'assets/app-1234.js'), 'console.log(1)');
  const get = appServing(dist.path);

  it('serves index.html at / and for client routes a browser asks for', async () => {
    for (const route of ['/', '/bulk-syncs/42/executions/7', '/connections/new']) {
      const res = await get(route);
      assert.equal(res.status, 200, route);
      assert.match(res.type, /text\/html/);
      assert.equal(res.text, '<div id="root"></div>');
    }
  });

  it('serves built files with their type, fingerprinted assets cached for good', async () => {
    const res = await get('/assets/app-1234.js', '*/*');
    assert.equal(res.status, 200);
    assert.match(res.type, /text\/javascript/);
    assert.match(res.cache, /immutable/);
    assert.equal(res.text, 'console.log(1)');
  });

  it('leaves API paths, missing files and paths outside the build to the JSON 404', async () => {
    assert.equal((await get('/api/known')).text, '{"data":"api"}');
    for (const route of [
      '/api/unknown',
      '/v1/unknown',
      '/workspaces/w/unknown',
      '/mcp/x',
      '/docs/unknown',
      '/openapi.json/x',
      '/healthz/x',
      '/readyz/x',
      '/metrics/x',
    ]) {
      const res = await get(route);
      assert.equal(res.status, 404, route);
      assert.match(res.type, /application\/json/, route);
    }
    assert.equal((await get('/assets/missing.js', '*/*')).status, 404);
    assert.equal((await get('/..%2f..%2fetc%2fpasswd', '*/*')).status, 404);
    assert.equal((await get('/%E0%A4%A', '*/*')).status, 404);
  });

  it('says how to build the dashboard when there is no build', async () => {
    const missing = appServing(path.join(dist.path, 'nothing-here'));
    const page = await missing('/');
    assert.equal(page.status, 200);
    assert.match(page.text, /npm run build/);
    assert.equal((await missing('/anything', 'application/json')).status, 404);
  });
});
