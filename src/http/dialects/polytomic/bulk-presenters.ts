import type { ExecutionStatus } from '../../../domain/executions.ts';
import type { ExecutionDetail, SyncStatus } from '../../../services/bulk-executions.ts';
import type { BulkSyncRow, BulkSyncSchemaRow, SchemaExecutionRow } from '../../../store/schema.ts';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : undefined);

/** Ferry's run states in Polytomic's bulk words (SDK `BulkExecutionStatus`). */
export const bulkStatusWord: Record<ExecutionStatus, string> = {
  created: 'created',
  queued: 'scheduled',
  running: 'running',
  canceling: 'canceling',
  canceled: 'canceled',
  completed: 'completed',
  completed_with_errors: 'errors',
  failed: 'failed',
  interrupted: 'interrupted',
};

/** Per-table runs (SDK `BulkSchemaExecutionStatus`, which has neither canceling nor errors). */
export const schemaStatusWord: Record<ExecutionStatus, string> = {
  ...bulkStatusWord,
  canceling: 'running',
  completed_with_errors: 'completed',
};

export const bulkSyncOut = (s: BulkSyncRow) => ({
  id: s.id,
  name: s.name,
  organization_id: s.organizationId,
  source_connection_id: s.sourceConnectionId,
  destination_connection_id: s.destinationConnectionId,
  mode: s.mode,
  active: s.active,
  discover: s.discover,
  automatically_add_new_objects: s.discover ? 'all' : 'none',
  automatically_add_new_fields: s.discover ? 'all' : 'none',
  normalize_names: s.normalizeNames,
  concurrency_limit: s.concurrencyLimit,
  source_configuration: s.sourceConfiguration,
  destination_configuration: s.destinationConfiguration,
  schedule: s.schedule,
  created_at: s.createdAt.toISOString(),
  updated_at: s.updatedAt.toISOString(),
});

export const bulkSchemaOut = (s: BulkSyncSchemaRow) => ({
  id: s.schemaId,
  enabled: s.enabled,
  output_name: s.outputName,
  user_output_name: s.userOutputName ?? undefined,
  partition_key: s.partitionKey ?? undefined,
  tracking_field: s.trackingField ?? undefined,
  fields: s.fields.map((f) => ({ ...f, enabled: f.enabled ?? true })),
  filters: s.filters,
});

const schemaExecutionOut = (s: SchemaExecutionRow) => ({
  schema: s.schemaId,
  output_name: s.outputName,
  status: schemaStatusWord[s.status],
  status_message: s.statusMessage ?? undefined,
  record_count: s.recordCount,
  estimated_record_count: s.estimatedRecords ?? undefined,
  error_count: s.errorCount,
  warning_count: s.warningCount,
  created_at: s.createdAt.toISOString(),
  started_at: iso(s.startedAt),
  completed_at: iso(s.completedAt),
  updated_at: s.updatedAt.toISOString(),
});

export const bulkExecutionOut = (e: ExecutionDetail) => ({
  id: e.id,
  status: bulkStatusWord[e.status] as 'created',
  status_message: e.statusMessage ?? undefined,
  type: e.type,
  is_resync: e.isResync,
  is_test: e.isTest,
  is_partial: e.schemaIds !== null,
  fetch_mode: e.fetchMode ?? undefined,
  record_count: e.recordCount,
  error_count: e.errorCount,
  warning_count: e.warningCount,
  attempts: e.attempt,
  schemas: e.schemas.map(schemaExecutionOut),
  created_at: e.createdAt.toISOString(),
  started_at: iso(e.startedAt),
  completed_at: iso(e.completedAt),
  updated_at: e.updatedAt.toISOString(),
});

export const bulkSyncStatusOut = (s: SyncStatus) => ({
  current_execution: s.current ? bulkExecutionOut(s.current) : undefined,
  last_execution: s.last ? bulkExecutionOut(s.last) : undefined,
  next_execution_time: iso(s.nextExecutionTime),
});

export const bulkExecutionStatusItemOut = (s: SyncStatus) => {
  const latest = s.current ?? s.last;
  return {
    sync_id: s.syncId,
    status: latest ? (bulkStatusWord[latest.status] as 'created') : undefined,
    nextExecutionTime: iso(s.nextExecutionTime),
    schemas: s.tables.map((schema) => ({
      schema: schema.schemaId,
      execution_id: schema.executionId,
      status: schemaStatusWord[schema.status],
      status_message: schema.statusMessage ?? undefined,
      record_count: schema.recordCount,
      estimated_record_count: schema.estimatedRecords ?? undefined,
      error_count: schema.errorCount,
      warning_count: schema.warningCount,
      started_at: iso(schema.startedAt),
      completed_at: iso(schema.completedAt),
    })),
  };
};

export const bulkScheduleOut = (s: {
  id: string;
  syncId: string;
  schedule: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}) => ({
  id: s.id,
  syncId: s.syncId,
  frequency: s.schedule.frequency as 'manual',
  minute: s.schedule.minute as string | undefined,
  hour: s.schedule.hour as string | undefined,
  dayOfWeek: s.schedule.day_of_week as string | undefined,
  dayOfMonth: s.schedule.day_of_month as string | undefined,
  month: s.schedule.month as string | undefined,
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
});
