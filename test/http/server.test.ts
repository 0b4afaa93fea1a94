import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Hono } from 'hono';
import { listen } from '../../src/http/server.ts';

describe('http server', () => {
  it('keeps an idle keep-alive connection longer than clients do (Node closes it after 5 s)', async () => {
    const app = new Hono();
    app.get('/', (c) => c.text('ok'));
    const server = await listen(app, 0);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const get = () =>
      new Promise<string>((resolve, reject) => {
        const req = request({ port: server.port, host: '127.0.0.1', path: '/', agent }, (res) => {
          sockets.add(res.socket);
          let body = '';
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      assert.equal(await get(), 'ok');
      await sleep(6_000);
      assert.equal(await get(), 'ok');
      assert.equal(sockets.size, 1, 'the second request reused the idle connection');
    } finally {
      agent.destroy();
      await server.close();
    }
  });
});
