import { z } from '@hono/zod-openapi';
import { FerryError } from '../../../../domain/errors.ts';
import { startQuery } from '../../../../services/connections.ts';
import { getJob } from '../../../../services/jobs.ts';
import type { HttpApp } from '../../../env.ts';
import { jobOut } from '../presenters.ts';
import { json, polytomicRoute } from '../route.ts';
import { envelope, jobResponse, queryResult, uuidParam } from '../schemas.ts';

const sqlText = z.string().trim().min(1).max(100_000);

export function jobRoutes(app: HttpApp): void {
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/jobs/{type}/{id}',
      tags: ['Jobs'],
      summary: 'Status and result of an asynchronous job (schemarefresh, query, ...)',
      request: { params: z.object({ type: z.string(), id: z.string() }) },
      responses: { 200: json(envelope(jobResponse)) },
    }),
    async (c) => {
      const { type, id } = c.req.valid('param');
      return c.json({ data: jobOut(await getJob(c.var.core, c.var.actor, type, id)) }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/connections/{connectionId}/query',
      tags: ['Query Runner'],
      summary: 'Run a read-only query on a connection; poll GET /api/queries/{id} for results',
      request: {
        params: z.object({ connectionId: uuidParam('connectionId') }),
        // The SDK sends the SQL as the `query` query parameter; a JSON body `{"query": ...}` works too.
        query: z.object({ query: sqlText.optional() }),
        body: {
          required: false,
          content: { 'application/json': { schema: z.object({ query: sqlText.optional() }) } },
        },
      },
      responses: { 200: json(envelope(queryResult)) },
    }),
    async (c) => {
      const { connectionId } = c.req.valid('param');
      const sql = c.req.valid('query').query ?? c.req.valid('json')?.query;
      if (!sql)
        throw new FerryError('validation_failed', 'query: the SQL to run is required', { field: 'query' });
      const id = await startQuery(c.var.core, c.var.actor, connectionId, sql);
      return c.json({ data: { id, status: 'created' as const } }, 200);
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/queries/{id}',
      tags: ['Query Runner'],
      summary: 'Status and rows of a query',
      request: { params: z.object({ id: z.string() }) },
      responses: { 200: json(envelope(queryResult)) },
    }),
    async (c) => {
      const job = await getJob(c.var.core, c.var.actor, 'query', c.req.valid('param').id);
      const result = job.result as { fields: string[]; rows: Record<string, unknown>[] } | null;
      return c.json(
        {
          data: {
            id: job.id,
            status: job.state,
            error: job.error ?? undefined,
            ...(result ? { fields: result.fields, results: result.rows, count: result.rows.length } : {}),
          },
        },
        200,
      );
    },
  );
}
