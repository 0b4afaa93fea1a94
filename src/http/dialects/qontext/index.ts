import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { actorInOrganization, getRun, listRuns, runScopes } from '../../../services/run-history.ts';
import type { HttpEnv } from '../../env.ts';
import { rateLimit } from '../../rate-limit.ts';
import { validationError } from '../../validation.ts';
import { renderQontextError, requireApiKeyHeader } from './errors.ts';
import { statusSources, syncLogOut, syncLogStatus, typeOfScope } from './presenters.ts';
import { qontextError, syncLog, syncLogQuery } from './schemas.ts';

const tags = ['Qontext Sync Logs'];
const prefix = '/workspaces/:workspaceId/sync-logs';

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const errors = {
  400: json(qontextError, 'Invalid filter or cursor'),
  401: json(qontextError, 'Missing or invalid X-API-Key'),
  404: json(qontextError, 'No such workspace or sync log for this key'),
};
const workspaceId = z.string().openapi({ param: { name: 'workspaceId', in: 'path' } });

/**
 * Qontext's sync logs over Ferry's runs (bulk and model): a workspace is an organization, a sync
 * log is one run. Mounted at the root.
 */
export function qontextApi(rateLimitPerSecond: number): OpenAPIHono<HttpEnv> {
  const app = new OpenAPIHono<HttpEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error, result.target);
    },
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKeyAuth', {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
  });
  const limit = rateLimit(rateLimitPerSecond);
  for (const path of [prefix, `${prefix}/*`]) {
    app.use(path, requireApiKeyHeader);
    app.use(path, limit);
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workspaces/{workspaceId}/sync-logs',
      operationId: 'getAllSyncLogs',
      tags,
      security: [{ apiKeyAuth: [] }],
      summary: 'Get all sync logs',
      description:
        'Runs of the workspace, newest first. Filters combine; `status` and `type` take several values ' +
        '(`a,b` or repeated). When more runs match, the `x-next-cursor` header holds the `cursor` of the ' +
        'next page (a page may then hold fewer than `limit` logs when `status` names a running phase).',
      request: { params: z.object({ workspaceId }), query: syncLogQuery },
      responses: {
        200: {
          ...json(z.array(syncLog), 'Sync logs successfully fetched'),
          headers: {
            'x-next-cursor': { schema: { type: 'string' }, description: 'Cursor of the next page' },
          },
        },
        ...errors,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const actor = await actorInOrganization(c.var.core, c.var.actor, c.req.valid('param').workspaceId);
      const page = await listRuns(c.var.core, actor, {
        syncId: q.ingestionPipelineId,
        statuses: q.status && [...new Set(q.status.flatMap((s) => statusSources[s]))],
        scopes: q.type && runScopes.filter((scope) => q.type!.includes(typeOfScope[scope])),
        createdAfter: q.createdAfter === undefined ? undefined : new Date(q.createdAfter),
        createdBefore: q.createdBefore === undefined ? undefined : new Date(q.createdBefore),
        limit: q.limit,
        cursor: q.cursor,
      });
      if (page.nextCursor) c.header('x-next-cursor', page.nextCursor);
      const runs = q.status ? page.runs.filter((run) => q.status!.includes(syncLogStatus(run))) : page.runs;
      return c.json(runs.map(syncLogOut), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workspaces/{workspaceId}/sync-logs/{id}',
      operationId: 'getSyncLogById',
      tags,
      security: [{ apiKeyAuth: [] }],
      summary: 'Get sync log by ID',
      request: {
        params: z.object({ workspaceId, id: z.string().openapi({ param: { name: 'id', in: 'path' } }) }),
      },
      responses: { 200: json(syncLog, 'Sync log successfully fetched'), ...errors },
    }),
    async (c) => {
      const { workspaceId, id } = c.req.valid('param');
      const actor = await actorInOrganization(c.var.core, c.var.actor, workspaceId);
      return c.json(syncLogOut(await getRun(c.var.core, actor, id)), 200);
    },
  );
  app.onError(renderQontextError);
  return app;
}
