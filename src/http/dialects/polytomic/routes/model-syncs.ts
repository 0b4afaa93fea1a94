import { z } from '@hono/zod-openapi';
import { recordLogTypes } from '../../../../domain/executions.ts';
import * as runs from '../../../../services/model-executions.ts';
import * as syncs from '../../../../services/model-syncs.ts';
import type { HttpApp } from '../../../env.ts';
import { modelExecutionOut, modelSyncOut, targetOut } from '../model-presenters.ts';
import {
  modelExecution,
  modelSync,
  modelSyncInput,
  modelSyncModes,
  modelSyncStatus,
  targetObject,
  targetResponse,
} from '../model-schemas.ts';
import { json, jsonBody, noContent, polytomicRoute } from '../route.ts';
import { consoleLog, envelope, pagination, queryBoolean, uuidParam } from '../schemas.ts';

const tags = ['Model Sync'];
const runTags = ['Model Sync Executions'];
const idParams = z.object({ id: uuidParam('id') });
const runParams = z.object({ syncId: uuidParam('syncId'), id: uuidParam('id') });
const logType = z.enum(recordLogTypes);
const iso = (d: Date | null | undefined) => (d ? d.toISOString() : undefined);

const scheduleOptions = [
  { frequency: 'manual', label: 'Manual', description: 'Runs only when started' },
  { frequency: 'continuous', label: 'Continuous', description: 'Runs again as soon as a run ends' },
  { frequency: 'hourly', label: 'Hourly', description: 'Every hour at `minute`' },
  { frequency: 'daily', label: 'Daily', description: 'Every day at `hour`:`minute` UTC' },
  { frequency: 'weekly', label: 'Weekly', description: 'Every `day_of_week` at `hour`:`minute` UTC' },
  { frequency: 'custom', label: 'Custom', description: 'A cron expression from the five schedule fields' },
];

const inputOf = (body: z.infer<typeof modelSyncInput>): syncs.ModelSyncInput => ({
  name: body.name,
  mode: body.mode,
  target: {
    connectionId: body.target.connection_id,
    object: body.target.object,
    configuration: body.target.configuration,
  },
  fields: body.fields,
  overrideFields: body.override_fields,
  identity: body.identity,
  filters: body.filters,
  filterLogic: body.filter_logic,
  overrides: body.overrides,
  schedule: body.schedule,
  active: body.active,
  syncAllRecords: body.sync_all_records,
  organizationId: body.organization_id,
});

export function modelSyncRoutes(app: HttpApp): void {
  modelSyncConfigRoutes(app);
  modelSyncTargetRoutes(app);
  modelExecutionRoutes(app);
}

