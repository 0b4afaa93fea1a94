import { z } from '@hono/zod-openapi';
import * as connections from '../../../../services/connections.ts';
import type { HttpApp } from '../../../env.ts';
import { connectionOut, connectionTypeOut, schemaOut, schemaStatusOut } from '../presenters.ts';
import { json, jsonBody, noContent, polytomicRoute } from '../route.ts';
import {
  connection,
  connectionInput,
  connectionType,
  connectionUpdate,
  envelope,
  queryBoolean,
  schema,
  schemaStatus,
  testConnectionInput,
  uuidParam,
} from '../schemas.ts';

const idParams = z.object({ id: uuidParam('id') });
const schemaParams = z.object({ id: uuidParam('id'), schemaId: z.string().min(1).max(500) });

export function connectionRoutes(app: HttpApp): void {
  const tags = ['Connections'];
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/connection_types',
      tags,
      summary: 'Connection types and their configuration',
      responses: { 200: json(envelope(z.array(connectionType))) },
    }),
    (c) => c.json({ data: connections.listConnectionTypes().map(connectionTypeOut) }, 200),
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/connection_types/{id}',
      tags,
      summary: 'JSON Schema of the configuration of a connection type',
      request: { params: z.object({ id: z.string() }) },
      responses: { 200: json(z.record(z.string(), z.unknown())) },
    }),
    (c) => {
      const type = connections.getConnectionType(c.req.valid('param').id);
      return c.json(connectionTypeOut(type).configurationSchema, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/connections',
      tags,
      summary: "List the organization's connections",
      responses: { 200: json(envelope(z.array(connection))) },
    }),
    async (c) =>
      c.json({ data: (await connections.listConnections(c.var.core, c.var.actor)).map(connectionOut) }, 200),
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/connections',
      tags,
      summary: 'Create a connection; it is tested first unless `validate` is false',
      request: { body: jsonBody(connectionInput) },
      responses: { 200: json(envelope(connection)) },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const created = await connections.createConnection(c.var.core, c.var.actor, {
        name: body.name,
        type: body.type,
        configuration: body.configuration,
        validate: body.validate,
        organizationId: body.organization_id,
      });
      return c.json({ data: connectionOut(created) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/connections/test',
      tags,
      summary: 'Test a configuration without saving it',
      request: { body: jsonBody(testConnectionInput) },
      responses: { 200: json(envelope(z.object({ success: z.boolean() }))) },
    }),
    async (c) => {
      const body = c.req.valid('json');
      await connections.testConnection(c.var.core, c.var.actor, {
        type: body.type,
        configuration: body.configuration,
        connectionId: body.connection_id,
      });
      return c.json({ data: { success: true } }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/connections/{id}',
      tags,
      summary: 'Get a connection (secrets redacted)',
      request: { params: idParams },
      responses: { 200: json(envelope(connection)) },
    }),
    async (c) => {
      const found = await connections.getConnection(c.var.core, c.var.actor, c.req.valid('param').id);
      return c.json({ data: connectionOut(found) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'put',
      path: '/connections/{id}',
      tags,
      summary: 'Update a connection; omitted or redacted secrets keep their stored value',
      request: { params: idParams, body: jsonBody(connectionUpdate) },
      responses: { 200: json(envelope(connection)) },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const updated = await connections.updateConnection(c.var.core, c.var.actor, c.req.valid('param').id, {
        name: body.name,
        type: body.type,
        configuration: body.configuration,
        validate: body.validate,
      });
      return c.json({ data: connectionOut(updated) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'delete',
      path: '/connections/{id}',
      tags,
      summary: 'Delete a connection',
      request: { params: idParams, query: z.object({ force: queryBoolean }) },
      responses: { 204: noContent },
    }),
    async (c) => {
      await connections.deleteConnection(c.var.core, c.var.actor, c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  const schemaTags = ['Schemas'];
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/connections/{id}/schemas',
      tags: schemaTags,
      summary: 'Tables, views or files a connection can read, with fields and primary keys',
      request: { params: idParams },
      responses: { 200: json(envelope(z.array(schema))) },
    }),
    async (c) => {
      const list = await connections.listSchemas(c.var.core, c.var.actor, c.req.valid('param').id);
      return c.json({ data: list.map(schemaOut) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/connections/{id}/schemas/refresh',
      tags: schemaTags,
      summary: 'Re-introspect the schemas in the background (job `schemarefresh`)',
      request: { params: idParams },
      responses: { 202: json(envelope(schemaStatus), 'Refresh queued') },
    }),
    async (c) => {
      const status = await connections.refreshSchemas(c.var.core, c.var.actor, c.req.valid('param').id);
      return c.json({ data: schemaStatusOut(status) }, 202);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/connections/{id}/schemas/status',
      tags: schemaTags,
      summary: 'Status of the schema cache and its last refresh',
      request: { params: idParams },
      responses: { 200: json(envelope(schemaStatus)) },
    }),
    async (c) => {
      const status = await connections.schemaStatus(c.var.core, c.var.actor, c.req.valid('param').id);
      return c.json({ data: schemaStatusOut(status) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/connections/{id}/schemas/{schemaId}',
      tags: schemaTags,
      summary: 'One schema with its fields',
      request: { params: schemaParams },
      responses: { 200: json(envelope(schema)) },
    }),
    async (c) => {
      const { id, schemaId } = c.req.valid('param');
      return c.json(
        { data: schemaOut(await connections.getSchema(c.var.core, c.var.actor, id, schemaId)) },
        200,
      );
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/connections/{id}/schemas/{schemaId}/records',
      tags: schemaTags,
      summary: 'A sample of records of a schema',
      request: {
        params: schemaParams,
        query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(10) }),
      },
      responses: { 200: json(envelope(z.array(z.record(z.string(), z.unknown())))) },
    }),
    async (c) => {
      const { id, schemaId } = c.req.valid('param');
      const { limit } = c.req.valid('query');
      return c.json(
        { data: await connections.sampleRecords(c.var.core, c.var.actor, id, schemaId, limit) },
        200,
      );
    },
  );
}
