import { z } from '@hono/zod-openapi';
import * as models from '../../../../services/models.ts';
import type { HttpApp } from '../../../env.ts';
import { modelFieldOut, modelOut } from '../model-presenters.ts';
import { model, modelField, modelInput, modelSample, sourceMeta, sourceParams } from '../model-schemas.ts';
import { json, jsonBody, noContent, polytomicRoute } from '../route.ts';
import { envelope, queryBoolean, uuidParam } from '../schemas.ts';

const tags = ['Models'];
const idParams = z.object({ id: uuidParam('id') });
// `async` is accepted for SDK compatibility: models are described within the request.
const asyncQuery = z.object({ async: queryBoolean });

const inputOf = (body: z.infer<typeof modelInput>): models.ModelInput => ({
  name: body.name,
  connectionId: body.connection_id,
  configuration: body.configuration,
  identifier: body.identifier,
  labels: body.labels,
  trackingColumns: body.tracking_columns,
  organizationId: body.organization_id,
});

export function modelRoutes(app: HttpApp): void {
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/models',
      tags,
      summary: 'List models',
      responses: { 200: json(envelope(z.array(model))) },
    }),
    async (c) => c.json({ data: (await models.listModels(c.var.core, c.var.actor)).map(modelOut) }, 200),
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/models',
      tags,
      summary: 'Create a model: a SQL query or a table of a source connection',
      request: { query: asyncQuery, body: jsonBody(modelInput) },
      responses: { 200: json(envelope(model)) },
    }),
    async (c) => {
      const created = await models.createModel(c.var.core, c.var.actor, inputOf(c.req.valid('json')));
      return c.json({ data: modelOut(created) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/model-preview',
      tags,
      summary: 'Describe a model without saving it: its fields as the source reports them',
      request: { query: asyncQuery, body: jsonBody(modelInput) },
      responses: { 200: json(envelope(model)) },
    }),
    async (c) => {
      const preview = await models.previewModel(c.var.core, c.var.actor, inputOf(c.req.valid('json')));
      return c.json({ data: modelOut(preview) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/models/{id}',
      tags,
      summary: 'Get a model',
      request: { params: idParams, query: asyncQuery },
      responses: { 200: json(envelope(model)) },
    }),
    async (c) =>
      c.json(
        { data: modelOut(await models.getModel(c.var.core, c.var.actor, c.req.valid('param').id)) },
        200,
      ),
  );
  app.openapi(
    polytomicRoute({
      method: 'put',
      path: '/models/{id}',
      tags,
      summary: 'Update a model; its fields are described again',
      request: { params: idParams, query: asyncQuery, body: jsonBody(modelInput) },
      responses: { 200: json(envelope(model)) },
    }),
    async (c) => {
      const updated = await models.updateModel(
        c.var.core,
        c.var.actor,
        c.req.valid('param').id,
        inputOf(c.req.valid('json')),
      );
      return c.json({ data: modelOut(updated) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'delete',
      path: '/models/{id}',
      tags,
      summary: 'Delete a model that no sync uses',
      request: { params: idParams, query: asyncQuery },
      responses: { 204: noContent },
    }),
    async (c) => {
      await models.deleteModel(c.var.core, c.var.actor, c.req.valid('param').id);
      return c.body(null, 204);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/models/{id}/sample',
      tags,
      summary: `Up to ${models.maxSampleRecords} records of the model`,
      request: { params: idParams, query: asyncQuery },
      responses: { 200: json(envelope(modelSample)) },
    }),
    async (c) => {
      const records = await models.sampleModelRecords(c.var.core, c.var.actor, c.req.valid('param').id);
      return c.json({ data: { records, warnings: [] } }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/connections/{id}/modelsync/source',
      tags: ['Model Sync'],
      summary: 'What a model on this connection can be: a `query`, or one of the `table` items',
      request: { params: idParams, query: z.object({ params: sourceParams }) },
      responses: { 200: json(envelope(sourceMeta)) },
    }),
    async (c) =>
      c.json({ data: await models.modelSyncSource(c.var.core, c.var.actor, c.req.valid('param').id) }, 200),
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/connections/{id}/modelsync/source/fields',
      tags: ['Model Sync'],
      summary: 'Fields of the model `params` describe: `{"query": ["select ..."]}` or `{"table": ["..."]}`',
      request: { params: idParams, query: z.object({ params: sourceParams }) },
      responses: { 200: json(z.object({ data: z.array(modelField) })) },
    }),
    async (c) => {
      const fields = await models.modelSyncSourceFields(
        c.var.core,
        c.var.actor,
        c.req.valid('param').id,
        c.req.valid('query').params,
      );
      return c.json({ data: fields.map(modelFieldOut(null)) }, 200);
    },
  );
}
