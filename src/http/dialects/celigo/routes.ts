import { createRoute, type RouteConfig, z } from '@hono/zod-openapi';
import { cancelBulkSync, startBulkExecution } from '../../../services/bulk-executions.ts';
import { getBulkSync } from '../../../services/bulk-syncs.ts';
import type { Actor, Core } from '../../../services/context.ts';
import {
  actorInOrganization,
  cancelRun,
  getRun,
  isUuid,
  latestBulkRunPerSync,
  listBulkSyncRuns,
  listRunErrors,
} from '../../../services/run-history.ts';
import { traceIdFromTraceparent } from '../../../services/trace-context.ts';
import type { HttpApp } from '../../env.ts';
import { CeligoError, translating } from './errors.ts';
import { syncErrorOut, syncJobOut, syncTableJobOut, tableJobId } from './presenters.ts';
import {
  errorEnvelope,
  syncError,
  syncJob,
  syncJobFamily,
  syncJobsResponse,
  syncRunRequest,
  syncRunResponse,
  unauthorized,
} from './schemas.ts';

const tags = ['Celigo Data Loader'];
/** Errors one response lists at most; `x-total-count` gives how many the run has. */
const errorsPerResponse = 1000;

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const failure = (description: string) => json(errorEnvelope, description);

function celigoRoute<R extends Omit<RouteConfig, 'responses'> & { responses: RouteConfig['responses'] }>(
  config: R,
) {
  return createRoute({
    ...config,
    tags,
    security: [{ bearerAuth: [] }],
    responses: {
      401: json(
        unauthorized,
        '`Unauthorized` without a token, `Bearer Authentication Failed` with a bad one',
      ),
      ...config.responses,
    },
  });
}

const syncParams = z.object({ _syncId: z.string().openapi({ param: { name: '_syncId', in: 'path' } }) });
const jobParams = z.object({
  _syncJobId: z.string().openapi({ param: { name: '_syncJobId', in: 'path' } }),
});

const invalidRef = (what: string, id: string, field: string) =>
  new CeligoError(404, 'invalid_ref', `${what} ${id} not found`, field);

/** The bulk sync `_syncId` names, or 404 `invalid_ref`. */
async function syncOf(core: Core, actor: Actor, id: string) {
  if (!isUuid(id)) throw invalidRef('sync', id, '_syncId');
  return translating(() => getBulkSync(core, actor, id), { not_found: invalidRef('sync', id, '_syncId') });
}

const jobOf = (core: Core, actor: Actor, id: string, field = '_syncJobId') =>
  translating(() => getRun(core, actor, id, 'bulk'), { not_found: invalidRef('sync job', id, field) });

