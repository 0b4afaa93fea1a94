import { z } from '@hono/zod-openapi';
import * as runs from '../../../../services/bulk-executions.ts';
import * as syncs from '../../../../services/bulk-syncs.ts';
import { traceIdFromTraceparent } from '../../../../services/trace-context.ts';
import type { HttpApp } from '../../../env.ts';
import {
  bulkExecutionOut,
  bulkExecutionStatusItemOut,
  bulkScheduleOut,
  bulkSchemaOut,
  bulkSyncOut,
  bulkSyncStatusOut,
} from '../bulk-presenters.ts';
import { json, jsonBody, noContent, polytomicRoute } from '../route.ts';
import {
  bulkExecution,
  bulkExecutionStatusItem,
  bulkSchedule,
  bulkScheduleRecord,
  bulkSchema,
  bulkSchemaInput,
  bulkSync,
  bulkSyncInput,
  bulkSyncStatus,
  envelope,
  pagination,
  queryBoolean,
  uuidParam,
} from '../schemas.ts';

const tags = ['Bulk Sync'];
const idParams = z.object({ id: uuidParam('id') });
const execParams = z.object({ id: uuidParam('id'), execId: uuidParam('execId') });
const schemaParams = z.object({ id: uuidParam('id'), schemaId: z.string().min(1).max(500) });
const scheduleListParams = z.object({ syncId: uuidParam('syncId') });
const scheduleParams = z.object({ syncId: uuidParam('syncId'), scheduleId: uuidParam('scheduleId') });
const cancelResponse = z.object({ message: z.string() });

type SchemaInput = z.infer<typeof bulkSchemaInput>;
const selectionOf = (s: SchemaInput | string): syncs.SchemaSelection =>
  typeof s === 'string'
    ? { id: s }
    : {
        id: s.id,
        enabled: s.enabled,
        fields: s.fields,
        filters: s.filters,
        partitionKey: s.partition_key,
        trackingField: s.tracking_field,
        userOutputName: s.user_output_name ?? s.output_name,
      };

const inputOf = (body: z.infer<typeof bulkSyncInput>): syncs.BulkSyncInput => ({
  name: body.name,
  sourceConnectionId: body.source_connection_id,
  destinationConnectionId: body.destination_connection_id,
  mode: body.mode,
  active: body.active,
  discover:
    body.discover ??
    (body.automatically_add_new_objects ? body.automatically_add_new_objects !== 'none' : undefined),
  normalizeNames: body.normalize_names,
  concurrencyLimit: body.concurrency_limit,
  sourceConfiguration: body.source_configuration,
  destinationConfiguration: body.destination_configuration,
  schedule: body.schedule,
  schemas: body.schemas?.map(selectionOf),
  organizationId: body.organization_id,
});

