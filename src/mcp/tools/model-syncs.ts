import { z } from 'zod';
import { action, defineTool, pageToken, readOnly, segment, uuid } from '../tool.ts';

// The tools of the capability "subpackage_modelSync" (seed 002), with its names and hints.

const connectionId = uuid('Unique identifier of the connection.');
const modelSyncId = uuid('Unique identifier of the model sync.');
const sourceParams = (description: string) =>
  z.record(z.string(), z.array(z.string())).optional().describe(description);
const syncBody = (description: string) => z.record(z.string(), z.unknown()).describe(description);

export const modelSyncTools = [
  defineTool({
    name: 'get-sync-source',
    title: 'Get Sync Source',
    description:
      'Source configuration choices of a connection for model syncs (e.g. its tables), refined step by step with `params`.',
    hints: { ...readOnly, openWorld: true },
    input: {
      id: connectionId,
      params: sourceParams(
        'Values chosen so far for the source configuration fields returned by previous calls, as field -> list of values.',
      ),
    },
    request: ({ id, params }) => ({
      method: 'GET',
      path: `/api/connections/${segment(id)}/modelsync/source`,
      query: { params: params && JSON.stringify(params) },
    }),
  }),
  defineTool({
    name: 'model-sync-field-query',
    title: 'Model Sync Field Query',
    description: 'Fields (columns with their types) of the source selected by `params` on a connection.',
    hints: { ...readOnly, openWorld: true },
    input: {
      id: connectionId,
      params: sourceParams(
        'Source configuration, as used with get-sync-source, selecting the source to return fields for.',
      ),
    },
    request: ({ id, params }) => ({
      method: 'GET',
      path: `/api/connections/${segment(id)}/modelsync/source/fields`,
      query: { params: params && JSON.stringify(params) },
    }),
  }),
  defineTool({
    name: 'list-syncs',
    title: 'List Syncs',
    description: 'Model syncs of the organization, optionally filtered, one page at a time.',
    hints: readOnly,
    input: {
      active: z.boolean().optional().describe('Filter to only active (true) or only paused (false) syncs.'),
      mode: z
        .string()
        .min(1)
        .optional()
        .describe(
          'Filter by sync target mode: create, update, updateOrCreate, replace, append, remove or snapshot.',
        ),
      target_connection_id: uuid('Filter to syncs that write to this target connection.').optional(),
      page_token: pageToken,
      limit: z
        .number()
        .int()
        .min(1)
        .max(50)
        .optional()
        .describe('Maximum number of syncs to return. Default and maximum is 50.'),
    },
    request: (query) => ({ method: 'GET', path: '/api/syncs', query }),
  }),
  defineTool({
    name: 'create-sync',
    title: 'Create Sync',
    description:
      'Create a model sync: name, target (connection and object), mode, fields, identity, schedule, as in POST /api/syncs.',
    hints: action,
    input: {
      body: syncBody(
        'The model sync to create, as the Polytomic API takes it: name, target {connection_id, object}, mode, fields, identity, schedule, active.',
      ),
    },
    request: ({ body }) => ({ method: 'POST', path: '/api/syncs', body }),
  }),
  defineTool({
    name: 'get-sync-schedule-options',
    title: 'Get Sync Schedule Options',
    description: 'The schedule frequencies a model sync accepts, with their fields.',
    hints: readOnly,
    input: {},
    request: () => ({ method: 'GET', path: '/api/syncs/schedules' }),
  }),
  defineTool({
    name: 'get-sync',
    title: 'Get Sync',
    description: 'One model sync with its target, mode, fields, filters and schedule.',
    hints: readOnly,
    input: { id: modelSyncId },
    request: ({ id }) => ({ method: 'GET', path: `/api/syncs/${segment(id)}` }),
  }),
  defineTool({
    name: 'update-sync',
    title: 'Update Sync',
    description: 'Replace the definition of a model sync (the same body as create-sync).',
    hints: { ...action, idempotent: true },
    input: { id: modelSyncId, body: syncBody('The full model sync definition, as for create-sync.') },
    request: ({ id, body }) => ({ method: 'PUT', path: `/api/syncs/${segment(id)}`, body }),
  }),
  defineTool({
    name: 'delete-model-sync',
    title: 'Delete Model Sync',
    description: 'Delete a model sync and its schedule. Its past executions and logs are no longer listed.',
    hints: { readOnly: false, destructive: true, idempotent: true, openWorld: false },
    input: { id: modelSyncId },
    request: ({ id }) => ({ method: 'DELETE', path: `/api/syncs/${segment(id)}` }),
  }),
  defineTool({
    name: 'activate-sync',
    title: 'Activate Sync',
    description: 'Activate (schedule runs) or pause a model sync.',
    hints: action,
    input: {
      id: modelSyncId,
      body: z
        .object({ active: z.boolean().describe('True to activate the sync, false to pause it.') })
        .describe('The new state of the sync.'),
    },
    request: ({ id, body }) => ({ method: 'POST', path: `/api/syncs/${segment(id)}/activate`, body }),
  }),
  defineTool({
    name: 'cancel-sync',
    title: 'Cancel Sync',
    description: 'Cancel the active execution of a model sync, if one is running.',
    hints: action,
    input: { id: uuid('The active execution of this sync ID will be cancelled.') },
    request: ({ id }) => ({ method: 'POST', path: `/api/syncs/${segment(id)}/cancel` }),
  }),
  defineTool({
    name: 'start-sync',
    title: 'Start Sync',
    description:
      'Start a run of a model sync; while one is queued or running, that run is returned. It writes to the target system.',
    hints: { ...action, openWorld: true },
    input: {
      id: modelSyncId,
      body: z
        .object({
          resync: z.boolean().optional().describe('Re-sync every record instead of only the changed ones.'),
          identities: z
            .array(z.string())
            .optional()
            .describe('Only sync the records with these identity values.'),
          test: z.boolean().optional().describe('Test run: records are logged, the target is not written.'),
        })
        .optional()
        .describe('Options of the run; omit for a normal run.'),
    },
    request: ({ id, body }) => ({
      method: 'POST',
      path: `/api/syncs/${segment(id)}/executions`,
      body: body ?? {},
    }),
  }),
  defineTool({
    name: 'get-sync-status',
    title: 'Get Sync Status',
    description: 'Current or last execution of a model sync and its next scheduled run.',
    hints: readOnly,
    input: { id: modelSyncId },
    request: ({ id }) => ({ method: 'GET', path: `/api/syncs/${segment(id)}/status` }),
  }),
];