export function celigoRoutes(app: HttpApp): void {
  app.openapi(
    celigoRoute({
      method: 'post',
      path: '/v1/syncs/{_syncId}/run',
      operationId: 'runSync',
      summary: 'Trigger a sync run',
      description:
        'Queues a run of the bulk sync `_syncId`; `runType: resync` reloads every table. The returned ' +
        '`flowExecutionGroupId` is the new job id.',
      request: {
        params: syncParams,
        body: { required: false, content: { 'application/json': { schema: syncRunRequest } } },
      },
      responses: {
        200: json(syncRunResponse, 'Sync run accepted and queued.'),
        400: failure('Invalid `runType`: `invalid_parameter`.'),
        404: failure('Sync not found: `invalid_ref`.'),
        409: failure('A job is already queued or running for this sync: `sync_job_already_queued`.'),
        422: failure('The sync is disabled or has no enabled table: `invalid_sync`.'),
      },
    }),
    async (c) => {
      const { _syncId } = c.req.valid('param');
      const body = c.req.valid('json') ?? { runType: 'normal' as const };
      const sync = await syncOf(c.var.core, c.var.actor, _syncId);
      if (!sync.active) throw new CeligoError(422, 'invalid_sync', `sync ${_syncId} is disabled`);
      const { execution, created } = await translating(
        () =>
          startBulkExecution(c.var.core, c.var.actor, _syncId, {
            resync: body.runType === 'resync',
            traceId: traceIdFromTraceparent(c.req.header('traceparent')),
          }),
        {
          validation_failed: new CeligoError(
            422,
            'invalid_sync',
            `sync ${_syncId} has no enabled table to run`,
          ),
        },
      );
      if (!created) {
        throw new CeligoError(
          409,
          'sync_job_already_queued',
          `sync ${_syncId} already has a job in progress (${execution.id})`,
        );
      }
      return c.json({ syncId: _syncId, flowExecutionGroupId: execution.id }, 200);
    },
  );

  app.openapi(
    celigoRoute({
      method: 'get',
      path: '/v1/syncs/{_syncId}/syncJobs',
      operationId: 'listSyncJobs',
      summary: 'List sync jobs for a sync',
      description: 'Every job of the sync, newest first.',
      request: { params: syncParams },
      responses: {
        200: json(syncJobsResponse, 'List of sync jobs.'),
        404: failure('Sync not found: `invalid_ref`.'),
      },
    }),
    async (c) => {
      const { _syncId } = c.req.valid('param');
      await syncOf(c.var.core, c.var.actor, _syncId);
      const runs = await listBulkSyncRuns(c.var.core, c.var.actor, _syncId);
      const retention = c.var.core.config.jobRetentionDays;
      return c.json({ data: runs.map((run) => syncJobOut(run, retention)), totalCount: runs.length }, 200);
    },
  );

  app.openapi(
    celigoRoute({
      method: 'put',
      path: '/v1/syncs/{_syncId}/syncJobs/cancel',
      operationId: 'cancelSyncJobs',
      summary: 'Cancel all running sync jobs for a sync',
      request: { params: syncParams },
      responses: {
        204: { description: 'The running jobs are canceling.' },
        404: failure('Sync not found (`invalid_ref`) or no job to cancel (`sync_jobs_not_found`).'),
      },
    }),
    async (c) => {
      const { _syncId } = c.req.valid('param');
      await syncOf(c.var.core, c.var.actor, _syncId);
      await translating(() => cancelBulkSync(c.var.core, c.var.actor, _syncId), {
        conflict: new CeligoError(404, 'sync_jobs_not_found', `sync ${_syncId} has no job in progress`),
      });
      return c.body(null, 204);
    },
  );

  app.openapi(
    celigoRoute({
      method: 'get',
      path: '/v1/syncJobs/{_syncJobId}',
      operationId: 'getSyncJobById',
      summary: 'Get a sync job',
      request: { params: jobParams },
      responses: {
        200: json(syncJob, 'The sync job record.'),
        404: failure('Not found: `invalid_ref`.'),
      },
    }),
    async (c) => {
      const run = await jobOf(c.var.core, c.var.actor, c.req.valid('param')._syncJobId);
      return c.json(syncJobOut(run, c.var.core.config.jobRetentionDays), 200);
    },
  );

  app.openapi(
    celigoRoute({
      method: 'get',
      path: '/v1/syncJobs/{_syncJobId}/family',
      operationId: 'getSyncJobFamily',
      summary: 'Get a sync job and its table-level children',
      request: { params: jobParams },
      responses: {
        200: json(syncJobFamily, 'Sync job family (parent with per-table children).'),
        404: failure('Not found: `invalid_ref`.'),
      },
    }),
    async (c) => {
      const run = await jobOf(c.var.core, c.var.actor, c.req.valid('param')._syncJobId);
      return c.json(
        {
          ...syncJobOut(run, c.var.core.config.jobRetentionDays),
          tables: run.schemas.map((table) => syncTableJobOut(run, table)),
        },
        200,
      );
    },
  );

  app.openapi(
    celigoRoute({
      method: 'get',
      path: '/v1/syncJobs/{_parentJobId}/errors',
      operationId: 'listSyncJobErrors',
      summary: 'List errors for a sync job',
      description: `Failed tables and rejected rows of the job, at most ${errorsPerResponse}; \`x-total-count\` counts them all.`,
      request: {
        params: z.object({
          _parentJobId: z.string().openapi({ param: { name: '_parentJobId', in: 'path' } }),
        }),
        query: z.object({ _childJobId: z.string().optional() }),
      },
      responses: {
        200: {
          description: 'Array of sync error records.',
          headers: { 'x-total-count': { schema: { type: 'integer' }, description: 'Errors in total' } },
          content: { 'application/json': { schema: z.array(syncError) } },
        },
        404: failure('Not found: `invalid_ref`.'),
      },
    }),
    async (c) => {
      const { _parentJobId } = c.req.valid('param');
      const { _childJobId } = c.req.valid('query');
      const run = await jobOf(c.var.core, c.var.actor, _parentJobId, '_parentJobId');
      const table =
        _childJobId === undefined
          ? undefined
          : run.schemas.find((t) => tableJobId(run.id, t.schemaId) === _childJobId);
      if (_childJobId !== undefined && !table) {
        throw invalidRef(`table job of sync job ${run.id}`, _childJobId, '_childJobId');
      }
      const { total, errors } = await listRunErrors(c.var.core, c.var.actor, run.id, {
        schemaId: table?.schemaId,
        limit: errorsPerResponse,
      });
      c.header('x-total-count', String(total));
      return c.json(
        errors.map((error) => syncErrorOut(run, error)),
        200,
      );
    },
  );

  app.openapi(
    celigoRoute({
      method: 'put',
      path: '/v1/syncJobs/{_syncJobId}/cancel',
      operationId: 'cancelSyncJob',
      summary: 'Cancel a single sync job',
      request: { params: jobParams },
      responses: {
        204: { description: 'The job is canceling.' },
        403: failure('The job has already ended: `sync_job_not_cancellable`.'),
        404: failure('Not found: `invalid_ref`.'),
      },
    }),
    async (c) => {
      const { _syncJobId } = c.req.valid('param');
      await translating(() => cancelRun(c.var.core, c.var.actor, _syncJobId), {
        not_found: invalidRef('sync job', _syncJobId, '_syncJobId'),
        conflict: new CeligoError(
          403,
          'sync_job_not_cancellable',
          `sync job ${_syncJobId} has already ended and cannot be canceled`,
        ),
      });
      return c.body(null, 204);
    },
  );

  app.openapi(
    celigoRoute({
      method: 'get',
      path: '/v1/integrations/{_integrationId}/syncJobs/latest',
      operationId: 'getLatestSyncJobsForIntegration',
      summary: 'Get the latest sync job for each sync in an integration',
      description: 'An integration is a Ferry organization: its id is the organization id.',
      request: {
        params: z.object({
          _integrationId: z.string().openapi({ param: { name: '_integrationId', in: 'path' } }),
        }),
      },
      responses: {
        200: json(z.array(syncJob), 'The latest job of each sync that has run.'),
        204: { description: 'No sync of the integration has a job.' },
        404: failure(
          'No such integration (`sync_job_missing_integration`) or it has no sync (`sync_job_invalid_integration_id`).',
        ),
      },
    }),
    async (c) => {
      const { _integrationId } = c.req.valid('param');
      const actor = await translating(() => actorInOrganization(c.var.core, c.var.actor, _integrationId), {
        not_found: new CeligoError(
          404,
          'sync_job_missing_integration',
          `integration ${_integrationId} not found`,
          '_integrationId',
        ),
      });
      const { syncCount, runs } = await latestBulkRunPerSync(c.var.core, actor);
      if (syncCount === 0) {
        throw new CeligoError(
          404,
          'sync_job_invalid_integration_id',
          `integration ${_integrationId} has no syncs`,
          '_integrationId',
        );
      }
      if (runs.length === 0) return c.body(null, 204);
      const retention = c.var.core.config.jobRetentionDays;
      return c.json(
        runs.map((run) => syncJobOut(run, retention)),
        200,
      );
    },
  );
}