function modelSyncConfigRoutes(app: HttpApp): void {
  // Literal segments (`schedules`) are registered before `{id}` so they win.
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/syncs/schedules',
      tags,
      summary: 'Schedule frequencies a model sync may use',
      responses: {
        200: json(
          envelope(
            z.object({
              schedule_options: z.array(
                z.object({ frequency: z.string(), label: z.string(), description: z.string() }),
              ),
            }),
          ),
        ),
      },
    }),
    async (c) => c.json({ data: { schedule_options: scheduleOptions } }, 200),
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/syncs',
      tags,
      summary: `List model syncs, at most ${syncs.maxListLimit} a page`,
      request: {
        query: z.object({
          active: queryBoolean,
          mode: z.enum(modelSyncModes).optional(),
          target_connection_id: z.uuid({ message: 'must be a UUID' }).optional(),
          page_token: z.string().optional(),
          limit: z.coerce.number().int().min(1).max(syncs.maxListLimit).optional(),
        }),
      },
      responses: { 200: json(z.object({ data: z.array(modelSync), pagination })) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const page = await syncs.listModelSyncs(c.var.core, c.var.actor, {
        active: q.active,
        mode: q.mode,
        targetConnectionId: q.target_connection_id,
        pageToken: q.page_token,
        limit: q.limit,
      });
      return c.json(
        { data: page.syncs.map(modelSyncOut), pagination: { next_page_token: page.nextPageToken } },
        200,
      );
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/syncs',
      tags,
      summary: 'Create a model sync',
      request: { body: jsonBody(modelSyncInput) },
      responses: { 200: json(envelope(modelSync)) },
    }),
    async (c) => {
      const created = await syncs.createModelSync(c.var.core, c.var.actor, inputOf(c.req.valid('json')));
      return c.json({ data: modelSyncOut(created) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/syncs/{id}',
      tags,
      summary: 'Get a model sync',
      request: { params: idParams },
      responses: { 200: json(envelope(modelSync)) },
    }),
    async (c) =>
      c.json(
        { data: modelSyncOut(await syncs.getModelSync(c.var.core, c.var.actor, c.req.valid('param').id)) },
        200,
      ),
  );
  app.openapi(
    polytomicRoute({
      method: 'put',
      path: '/syncs/{id}',
      tags,
      summary: 'Update a model sync',
      request: { params: idParams, body: jsonBody(modelSyncInput) },
      responses: { 200: json(envelope(modelSync)) },
    }),
    async (c) => {
      const updated = await syncs.updateModelSync(
        c.var.core,
        c.var.actor,
        c.req.valid('param').id,
        inputOf(c.req.valid('json')),
      );
      return c.json({ data: modelSyncOut(updated) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'delete',
      path: '/syncs/{id}',
      tags,
      summary: 'Delete a model sync',
      request: { params: idParams },
      responses: { 204: noContent },
    }),
    async (c) => {
      await syncs.deleteModelSync(c.var.core, c.var.actor, c.req.valid('param').id);
      return c.body(null, 204);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/syncs/{id}/activate',
      tags,
      summary: 'Activate or pause a model sync',
      request: { params: idParams, body: jsonBody(z.object({ active: z.boolean() })) },
      responses: { 200: json(envelope(z.object({ id: z.string(), active: z.boolean() }))) },
    }),
    async (c) => {
      const row = await syncs.setModelSyncActive(
        c.var.core,
        c.var.actor,
        c.req.valid('param').id,
        c.req.valid('json').active,
      );
      return c.json({ data: { id: row.id, active: row.active } }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/syncs/{id}/cancel',
      tags,
      summary: "Cancel the sync's active execution",
      request: { params: idParams },
      responses: { 200: json(envelope(z.object({ message: z.string() }))) },
    }),
    async (c) => {
      const execution = await runs.cancelModelSync(c.var.core, c.var.actor, c.req.valid('param').id);
      return c.json({ data: { message: `execution ${execution.id} is ${execution.status}` } }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/syncs/{id}/executions',
      tags,
      summary: 'Start a run; while one is active, that run is returned',
      request: {
        params: idParams,
        body: {
          required: false,
          content: {
            'application/json': {
              schema: z.object({
                resync: z.boolean().optional(),
                test: z.boolean().optional(),
                identities: z.array(z.string().min(1)).max(10_000).optional(),
              }),
            },
          },
        },
      },
      responses: {
        200: json(envelope(z.object({ id: z.string(), status: z.string(), created_at: z.string() }))),
      },
    }),
    async (c) => {
      const body = c.req.valid('json') ?? {};
      const { execution } = await runs.startModelExecution(c.var.core, c.var.actor, c.req.valid('param').id, {
        resync: body.resync,
        test: body.test,
        identities: body.identities,
      });
      return c.json(
        {
          data: { id: execution.id, status: execution.status, created_at: execution.createdAt.toISOString() },
        },
        200,
      );
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/syncs/{id}/status',
      tags,
      summary: 'The current and last execution, and when the schedule runs next',
      request: { params: idParams },
      responses: { 200: json(envelope(modelSyncStatus)) },
    }),
    async (c) => {
      const status = await runs.modelSyncStatus(c.var.core, c.var.actor, c.req.valid('param').id);
      return c.json(
        {
          data: {
            current_execution: status.current && modelExecutionOut(status.current),
            last_execution: status.last && modelExecutionOut(status.last),
            next_execution_time: iso(status.nextExecutionTime),
          },
        },
        200,
      );
    },
  );
}

