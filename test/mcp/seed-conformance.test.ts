import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { naftikoResources } from '../../src/http/dialects/naftiko/resources.ts';
import { type FerryProcess, http, startFerry } from '../support/ferry.ts';
import { connectHttp } from './client.ts';
import { capabilitySeeds, readCapability } from './seeds.ts';

// Every tool (name, hints, inputs) and every REST resource (method, path) of the seed capabilities is
// served: the tools over MCP, the resources under /v1/api answering exactly as the /api route they map to.

const capabilities = capabilitySeeds.map(readCapability);

describe('seed capabilities', () => {
  let ferry: FerryProcess;
  let client: Client;
  let tools: Awaited<ReturnType<Client['listTools']>>['tools'];

  before(async () => {
    ferry = await startFerry();
    client = await connectHttp(`${ferry.url}/mcp`, ferry.adminKey);
    tools = (await client.listTools()).tools;
  });
  after(async () => {
    await client?.close();
    await ferry?.stop();
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
