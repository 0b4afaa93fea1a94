import type { ExecutionStatus } from '../../../domain/executions.ts';
import type { ModelTargetInfo } from '../../../engine/model/targets.ts';
import type { ModelExecutionDetail } from '../../../services/model-executions.ts';
import type { ModelPreview } from '../../../services/models.ts';
import type { ModelFieldInfo, ModelRow, ModelSyncFieldConfig, ModelSyncRow } from '../../../store/schema.ts';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : undefined);

export const modelFieldOut = (identifier: string | null) => (f: ModelFieldInfo) => ({
  id: f.name,
  name: f.name,
  label: f.name,
  type: f.type,
  remote_type: f.remote_type,
  unique: f.name === identifier,
  user_added: false,
});

export const modelOut = (m: ModelRow | (ModelPreview & { id?: undefined })) => {
  const saved = 'createdAt' in m ? m : undefined;
  return {
    id: m.id,
    name: m.name,
    type: m.configuration.table ? 'table' : 'query',
    organization_id: m.organizationId,
    connection_id: m.connectionId,
    configuration: m.configuration,
    fields: m.fields.map(modelFieldOut(m.identifier)),
    identifier: m.identifier ?? undefined,
    labels: (saved?.labels ?? []).map((name) => ({ name })),
    tracking_columns: m.trackingColumns,
    version: saved?.version,
    created_at: iso(saved?.createdAt),
    updated_at: iso(saved?.updatedAt),
  };
};

/** Ferry's run states in Polytomic's model sync words (SDK `ExecutionStatus`): a run with rejected records completed. */
export const modelStatusWord: Record<ExecutionStatus, string> = {
  created: 'created',
  queued: 'queued',
  running: 'running',
  canceling: 'canceling',
  canceled: 'canceled',
  completed: 'completed',
  completed_with_errors: 'completed',
  failed: 'failed',
  interrupted: 'interrupted',
};

const fieldRefOut = (f: ModelSyncFieldConfig) => ({
  ...(f.source ? { source: f.source } : {}),
  ...(f.override_value !== undefined ? { override_value: f.override_value } : {}),
  target: f.target,
});

export const modelSyncOut = (s: ModelSyncRow) => ({
  id: s.id,
  name: s.name,
  organization_id: s.organizationId,
  mode: s.mode,
  active: s.active,
  target: {
    connection_id: s.targetConnectionId,
    object: s.targetObject,
    configuration: s.targetConfiguration,
  },
  fields: s.fields.filter((f) => f.source).map(fieldRefOut),
  override_fields: s.fields.filter((f) => !f.source).map(fieldRefOut),
  identity: s.identity ?? undefined,
  filters: s.filters,
  filter_logic: s.filterLogic ?? undefined,
  overrides: s.overrides,
  schedule: s.schedule,
  model_ids: [s.modelId],
  sync_all_records: s.syncAllRecords,
  created_at: s.createdAt.toISOString(),
  updated_at: s.updatedAt.toISOString(),
});

export const modelExecutionOut = (e: ModelExecutionDetail) => ({
  id: e.id,
  status: modelStatusWord[e.status],
  type: e.isTest ? 'test' : e.isResync ? 'resync' : e.type,
  created_at: e.createdAt.toISOString(),
  started_at: iso(e.startedAt),
  completed_at: iso(e.completedAt),
  counts: {
    delete: e.counts.deleted,
    error: e.errorCount,
    insert: e.counts.inserted,
    total: e.recordCount,
    update: e.counts.updated,
    upserts: e.counts.upserted,
    warnings: e.warningCount,
  },
  errors: e.counts.errors,
});

export const targetOut = (t: ModelTargetInfo) => ({
  id: t.id,
  name: t.name,
  modes: t.modes,
  fields: t.fields.map((f) => ({
    id: f.id,
    name: f.name,
    type: f.type,
    source_type: f.remoteType,
    required: f.required,
    createable: true,
    updateable: true,
    filterable: false,
    supports_identity: true,
    identity_functions: [{ id: 'Equality', label: 'Equality' }],
  })),
});
