import { type ExecutionStatus, isTerminal } from '../../../domain/executions.ts';
import type { RunRecord, RunScope } from '../../../services/run-history.ts';

export const syncLogTypes = ['full_sync', 'live_sync', 'incremental_sync', 'manual_sync'] as const;
export const syncLogStatuses = [
  'pending',
  'preparing',
  'data_fetching',
  'ingesting',
  'completed',
  'failed',
  'stopped',
  'skipped',
] as const;
export type SyncLogType = (typeof syncLogTypes)[number];
export type SyncLogStatus = (typeof syncLogStatuses)[number];

/** What a run reads, in Qontext's words. Ferry has no streaming runs, so nothing is a `live_sync`. */
export const typeOfScope: Record<RunScope, SyncLogType> = {
  full: 'full_sync',
  incremental: 'incremental_sync',
  selection: 'manual_sync',
};

/** The Ferry states each Qontext status can come from (a running run's phase is read from its tables). */
export const statusSources: Record<SyncLogStatus, readonly ExecutionStatus[]> = {
  pending: ['created', 'queued'],
  preparing: ['running'],
  data_fetching: ['running'],
  ingesting: ['running'],
  completed: ['completed', 'completed_with_errors'],
  failed: ['failed', 'interrupted'],
  stopped: ['canceling', 'canceled'],
  skipped: ['canceled'],
};

export function syncLogStatus(run: RunRecord): SyncLogStatus {
  switch (run.status) {
    case 'created':
    case 'queued':
      return 'pending';
    case 'running':
      // Preparing: reading the source's tables and opening both ends. Then tables copy; once one has
      // committed its rows into the destination, the run is ingesting.
      if (!run.schemas.some((t) => t.startedAt)) return 'preparing';
      return run.schemas.some((t) => isTerminal(t.status)) ? 'ingesting' : 'data_fetching';
    case 'canceling':
      return 'stopped';
    case 'canceled':
      return run.startedAt ? 'stopped' : 'skipped';
    case 'completed':
    case 'completed_with_errors':
      return 'completed';
    case 'failed':
    case 'interrupted':
      return 'failed';
  }
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

function userFacingError(run: RunRecord): string | null {
  if (run.status === 'interrupted') {
    return 'The sync stopped because the worker running it stopped too many times.';
  }
  if (run.status !== 'failed') return null;
  const failed = run.schemas.filter((t) => t.status === 'failed').length;
  return failed > 0
    ? `${failed} of ${run.schemas.length} table(s) could not be synced.`
    : 'The sync failed before it could load its tables.';
}

export function syncLogOut(run: RunRecord) {
  const started = run.schemas.map((t) => t.startedAt).filter((d): d is Date => d !== null);
  const type = typeOfScope[run.scope];
  return {
    id: run.id,
    ingestionPipelineId: run.syncId,
    knowledgeGraphId: run.destinationConnectionId,
    workspaceId: run.organizationId,
    type,
    status: syncLogStatus(run),
    startedAt: iso(run.startedAt),
    completedAt: iso(run.completedAt),
    errorMessage: ['failed', 'interrupted', 'completed_with_errors'].includes(run.status)
      ? run.statusMessage
      : null,
    userFacingError: userFacingError(run),
    jobId: run.jobId,
    workflowId: `sync-${run.id}`,
    workflowRunId: run.attempt > 0 ? `${run.id}-attempt-${run.attempt}` : null,
    preparationMetadata: Object.fromEntries(
      run.schemas.map((t) => [t.schemaId, t.recordCount + t.errorCount]),
    ),
    totalRecordsToIngest: run.schemas.reduce((n, t) => n + t.recordCount + t.errorCount, 0),
    recordsIngested: run.schemas.reduce((n, t) => n + t.recordCount, 0),
    preparationCompletedAt: iso(started.sort((a, b) => a.getTime() - b.getTime())[0]),
    minDate: null,
    manualSyncData:
      type === 'manual_sync'
        ? { tables: run.schemas.map((t) => t.schemaId), test: run.isTest, triggeredBy: run.triggeredBy }
        : null,
    correlationId: run.traceId,
    createdAt: run.createdAt.toISOString(),
    updatedAt: run.updatedAt.toISOString(),
  };
}
