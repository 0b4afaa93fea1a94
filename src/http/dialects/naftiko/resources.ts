/**
 * The REST resources of the Naftiko capabilities Ferry serves (seeds 000 and 002), as the seeds write
 * them: `/v1` + the Polytomic path, path parameters in kebab-case. Each maps onto the same path under
 * `/api` (parameters by position), so both faces share one handler.
 */
export interface NaftikoResource {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
}

const bulkSyncExecutions: NaftikoResource[] = [
  { method: 'GET', path: '/v1/api/bulk/syncs/status' },
  { method: 'GET', path: '/v1/api/bulk/syncs/{id}/executions' },
  { method: 'GET', path: '/v1/api/bulk/syncs/{id}/executions/{exec-id}' },
  { method: 'POST', path: '/v1/api/bulk/syncs/{id}/executions/{exec-id}/cancel' },
  { method: 'GET', path: '/v1/api/bulk/syncs/{sync-id}/executions/{execution-id}/consolelog' },
  { method: 'GET', path: '/v1/api/bulk/syncs/{sync-id}/executions/{execution-id}/logs' },
  { method: 'POST', path: '/v1/api/bulk/syncs/{sync-id}/executions/{execution-id}/logs/export' },
  {
    method: 'GET',
    path: '/v1/api/bulk/syncs/{sync-id}/executions/{execution-id}/schemas/{schema-id}/consolelog',
  },
];

const modelSyncs: NaftikoResource[] = [
  { method: 'GET', path: '/v1/api/connections/{id}/modelsync/source' },
  { method: 'GET', path: '/v1/api/connections/{id}/modelsync/source/fields' },
  // Literal segments (`schedules`) before `{id}`.
  { method: 'GET', path: '/v1/api/syncs/schedules' },
  { method: 'GET', path: '/v1/api/syncs' },
  { method: 'POST', path: '/v1/api/syncs' },
  { method: 'GET', path: '/v1/api/syncs/{id}' },
  { method: 'PUT', path: '/v1/api/syncs/{id}' },
  { method: 'DELETE', path: '/v1/api/syncs/{id}' },
  { method: 'POST', path: '/v1/api/syncs/{id}/activate' },
  { method: 'POST', path: '/v1/api/syncs/{id}/cancel' },
  { method: 'POST', path: '/v1/api/syncs/{id}/executions' },
  { method: 'GET', path: '/v1/api/syncs/{id}/status' },
];

export const naftikoResources: NaftikoResource[] = [...bulkSyncExecutions, ...modelSyncs];

const parameter = /\{([^}]+)\}/g;

/** The Hono pattern of a resource: `{exec-id}` becomes `:exec_id` (a router parameter name). */
export const routePattern = (path: string) =>
  path.replace(parameter, (_, name: string) => `:${name.replaceAll('-', '_')}`);

/** The `/api` path a request for the resource goes to, with the caller's values in place. */
export function apiPath(path: string, values: Record<string, string>): string {
  return path
    .slice('/v1'.length)
    .replace(parameter, (_, name: string) => encodeURIComponent(values[name.replaceAll('-', '_')]!));
}
