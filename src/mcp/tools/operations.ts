import { z } from 'zod';
import { recordLogTypes } from '../../domain/executions.ts';
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

// Tools beyond the seeds that close an agent's loop: find connections and syncs, start a bulk sync,
// follow model sync executions and their logs, and poll asynchronous jobs such as log exports.

const modelExecution = (syncId: string, id: string) =>
  `/api/syncs/${segment(syncId)}/executions/${segment(id)}`;
const modelSyncId = uuid('Unique identifier of the model sync.');
const modelExecutionId = uuid('Unique identifier of the model sync execution.');

export const operationTools = [
  defineTool({
    name: 'list-connections',
    title: 'List Connections',
    description: 'Connections of the organization (databases, files, APIs) with their type and status.',
    hints: readOnly,
    input: {},
    request: () => ({ method: 'GET', path: '/api/connections' }),
  }),
  defineTool({
    name: 'list-bulk-syncs',
    title: 'List Bulk Syncs',
    description: 'Bulk syncs of the organization: source and destination connections, mode, schedule.',
    hints: readOnly,
    input: {
      active: z.boolean().optional().describe('Filter to only active (true) or paused (false) syncs.'),
    },
    request: ({ active }) => ({ method: 'GET', path: '/api/bulk/syncs', query: { active } }),
  }),
  defineTool({
    name: 'get-bulk-sync',
    title: 'Get Bulk Sync',
    description: 'One bulk sync with its connections, mode, schedule and selected tables.',
    hints: readOnly,
    input: { id: uuid('Unique identifier of the bulk sync.') },
    request: ({ id }) => ({ method: 'GET', path: `/api/bulk/syncs/${segment(id)}` }),
  }),
  defineTool({
    name: 'get-bulk-sync-status',
    title: 'Get Bulk Sync Status',
    description: 'Current and last execution of a bulk sync, and its next scheduled run.',
    hints: readOnly,
    input: { id: uuid('Unique identifier of the bulk sync.') },
    request: ({ id }) => ({ method: 'GET', path: `/api/bulk/syncs/${segment(id)}/status` }),
  }),
  defineTool({
    name: 'start-bulk-sync',
    title: 'Start Bulk Sync',
    description:
      'Start a run of a bulk sync; while one is queued or running, that run is returned. It writes to the destination database.',
    hints: { ...action, openWorld: true },
    input: {
      id: uuid('Unique identifier of the bulk sync.'),
      resync: z.boolean().optional().describe('Reload every table in full instead of incrementally.'),
      schemas: z
        .array(z.string().min(1))
        .optional()
        .describe(
          'Only run these tables (schema ids such as `public.events`); all selected tables by default.',
        ),
      test: z
        .boolean()
        .optional()
        .describe('Test run: a sample of each table goes to the records log, the destination is untouched.'),
    },
    request: ({ id, ...body }) => ({
      method: 'POST',
      path: `/api/bulk/syncs/${segment(id)}/executions`,
      body,
    }),
  }),
  defineTool({
    name: 'get-job',
    title: 'Get Job',
    description:
      'Status and result of an asynchronous job, e.g. a log export (type `exportlogs`): when done, result.url downloads the archive.',
    hints: readOnly,
    input: {
      type: z.string().min(1).max(100).describe('Job type, e.g. `exportlogs` or `schemarefresh`.'),
      id: z.string().min(1).max(200).describe('Job id, as returned by the call that started the job.'),
    },
    request: ({ type, id }) => ({ method: 'GET', path: `/api/jobs/${segment(type)}/${segment(id)}` }),
  }),
  defineTool({
    name: 'list-sync-executions',
    title: 'List Sync Executions',
    description: 'Executions (runs) of a model sync, newest first unless `ascending`, one page at a time.',
    hints: readOnly,
    input: {
      sync_id: modelSyncId,
      page_token: pageToken,
      only_completed: z
        .boolean()
        .optional()
        .describe('When true, only return executions that have finished.'),
      ascending: z.boolean().optional().describe('When true, return executions from oldest to newest.'),
    },
    request: ({ sync_id, ...query }) => ({
      method: 'GET',
      path: `/api/syncs/${segment(sync_id)}/executions`,
      query,
    }),
  }),
  defineTool({
    name: 'get-sync-execution',
    title: 'Get Sync Execution',
    description: 'One execution of a model sync: status, record counts, errors and timestamps.',
    hints: readOnly,
    input: { sync_id: modelSyncId, id: modelExecutionId },
    request: ({ sync_id, id }) => ({ method: 'GET', path: modelExecution(sync_id, id) }),
  }),
  defineTool({
    name: 'cancel-sync-execution',
    title: 'Cancel Sync Execution',
    description: 'Cancel one running execution of a model sync.',
    hints: action,
    input: { sync_id: modelSyncId, id: modelExecutionId },
    request: ({ sync_id, id }) => ({ method: 'POST', path: `${modelExecution(sync_id, id)}/cancel` }),
  }),
  defineTool({
    name: 'get-sync-execution-console-logs',
    title: 'Get Sync Execution Console Logs',
    description: 'Console log lines of a model sync execution: the newest, or those after a cursor.',
    hints: readOnly,
    input: { sync_id: modelSyncId, id: modelExecutionId, limit: consoleLimit, after: consoleAfter },
    request: ({ sync_id, id, limit, after }) => ({
      method: 'GET',
      path: `${modelExecution(sync_id, id)}/consolelog`,
      query: { limit, after },
    }),
  }),
  defineTool({
    name: 'get-sync-execution-logs',
    title: 'Get Sync Execution Logs',
    description:
      'Signed, expiring download URLs of the record log files of a model sync execution: every file with its type and record count, or the URLs of one `type`.',
    hints: readOnly,
    input: {
      sync_id: modelSyncId,
      id: modelExecutionId,
      type: z
        .enum(recordLogTypes)
        .optional()
        .describe(
          'Only this record log: records, errors, warnings, inserts, updates or deletes. Omit to list every file.',
        ),
    },
    request: ({ sync_id, id, type }) => ({
      method: 'GET',
      path: `${modelExecution(sync_id, id)}/${type ?? 'logs'}`,
    }),
  }),
];