export function bulkSyncRoutes(app: HttpApp): void {
  // Literal segments (`status`) are registered before `{id}` so they win.
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/bulk/syncs/status',
      tags,
      summary: 'Status of many bulk syncs: `all`, `active`, or repeated `sync_id`',
      request: {
        query: z.object({
          all: queryBoolean,
          active: queryBoolean,
          sync_id: z
            .union([z.uuid(), z.array(z.uuid())])
            .optional()
            .openapi({ param: { style: 'form', explode: true } }),
        }),
      },
      responses: { 200: json(envelope(z.array(bulkExecutionStatusItem))) },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const syncIds = query.sync_id === undefined ? undefined : [query.sync_id].flat();
      const list = await runs.listBulkSyncStatuses(c.var.core, c.var.actor, {
        all: query.all,
        active: query.active,
        syncIds,
      });
      return c.json({ data: list.map(bulkExecutionStatusItemOut) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/bulk/syncs',
      tags,
      summary: 'List bulk syncs',
      request: { query: z.object({ active: queryBoolean }) },
      responses: { 200: json(envelope(z.array(bulkSync))) },
    }),
    async (c) => {
      const list = await syncs.listBulkSyncs(c.var.core, c.var.actor, {
        active: c.req.valid('query').active,
      });
      return c.json({ data: list.map(bulkSyncOut) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/bulk/syncs',
      tags,
      summary: 'Create a bulk sync; `schemas` omitted selects every source table',
      request: { body: jsonBody(bulkSyncInput) },
      responses: { 200: json(envelope(bulkSync)) },
    }),
    async (c) => {
      const created = await syncs.createBulkSync(c.var.core, c.var.actor, inputOf(c.req.valid('json')));
      return c.json({ data: bulkSyncOut(created) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/bulk/syncs/{id}',
      tags,
      summary: 'Get a bulk sync',
      request: { params: idParams, query: z.object({ refresh_schemas: queryBoolean }) },
      responses: { 200: json(envelope(bulkSync)) },
    }),
    async (c) =>
      c.json(
        { data: bulkSyncOut(await syncs.getBulkSync(c.var.core, c.var.actor, c.req.valid('param').id)) },
        200,
      ),
  );
  app.openapi(
    polytomicRoute({
      method: 'put',
      path: '/bulk/syncs/{id}',
      tags,
      summary: 'Update a bulk sync',
      request: { params: idParams, body: jsonBody(bulkSyncInput) },
      responses: { 200: json(envelope(bulkSync)) },
    }),
    async (c) => {
      const updated = await syncs.updateBulkSync(
        c.var.core,
        c.var.actor,
        c.req.valid('param').id,
        inputOf(c.req.valid('json')),
      );
      return c.json({ data: bulkSyncOut(updated) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'delete',
      path: '/bulk/syncs/{id}',
      tags,
      summary: 'Delete a bulk sync',
      request: { params: idParams, query: z.object({ refresh_schemas: queryBoolean }) },
      responses: { 204: noContent },
    }),
    async (c) => {
      await syncs.deleteBulkSync(c.var.core, c.var.actor, c.req.valid('param').id);
      return c.body(null, 204);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/bulk/syncs/{id}/activate',
      tags,
      summary: 'Activate or deactivate a bulk sync',
      request: { params: idParams, body: jsonBody(z.object({ active: z.boolean() })) },
      responses: { 200: json(envelope(z.object({ active: z.boolean() }))) },
    }),
    async (c) => {
      const row = await syncs.setBulkSyncActive(
        c.var.core,
        c.var.actor,
        c.req.valid('param').id,
        c.req.valid('json').active,
      );
      return c.json({ data: { active: row.active } }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/bulk/syncs/{id}/cancel',
      tags,
      summary: "Cancel the sync's active execution",
      request: { params: idParams },
      responses: { 200: json(envelope(cancelResponse)) },
    }),
    async (c) => {
      const execution = await runs.cancelBulkSync(c.var.core, c.var.actor, c.req.valid('param').id);
      return c.json({ data: { message: `execution ${execution.id} is ${execution.status}` } }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/bulk/syncs/{id}/status',
      tags,
      summary: 'Current and last execution of a bulk sync, and its next scheduled run',
      request: { params: idParams },
      responses: { 200: json(envelope(bulkSyncStatus)) },
    }),
    async (c) => {
      const status = await runs.bulkSyncStatus(c.var.core, c.var.actor, c.req.valid('param').id);
      return c.json({ data: bulkSyncStatusOut(status) }, 200);
    },
  );

  const execTags = ['Bulk Sync Executions'];
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/bulk/syncs/{id}/executions',
      tags: execTags,
      summary: 'Start a run; while one is queued or running, that run is returned instead',
      request: {
        params: idParams,
        body: {
          required: false,
          content: {
            'application/json': {
              schema: z.object({
                resync: z.boolean().optional(),
                resync_mode: z.enum(['refetch', 'resync', 'rebuild']).optional(),
                fetch_mode: z.enum(['none', 'incremental', 'full']).optional(),
                schemas: z.array(z.string().min(1)).optional(),
                test: z.boolean().optional(),
              }),
            },
          },
        },
      },
      responses: { 200: json(envelope(bulkExecution)) },
    }),
    async (c) => {
      const body = c.req.valid('json') ?? {};
      const { execution } = await runs.startBulkExecution(c.var.core, c.var.actor, c.req.valid('param').id, {
        resync: body.resync,
        resyncMode: body.resync_mode,
        fetchMode: body.fetch_mode,
        schemas: body.schemas,
        test: body.test,
        traceId: traceIdFromTraceparent(c.req.header('traceparent')),
      });
      const detail = await runs.getBulkExecution(c.var.core, c.var.actor, execution.syncId, execution.id);
      return c.json({ data: bulkExecutionOut(detail) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/bulk/syncs/{id}/executions',
      tags: execTags,
      summary: 'List executions, newest first unless `ascending`',
      request: {
        params: idParams,
        query: z.object({
          page_token: z.string().optional(),
          only_terminal: queryBoolean,
          ascending: queryBoolean,
          limit: z.coerce.number().int().min(1).max(100).optional(),
        }),
      },
      responses: { 200: json(z.object({ data: z.array(bulkExecution), pagination })) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const page = await runs.listBulkExecutions(c.var.core, c.var.actor, c.req.valid('param').id, {
        pageToken: q.page_token,
        onlyTerminal: q.only_terminal,
        ascending: q.ascending,
        limit: q.limit,
      });
      return c.json(
        { data: page.executions.map(bulkExecutionOut), pagination: { next_page_token: page.nextPageToken } },
        200,
      );
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/bulk/syncs/{id}/executions/{execId}',
      tags: execTags,
      summary: 'Get an execution with its per-table executions',
      request: { params: execParams },
      responses: { 200: json(envelope(bulkExecution)) },
    }),
    async (c) => {
      const { id, execId } = c.req.valid('param');
      return c.json(
        { data: bulkExecutionOut(await runs.getBulkExecution(c.var.core, c.var.actor, id, execId)) },
        200,
      );
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/bulk/syncs/{id}/executions/{execId}/cancel',
      tags: execTags,
      summary: 'Cancel an execution (canceling, then canceled once its worker stops)',
      request: { params: execParams },
      responses: { 200: json(envelope(cancelResponse)) },
    }),
    async (c) => {
      const { id, execId } = c.req.valid('param');
      const execution = await runs.cancelBulkExecution(c.var.core, c.var.actor, id, execId);
      return c.json({ data: { message: `execution ${execution.id} is ${execution.status}` } }, 200);
    },
  );

  const schemaTags = ['Bulk Sync Schemas'];
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/bulk/syncs/{id}/schemas',
      tags: schemaTags,
      summary: 'Tables of a bulk sync with their selection',
      request: { params: idParams },
      responses: { 200: json(envelope(z.array(bulkSchema))) },
    }),
    async (c) => {
      const list = await syncs.listBulkSyncSchemas(c.var.core, c.var.actor, c.req.valid('param').id);
      return c.json({ data: list.map(bulkSchemaOut) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'patch',
      path: '/bulk/syncs/{id}/schemas',
      tags: schemaTags,
      summary: 'Update several tables at once (matched by id)',
      request: { params: idParams, body: jsonBody(z.object({ schemas: z.array(bulkSchemaInput).min(1) })) },
      responses: { 200: json(envelope(z.array(bulkSchema))) },
    }),
    async (c) => {
      const selections = c.req.valid('json').schemas.map(selectionOf);
      const rows = await syncs.updateBulkSyncSchemas(
        c.var.core,
        c.var.actor,
        c.req.valid('param').id,
        selections,
      );
      return c.json({ data: rows.map(bulkSchemaOut) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/bulk/syncs/{id}/schemas/{schemaId}',
      tags: schemaTags,
      summary: 'One table of a bulk sync',
      request: { params: schemaParams },
      responses: { 200: json(envelope(bulkSchema)) },
    }),
    async (c) => {
      const { id, schemaId } = c.req.valid('param');
      return c.json(
        { data: bulkSchemaOut(await syncs.getBulkSyncSchema(c.var.core, c.var.actor, id, schemaId)) },
        200,
      );
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'put',
      path: '/bulk/syncs/{id}/schemas/{schemaId}',
      tags: schemaTags,
      summary: 'Update one table: enabled, fields, tracking field, partition key, filters',
      request: { params: schemaParams, body: jsonBody(bulkSchemaInput.omit({ id: true })) },
      responses: { 200: json(envelope(bulkSchema)) },
    }),
    async (c) => {
      const { id, schemaId } = c.req.valid('param');
      const [row] = await syncs.updateBulkSyncSchemas(c.var.core, c.var.actor, id, [
        selectionOf({ ...c.req.valid('json'), id: schemaId }),
      ]);
      return c.json({ data: bulkSchemaOut(row!) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/bulk/syncs/{id}/schemas/{schemaId}/cancel',
      tags: schemaTags,
      summary: 'Cancel one table of the active execution',
      request: { params: schemaParams },
      responses: { 200: json(envelope(cancelResponse)) },
    }),
    async (c) => {
      const { id, schemaId } = c.req.valid('param');
      await runs.cancelBulkSchema(c.var.core, c.var.actor, id, schemaId);
      return c.json({ data: { message: `table ${schemaId} is canceling` } }, 200);
    },
  );

  const scheduleTags = ['Bulk Sync Schedules'];
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/bulk/syncs/{syncId}/schedules',
      tags: scheduleTags,
      summary: 'Schedules of a bulk sync',
      request: { params: scheduleListParams },
      responses: { 200: json(envelope(z.array(bulkScheduleRecord))) },
    }),
    async (c) => {
      const list = await syncs.listBulkSyncSchedules(c.var.core, c.var.actor, c.req.valid('param').syncId);
      return c.json({ data: list.map(bulkScheduleOut) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/bulk/syncs/{syncId}/schedules',
      tags: scheduleTags,
      summary: 'Add a schedule',
      request: { params: scheduleListParams, body: jsonBody(z.object({ schedule: bulkSchedule })) },
      responses: { 200: json(envelope(bulkScheduleRecord)) },
    }),
    async (c) => {
      const { syncId } = c.req.valid('param');
      const row = await syncs.createBulkSyncSchedule(
        c.var.core,
        c.var.actor,
        syncId,
        c.req.valid('json').schedule,
      );
      return c.json({ data: bulkScheduleOut(row) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/bulk/syncs/{syncId}/schedules/{scheduleId}',
      tags: scheduleTags,
      summary: 'Get a schedule',
      request: { params: scheduleParams },
      responses: { 200: json(envelope(bulkScheduleRecord)) },
    }),
    async (c) => {
      const { syncId, scheduleId } = c.req.valid('param');
      const row = await syncs.getBulkSyncSchedule(c.var.core, c.var.actor, syncId, scheduleId);
      return c.json({ data: bulkScheduleOut(row) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'put',
      path: '/bulk/syncs/{syncId}/schedules/{scheduleId}',
      tags: scheduleTags,
      summary: 'Replace a schedule',
      request: { params: scheduleParams, body: jsonBody(z.object({ schedule: bulkSchedule })) },
      responses: { 200: json(envelope(bulkScheduleRecord)) },
    }),
    async (c) => {
      const { syncId, scheduleId } = c.req.valid('param');
      const row = await syncs.updateBulkSyncSchedule(
        c.var.core,
        c.var.actor,
        syncId,
        scheduleId,
        c.req.valid('json').schedule,
      );
      return c.json({ data: bulkScheduleOut(row) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'delete',
      path: '/bulk/syncs/{syncId}/schedules/{scheduleId}',
      tags: scheduleTags,
      summary: 'Delete a schedule',
      request: { params: scheduleParams },
      responses: { 204: noContent },
    }),
    async (c) => {
      const { syncId, scheduleId } = c.req.valid('param');
      await syncs.deleteBulkSyncSchedule(c.var.core, c.var.actor, syncId, scheduleId);
      return c.body(null, 204);
    },
  );
}
