import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { naftikoResources } from '../../src/http/dialects/naftiko/resources.ts';
import { createPgDatabase, type PgTestConfig, type TestDatabase } from '../support/databases.ts';
import { type FerryProcess, http, startFerry } from '../support/ferry.ts';
import { startAll } from '../support/start-all.ts';
import { connectHttp } from './client.ts';
import { capabilitySeeds, readCapability } from './seeds.ts';

// Every tool (name, hints, inputs) and every REST resource (method, path) of the seed capabilities is
// served: the tools over MCP, the resources under /v1/api answering exactly as the /api route they map to,
// for unknown ids and, for the model sync capability, on a real sync between two PostgreSQL databases.

const capabilities = capabilitySeeds.map(readCapability);

describe('seed capabilities', () => {
  let ferry: FerryProcess;
  let client: Client;
  let tools: Awaited<ReturnType<Client['listTools']>>['tools'];
  let source: TestDatabase<PgTestConfig>;
  let target: TestDatabase<PgTestConfig>;

  before(async () => {
    [ferry, source, target] = await startAll([startFerry(), createPgDatabase(), createPgDatabase()]);
    client = await connectHttp(`${ferry.url}/mcp`, ferry.adminKey);
    tools = (await client.listTools()).tools;
  });
  after(async () => {
    await client?.close();
    await ferry?.stop();
    await Promise.all([source?.drop(), target?.drop()]);
  });

  it('reads both capabilities', () => {
    assert.deepEqual(
      capabilities.map((c) => [c.resources.length, c.tools.length]),
      [
        [8, 8],
        [12, 12],
      ],
    );
  });

  for (const capability of capabilities) {
    for (const seedTool of capability.tools) {
      it(`serves the tool ${seedTool.name} of ${capability.file} with its hints and inputs`, () => {
        const tool = tools.find((t) => t.name === seedTool.name);
        assert.ok(tool, `${seedTool.name} is listed`);
        assert.equal(tool.annotations?.readOnlyHint, seedTool.readOnly);
        assert.equal(tool.annotations?.destructiveHint, seedTool.destructive);
        assert.equal(tool.annotations?.idempotentHint, seedTool.idempotent);
        assert.equal(typeof tool.annotations?.openWorldHint, 'boolean');
        const properties = (tool.inputSchema.properties ?? {}) as Record<string, { description?: string }>;
        assert.deepEqual(Object.keys(properties).sort(), [...seedTool.params].sort());
        for (const [name, schema] of Object.entries(properties)) {
          assert.ok(schema.description, `${seedTool.name}.${name} has a description`);
        }
        assert.ok(tool.outputSchema, 'structured output is declared');
      });
    }

    for (const resource of capability.resources) {
      it(`serves ${resource.method} ${resource.path} of ${capability.file} as its /api route`, async () => {
        assert.ok(
          naftikoResources.some((r) => r.method === resource.method && r.path === resource.path),
          'the adapter declares the resource as the seed writes it',
        );
        const concrete = resource.path.replace(/\{[^}]+\}/g, () => randomUUID());
        const body = ['POST', 'PUT'].includes(resource.method) ? {} : undefined;
        const viaAdapter = await http(ferry.url, resource.method, concrete, { key: ferry.adminKey, body });
        const viaApi = await http(ferry.url, resource.method, concrete.slice('/v1'.length), {
          key: ferry.adminKey,
          body,
        });
        assert.equal(viaAdapter.status, viaApi.status);
        assert.deepEqual(viaAdapter.body, viaApi.body);
        const unauthenticated = await http(ferry.url, resource.method, concrete, { body });
        assert.equal(unauthenticated.status, 401, 'the /api key check applies');
        const document = (await http(ferry.url, 'GET', '/openapi.json')).body;
        assert.ok(
          document.paths[resource.path]?.[resource.method.toLowerCase()],
          'documented in /openapi.json',
        );
      });
    }
  }

  it('answers every model sync resource as its /api route for a real sync', async () => {
    const modelSyncCapability = capabilities.find((c) => c.file.startsWith('002_'))!;
    const exercised = new Set<string>();
    /** The resource through the adapter; `mirror` also asks `/api` and requires the same answer. */
    const adapter = async (
      method: string,
      template: string,
      values: Record<string, string>,
      options: { query?: string; body?: unknown; mirror?: boolean } = {},
    ) => {
      exercised.add(`${method} /v1${template}`);
      const concrete =
        template.replace(/\{([^}]+)\}/g, (_, name: string) => values[name]!) + (options.query ?? '');
      const viaAdapter = await http(ferry.url, method, `/v1${concrete}`, {
        key: ferry.adminKey,
        body: options.body,
      });
      if (options.mirror !== false) {
        const viaApi = await http(ferry.url, method, concrete, { key: ferry.adminKey, body: options.body });
        assert.equal(viaAdapter.status, viaApi.status, `${method} ${concrete}`);
        assert.deepEqual(viaAdapter.body, viaApi.body, `${method} ${concrete}`);
      }
      return viaAdapter;
    };
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await http(ferry.url, method, path, { key: ferry.adminKey, body });
      assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body?.data;
    };

    await source.query(`create table people (id int primary key, email text not null);
      insert into people values (1, 'a@x.io'), (2, 'b@x.io')`);
    await target.query('create table people_copy (id int primary key, email text)');
    const sourceId = (
      await api('POST', '/api/connections', { name: 'src', type: 'postgresql', configuration: source.config })
    ).id;
    const targetId = (
      await api('POST', '/api/connections', { name: 'dst', type: 'postgresql', configuration: target.config })
    ).id;
    const modelId = (
      await api('POST', '/api/models', {
        name: 'people',
        connection_id: sourceId,
        configuration: { table: 'public.people' },
        identifier: 'id',
      })
    ).id;
    const ref = (field: string) => ({ source: { model_id: modelId, field }, target: field });
    const definition = (name: string) => ({
      name,
      mode: 'updateOrCreate',
      target: { connection_id: targetId, object: 'public.people_copy' },
      fields: [ref('id'), ref('email')],
      identity: { ...ref('id'), function: 'Equality' },
      schedule: { frequency: 'manual' },
    });

    const conn = { id: sourceId };
    assert.equal((await adapter('GET', '/api/connections/{id}/modelsync/source', conn)).status, 200);
    const params = `?params=${encodeURIComponent(JSON.stringify({ table: ['public.people'] }))}`;
    const fields = await adapter('GET', '/api/connections/{id}/modelsync/source/fields', conn, {
      query: params,
    });
    assert.deepEqual(
      fields.body.data.map((f: any) => f.name),
      ['id', 'email'],
    );
    assert.equal((await adapter('GET', '/api/syncs/schedules', {})).status, 200);

    const created = await adapter('POST', '/api/syncs', {}, { body: definition('copy'), mirror: false });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const sync = { id: created.body.data.id as string };
    assert.deepEqual(created.body.data, await api('GET', `/api/syncs/${sync.id}`));
    const listed = await adapter(
      'GET',
      '/api/syncs',
      {},
      { query: `?target_connection_id=${targetId}&limit=10` },
    );
    assert.deepEqual(
      listed.body.data.map((s: any) => s.id),
      [sync.id],
    );
    assert.equal((await adapter('GET', '/api/syncs/{id}', sync)).body.data.name, 'copy');
    const updated = await adapter('PUT', '/api/syncs/{id}', sync, {
      body: definition('copy v2'),
      mirror: false,
    });
    assert.equal(updated.body.data.name, 'copy v2');
    assert.deepEqual(updated.body.data, await api('GET', `/api/syncs/${sync.id}`));
    const activated = await adapter('POST', '/api/syncs/{id}/activate', sync, { body: { active: true } });
    assert.deepEqual(activated.body.data, { id: sync.id, active: true });

    const started = await adapter('POST', '/api/syncs/{id}/executions', sync, { body: {}, mirror: false });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    let status: any;
    for (
      let i = 0;
      i < 1200 && !['completed', 'failed', 'canceled'].includes(status?.last_execution?.status);
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
      status = await api('GET', `/api/syncs/${sync.id}/status`);
    }
    assert.equal(status.last_execution.id, started.body.data.id);
    assert.equal(status.last_execution.status, 'completed', JSON.stringify(status));
    assert.deepEqual(await target.query('select id, email from people_copy order by id'), [
      { id: 1, email: 'a@x.io' },
      { id: 2, email: 'b@x.io' },
    ]);
    assert.deepEqual((await adapter('GET', '/api/syncs/{id}/status', sync)).body.data, status);
    const idle = await adapter('POST', '/api/syncs/{id}/cancel', sync);
    assert.equal(idle.status, 409, 'no run is active');

    const deleted = await adapter('DELETE', '/api/syncs/{id}', sync, { mirror: false });
    assert.equal(deleted.status, 204);
    assert.equal((await adapter('GET', '/api/syncs/{id}', sync)).status, 404);
    assert.equal((await adapter('DELETE', '/api/syncs/{id}', sync)).status, 404);

    assert.deepEqual(
      [...exercised].sort(),
      modelSyncCapability.resources.map((r) => `${r.method} ${r.path}`).sort(),
      'every resource of the capability was exercised',
    );
  });

  it('gives every tool, seed or not, a described input schema and hints', () => {
    for (const tool of tools) {
      assert.ok(tool.description, tool.name);
      assert.equal(typeof tool.annotations?.readOnlyHint, 'boolean', tool.name);
      for (const [name, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
        assert.ok((schema as { description?: string }).description, `${tool.name}.${name}`);
      }
    }
  });
});
