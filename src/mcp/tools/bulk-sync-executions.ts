import { z } from 'zod';
import {
  action,
  consoleAfter,
  consoleLimit,
  defineTool,
  pageToken,
  readOnly,
  segment,
  uuid,
} from '../tool.ts';

// The tools of the capability "subpackage_bulkSync/executions" (seed 000), with its names and hints.

const syncId = uuid('Unique identifier of the bulk sync.');
const executionId = uuid('Unique identifier of the execution.');
const execution = (id: string, execId: string) =>
  `/api/bulk/syncs/${segment(id)}/executions/${segment(execId)}`;

export const bulkSyncExecutionTools = [
  defineTool({
    name: 'list-bulk-sync-execution-status',
    title: 'List Bulk Sync Execution Status',
    description:
      'Status of the current or last execution of bulk syncs: every sync (`all`), the active ones (`active`), or those named in `sync_id`.',
    hints: readOnly,
    input: {
      all: z
        .boolean()
        .optional()
        .describe("When true, return status for every sync in the caller's organization. Overrides sync_id."),
      active: z
        .boolean()
        .optional()
        .describe(
          "When true, return status only for active syncs in the caller's organization. Overrides sync_id.",
        ),
      sync_id: z
        .array(uuid('A bulk sync id.'))
        .optional()
        .describe('Return status for these bulk syncs. Ignored if all or active is true.'),
    },
    request: ({ all, active, sync_id }) => ({
      method: 'GET',
      path: '/api/bulk/syncs/status',
      query: { all, active, sync_id },
    }),
  }),
  defineTool({
    name: 'list-bulk-sync-executions',
    title: 'List Bulk Sync Executions',
    description: 'Executions (runs) of a bulk sync, newest first unless `ascending`, one page at a time.',
    hints: readOnly,
    input: {
      id: syncId,
      page_token: pageToken,
      only_terminal: z
        .boolean()
        .optional()
        .describe('When true, only return executions that have finished, ordered by updated_at.'),
      ascending: z.boolean().optional().describe('When true, return executions from oldest to newest.'),
      limit: z
        .number()
        .int()
        .min(1)
        .max(100)
        .optional()
        .describe('Maximum number of executions to return, at most 100.'),
    },
    request: ({ id, ...query }) => ({
      method: 'GET',
      path: `/api/bulk/syncs/${segment(id)}/executions`,
      query,
    }),
  }),
  defineTool({
    name: 'get-bulk-sync-execution',
    title: 'Get Bulk Sync Execution',
    description:
      'One execution of a bulk sync: status, counts, timestamps and one entry per table (schema) with its own status.',
    hints: readOnly,
    input: { id: syncId, exec_id: executionId },
    request: ({ id, exec_id }) => ({ method: 'GET', path: execution(id, exec_id) }),
  }),
  defineTool({
    name: 'cancel-bulk-sync-execution',
    title: 'Cancel Bulk Sync Execution',
    description:
      'Cancel a running execution: it becomes `canceling`, then `canceled` once its worker stopped. The destination keeps its previous state.',
    hints: action,
    input: { id: uuid('The bulk sync ID.'), exec_id: uuid('The execution ID to cancel.') },
    request: ({ id, exec_id }) => ({ method: 'POST', path: `${execution(id, exec_id)}/cancel` }),
  }),
  defineTool({
    name: 'get-bulk-execution-console-logs',
    title: 'Get Bulk Execution Console Logs',
    description:
      'Console log lines of a bulk sync execution: the newest entries, or with `after` those newer than a cursor.',
    hints: readOnly,
    input: { sync_id: syncId, execution_id: executionId, limit: consoleLimit, after: consoleAfter },
    request: ({ sync_id, execution_id, limit, after }) => ({
      method: 'GET',
      path: `${execution(sync_id, execution_id)}/consolelog`,
      query: { limit, after },
    }),
  }),
  defineTool({
    name: 'get-bulk-sync-execution-logs',
    title: 'Get Bulk Sync Execution Logs',
    description:
      'Record log files of an execution (records, errors, warnings per table) with signed, expiring download URLs.',
    hints: readOnly,
    input: {
      sync_id: syncId,
      execution_id: uuid('Unique identifier of the execution whose log files should be listed.'),
    },
    request: ({ sync_id, execution_id }) => ({
      method: 'GET',
      path: `${execution(sync_id, execution_id)}/logs`,
    }),
  }),
  defineTool({
    name: 'export-sync-logs',
    title: 'Export Sync Logs',
    description:
      'Start exporting every log of an execution as one archive. Poll the returned job with get-job; when done its result.url downloads the archive.',
    hints: action,
    input: {
      sync_id: syncId,
      execution_id: uuid('Unique identifier of the execution whose logs should be exported.'),
      notify: z
        .boolean()
        .optional()
        .describe('Send a notification to the user when the logs are ready for download.'),
    },
    request: ({ sync_id, execution_id, notify }) => ({
      method: 'POST',
      path: `${execution(sync_id, execution_id)}/logs/export`,
      query: { notify },
    }),
  }),
  defineTool({
    name: 'get-bulk-schema-execution-console',
    title: 'Get Bulk Schema Execution Console Logs',
    description: 'Console log lines of one table (schema) of a bulk sync execution.',
    hints: readOnly,
    input: {
      sync_id: syncId,
      execution_id: executionId,
      schema_id: z
        .string()
        .min(1)
        .max(500)
        .describe('Schema (table) identifier for schema-scoped console logs, e.g. `public.events`.'),
      limit: consoleLimit,
      after: consoleAfter,
    },
    request: ({ sync_id, execution_id, schema_id, limit, after }) => ({
      method: 'GET',
      path: `${execution(sync_id, execution_id)}/schemas/${segment(schema_id)}/consolelog`,
      query: { limit, after },
    }),
  }),
];
