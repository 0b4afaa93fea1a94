import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { callApi, localApi } from '../../src/http/api-client.ts';
import { emptyJsonIsNoBody } from '../../src/http/server.ts';

// The MCP tools and the Naftiko adapter call the API in process: their request bodies must reach the
// routes as a wire request's would, past the rule that an empty JSON request has no body.

describe('in-process API client', () => {
  const app = new Hono();
  app.use('*', emptyJsonIsNoBody);
  app.post('/echo', async (c) =>
    c.json({
      type: c.req.header('content-type') ?? null,
      body: c.req.header('content-type') ? await c.req.json() : null,
    }),
  );
  const api = localApi(app);
  const credentials = { authorization: 'Bearer k' };

  it('passes a JSON body on (MCP tools: create-sync, start-bulk-sync options, ...)', async () => {
    const response = await callApi(api, credentials, {
      method: 'POST',
      path: '/echo',
      body: { name: 'é copy' },
    });
    assert.deepEqual(response.body, { type: 'application/json', body: { name: 'é copy' } });
  });

  it('passes a forwarded byte body on (Naftiko adapter)', async () => {
    const bytes = new TextEncoder().encode('{"active":true}');
    const response = await api('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: bytes.buffer,
    });
    assert.deepEqual(await response.json(), { type: 'application/json', body: { active: true } });
  });

  it('still takes an empty JSON request for one without a body', async () => {
    const response = await api('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ArrayBuffer(0),
    });
    assert.deepEqual(await response.json(), { type: null, body: null });
  });
});
