import { createHash } from 'node:crypto';
import type { ExecutionStatus } from '../../../domain/executions.ts';
import type { RunError, RunRecord } from '../../../services/run-history.ts';
import { purgeAt } from '../../../services/run-purge.ts';
import type { SchemaExecutionRow } from '../../../store/schema.ts';
import type { celigoStatuses } from './schemas.ts';

type CeligoStatus = (typeof celigoStatuses)[number];

/** Ferry's run states in integrator.io's four words: anything not yet ended is `running`. */
export const celigoStatus: Record<ExecutionStatus, CeligoStatus> = {
  created: 'running',
  queued: 'running',
  running: 'running',
  canceling: 'running',
  canceled: 'canceled',
  completed: 'completed',
  completed_with_errors: 'completed',
  failed: 'failed',
  interrupted: 'failed',
};

/** A table's job id: stable, derived from the run and the table, 24 hex digits like an ObjectId. */
export const tableJobId = (executionId: string, schemaId: string) =>
  createHash('sha256').update(`${executionId}\n${schemaId}`).digest('hex').slice(0, 24);

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : undefined);
const ended = (status: ExecutionStatus, at: Date | null) =>
  celigoStatus[status] === 'running' ? undefined : iso(at);

/** Counts of one table: extracted rows are the loaded ones plus those the destination rejected. */
const tableCounts = (t: SchemaExecutionRow) => ({
  numErrors: t.errorCount + (t.status === 'failed' ? 1 : 0),
  numLoadedRecords: t.recordCount,
  numExtractedRecords: t.recordCount + t.errorCount,
});

export function syncJobOut(run: RunRecord, retentionDays: number) {
  const tables = run.schemas.map(tableCounts);
  const sum = (key: keyof ReturnType<typeof tableCounts>) => tables.reduce((n, t) => n + t[key], 0);
  const status = celigoStatus[run.status];
  return {
    _id: run.id,
    flowExecutionGroupId: run.id,
    _integrationId: run.organizationId,
    _syncId: run.syncId,
    createdAt: run.createdAt.toISOString(),
    startedAt: iso(run.startedAt),
    endedAt: ended(run.status, run.completedAt),
    purgeAt: purgeAt(run, retentionDays).toISOString(),
    status,
    numErrors: sum('numErrors'),
    numLoadedRecords: sum('numLoadedRecords'),
    numExtractedRecords: sum('numExtractedRecords'),
    numTablesSynced: run.schemas.filter(
      (t) => t.status === 'completed' || t.status === 'completed_with_errors',
    ).length,
    triggeredBy: run.triggeredBy ?? (run.type === 'scheduled' ? 'schedule' : undefined),
    canceledBy: status === 'canceled' ? (run.canceledBy ?? undefined) : undefined,
    runType: run.isResync ? ('resync' as const) : ('normal' as const),
  };
}

export const syncTableJobOut = (run: RunRecord, table: SchemaExecutionRow) => ({
  _id: tableJobId(run.id, table.schemaId),
  tableName: table.schemaId,
  createdAt: table.createdAt.toISOString(),
  status: celigoStatus[table.status],
  ...tableCounts(table),
  startedAt: iso(table.startedAt),
  endedAt: ended(table.status, table.completedAt),
});

export function syncErrorOut(run: RunRecord, error: RunError) {
  const table = run.schemas.find((t) => t.schemaId === error.schemaId);
  const childId = tableJobId(run.id, error.schemaId);
  const rejected = error.kind === 'record';
  return {
    scope: rejected ? 'load' : 'table',
    source: rejected ? 'destination' : 'ferry',
    code: rejected ? 'record_rejected' : 'table_failed',
    message: error.message,
    _datasetId: childId,
    _syncId: run.syncId,
    _parentSyncJobId: run.id,
    _childSyncJobId: childId,
    flowExecutionGroupId: run.id,
    stage: rejected ? 'load' : 'extract_load',
    datasetName: table?.outputName ?? error.schemaId,
    tableName: error.schemaId,
    occurredAt: error.occurredAt.toISOString(),
  };
}