function modelSyncTargetRoutes(app: HttpApp): void {
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/connections/{id}/modelsync/targetobjects',
      tags,
      summary: 'Objects (tables, or the HTTP endpoint) a model sync can write to',
      request: { params: idParams },
      responses: { 200: json(z.object({ data: z.array(targetObject) })) },
    }),
    async (c) =>
      c.json(
        { data: await syncs.modelSyncTargetObjects(c.var.core, c.var.actor, c.req.valid('param').id) },
        200,
      ),
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/connections/{id}/modelsync/target',
      tags,
      summary: 'Target objects of a connection as items of `object`',
      request: {
        params: idParams,
        query: z.object({ type: z.string().optional(), search: z.string().optional() }),
      },
      responses: {
        200: json(
          envelope(
            z.object({
              items: z.record(z.string(), z.object({ has_items: z.boolean(), items: z.array(z.unknown()) })),
              requires_one_of: z.array(z.string()),
            }),
          ),
        ),
      },
    }),
    async (c) => {
      const search = c.req.valid('query').search?.toLowerCase();
      const objects = (
        await syncs.modelSyncTargetObjects(c.var.core, c.var.actor, c.req.valid('param').id)
      ).filter((o) => !search || o.id.toLowerCase().includes(search));
      const items = objects.map((o) => ({ value: o.id, label: o.name }));
      return c.json(
        { data: { items: { object: { has_items: items.length > 0, items } }, requires_one_of: ['object'] } },
        200,
      );
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/connections/{id}/modelsync/target/fields',
      tags,
      summary: 'One target object with its fields and the modes it supports',
      request: {
        params: idParams,
        query: z.object({ target: z.string().min(1), refresh: queryBoolean }),
      },
      responses: { 200: json(envelope(targetResponse)) },
    }),
    async (c) => {
      const target = await syncs.modelSyncTarget(
        c.var.core,
        c.var.actor,
        c.req.valid('param').id,
        c.req.valid('query').target,
      );
      return c.json({ data: targetOut(target) }, 200);
    },
  );
}

