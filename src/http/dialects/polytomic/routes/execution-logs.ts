import { z } from '@hono/zod-openapi';
import * as logs from '../../../../services/execution-logs.ts';
import { getJob } from '../../../../services/jobs.ts';
import type { HttpApp } from '../../../env.ts';
import { jobOut } from '../presenters.ts';
import { json, polytomicRoute } from '../route.ts';
import { consoleLog, envelope, executionLogs, jobResponse, queryBoolean, uuidParam } from '../schemas.ts';

const tags = ['Bulk Sync Executions'];
const runParams = z.object({ syncId: uuidParam('syncId'), executionId: uuidParam('executionId') });
const page = z.object({
  limit: z.coerce
    .number()
    .int()
    .optional()
    .openapi({ description: 'At most 50 entries; larger values are capped.' }),
  after: z.string().optional().openapi({ description: 'Only entries newer than this cursor, oldest first.' }),
});

type ConsoleEntries = Awaited<ReturnType<typeof logs.bulkConsoleLog>>;
const consoleOut = (result: ConsoleEntries) => ({
  entries: result.entries.map((e) => ({
    cursor: e.cursor,
    timestamp: e.timestamp.toISOString(),
    level: e.level,
    message: e.message,
    schema: e.schemaId ?? undefined,
  })),
  next_cursor: result.nextCursor ?? undefined,
});

export function executionLogRoutes(app: HttpApp): void {
  // The execution's console log and one table's share their handler: the table is the optional filter.
  for (const [path, params, summary] of [
    [
      '/bulk/syncs/{syncId}/executions/{executionId}/consolelog',
      runParams,
      'Console log of an execution: the newest entries, or those after a cursor',
    ],
    [
      '/bulk/syncs/{syncId}/executions/{executionId}/schemas/{schemaId}/consolelog',
      runParams.extend({ schemaId: z.string().min(1).max(500) }),
      'Console log of one table of an execution',
    ],
  ] as const) {
    app.openapi(
      polytomicRoute({
        method: 'get',
        path,
        tags,
        summary,
        request: { params, query: page },
        responses: { 200: json(envelope(consoleLog)) },
      }),
      async (c) => {
        const result = await logs.bulkConsoleLog(
          c.var.core,
          c.var.actor,
          c.req.valid('param'),
          c.req.valid('query'),
        );
        return c.json({ data: consoleOut(result) }, 200);
      },
    );
  }
  app.openapi(
    polytomicRoute({
      method: 'get',
      path: '/bulk/syncs/{syncId}/executions/{executionId}/logs',
      tags,
      summary: 'Record log files (records, errors, warnings) with signed, expiring download URLs',
      request: { params: runParams },
      responses: { 200: json(envelope(executionLogs)) },
    }),
    async (c) => {
      const { syncId, executionId } = c.req.valid('param');
      const result = await logs.bulkRecordLogs(c.var.core, c.var.actor, syncId, executionId);
      return c.json(
        {
          data: {
            Expires: result.expiresAt.toISOString(),
            URLs: result.files.map((f) => f.url),
            files: result.files.map((f) => ({
              type: f.type,
              schema: f.schemaId ?? undefined,
              filename: f.filename,
              url: f.url,
              records: f.records,
              bytes: f.bytes,
            })),
          },
        },
        200,
      );
    },
  );
  app.openapi(
    polytomicRoute({
      method: 'post',
      path: '/bulk/syncs/{syncId}/executions/{executionId}/logs/export',
      tags,
      summary: 'Export every log of an execution as one archive; poll the job at `url`',
      request: { params: runParams, query: z.object({ notify: queryBoolean }) },
      responses: {
        202: json(
          envelope(z.object({ url: z.string(), job_id: z.string() })).extend({ job: jobResponse }),
          'Export started',
        ),
      },
    }),
    async (c) => {
      const { syncId, executionId } = c.req.valid('param');
      const notify = c.req.valid('query').notify ?? false;
      const jobId = await logs.exportBulkLogs(c.var.core, c.var.actor, syncId, executionId, notify);
      // `job` as Polytomic's export envelope has it (the SDK's `V4ExportSyncLogsEnvelope.job`).
      const job = jobOut(await getJob(c.var.core, c.var.actor, 'exportlogs', jobId));
      return c.json({ data: { url: `/api/jobs/exportlogs/${jobId}`, job_id: jobId }, job }, 202);
    },
  );
}