function modelExecutionRoutes(app: HttpApp): void {
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/syncs/{syncId}/executions',
      tags: runTags,
      summary: 'Executions of a model sync, newest first',
      request: {
        params: z.object({ syncId: uuidParam('syncId') }),
        query: z.object({
          page_token: z.string().optional(),
          only_completed: queryBoolean,
          ascending: queryBoolean,
        }),
      },
      responses: { 200: json(z.object({ data: z.array(modelExecution), pagination })) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const page = await runs.listModelExecutions(c.var.core, c.var.actor, c.req.valid('param').syncId, {
        pageToken: q.page_token,
        onlyCompleted: q.only_completed,
        ascending: q.ascending,
      });
      return c.json(
        { data: page.executions.map(modelExecutionOut), pagination: { next_page_token: page.nextPageToken } },
        200,
      );
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/syncs/{syncId}/executions/{id}',
      tags: runTags,
      summary: 'Get an execution',
      request: { params: runParams },
      responses: { 200: json(envelope(modelExecution)) },
    }),
    async (c) => {
      const { syncId, id } = c.req.valid('param');
      return c.json(
        { data: modelExecutionOut(await runs.getModelExecution(c.var.core, c.var.actor, syncId, id)) },
        200,
      );
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'put',
      path: '/syncs/{syncId}/executions/{id}',
      tags: runTags,
      summary: 'Update an execution: `{"status": "canceled"}` cancels it',
      request: { params: runParams, body: jsonBody(z.object({ status: z.literal('canceled') })) },
      responses: { 200: json(envelope(modelExecution)) },
    }),
    async (c) => {
      const { syncId, id } = c.req.valid('param');
      return c.json(
        { data: modelExecutionOut(await runs.cancelModelExecution(c.var.core, c.var.actor, syncId, id)) },
        200,
      );
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/syncs/{syncId}/executions/{id}/cancel',
      tags: runTags,
      summary: 'Cancel an execution: queued runs end at once, running ones within seconds',
      request: { params: runParams },
      responses: { 200: json(envelope(modelExecution)) },
    }),
    async (c) => {
      const { syncId, id } = c.req.valid('param');
      return c.json(
        { data: modelExecutionOut(await runs.cancelModelExecution(c.var.core, c.var.actor, syncId, id)) },
        200,
      );
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/syncs/{syncId}/executions/{id}/consolelog',
      tags: runTags,
      summary: 'Console log of an execution: the newest entries, or those after a cursor',
      request: {
        params: runParams,
        query: z.object({ limit: z.coerce.number().int().optional(), after: z.string().optional() }),
      },
      responses: { 200: json(envelope(consoleLog)) },
    }),
    async (c) => {
      const { syncId, id } = c.req.valid('param');
      const result = await runs.modelConsoleLog(
        c.var.core,
        c.var.actor,
        { syncId, executionId: id },
        c.req.valid('query'),
      );
      return c.json(
        {
          data: {
            entries: result.entries.map((e) => ({
              cursor: e.cursor,
              timestamp: e.timestamp.toISOString(),
              level: e.level,
              message: e.message,
            })),
            next_cursor: result.nextCursor ?? undefined,
          },
        },
        200,
      );
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/syncs/{syncId}/executions/{id}/logs',
      tags: runTags,
      summary: 'Index of the record log files of an execution, by type, with signed URLs',
      request: { params: runParams },
      responses: {
        200: json(
          envelope(
            z.object({
              expires: z.string(),
              files: z.array(
                z.object({
                  type: z.string(),
                  filename: z.string(),
                  url: z.string(),
                  records: z.number().int(),
                }),
              ),
            }),
          ),
        ),
      },
    }),
    async (c) => {
      const { syncId, id } = c.req.valid('param');
      const result = await runs.modelRecordLogs(c.var.core, c.var.actor, syncId, id);
      return c.json(
        {
          data: {
            expires: result.expiresAt.toISOString(),
            files: result.files.map((f) => ({
              type: f.type,
              filename: f.filename,
              url: f.url,
              records: f.records,
            })),
          },
        },
        200,
      );
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/syncs/{syncId}/executions/{id}/{type}',
      tags: runTags,
      summary: 'Signed, expiring URLs of the log files of one type',
      request: { params: runParams.extend({ type: logType }) },
      responses: { 200: json(envelope(z.object({ expires: z.string(), urls: z.array(z.string()) }))) },
    }),
    async (c) => {
      const { syncId, id, type } = c.req.valid('param');
      const result = await runs.modelRecordLogs(c.var.core, c.var.actor, syncId, id, type);
      return c.json(
        { data: { expires: result.expiresAt.toISOString(), urls: result.files.map((f) => f.url) } },
        200,
      );
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/syncs/{syncId}/executions/{id}/{type}/{filename}',
      tags: runTags,
      summary: 'Download one log file (JSON lines)',
      request: { params: runParams.extend({ type: logType, filename: z.string().min(1).max(300) }) },
      responses: {
        200: { description: 'The log file', content: { 'application/x-ndjson': { schema: z.string() } } },
      },
    }),
    async (c) => {
      const { syncId, id, type, filename } = c.req.valid('param');
      const stream = await runs.openModelRecordLog(c.var.core, c.var.actor, {
        syncId,
        executionId: id,
        type,
        filename,
      });
      return c.body(stream, 200, {
        'content-type': 'application/x-ndjson',
        'content-disposition': `attachment; filename="${filename}"`,
      });
    },
  );
}
