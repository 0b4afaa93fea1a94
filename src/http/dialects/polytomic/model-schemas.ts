import { z } from '@hono/zod-openapi';
import { bulkSchedule } from './schemas.ts';

// Wire shapes of models and model syncs (field names as in the `polytomic` SDK's api/types).

export const modelConfiguration = z
  .object({
    query: z.string().trim().min(1).optional(),
    table: z.string().trim().min(1).optional(),
  })
  .refine((c) => (c.query === undefined) !== (c.table === undefined), {
    message: 'give exactly one of "query" or "table"',
  });

export const modelInput = z
  .object({
    name: z.string().trim().min(1).max(200),
    connection_id: z.uuid({ message: 'must be a UUID' }),
    configuration: modelConfiguration,
    identifier: z.string().min(1).optional(),
    labels: z.array(z.string()).optional(),
    tracking_columns: z.array(z.string().min(1)).optional(),
    organization_id: z.uuid().optional(),
  })
  .openapi('CreateModelRequest');

export const modelField = z
  .object({
    id: z.string(),
    name: z.string(),
    label: z.string(),
    type: z.string(),
    remote_type: z.string(),
    unique: z.boolean(),
    user_added: z.boolean(),
  })
  .openapi('ModelField');

export const model = z
  .object({
    id: z.string().optional(),
    name: z.string(),
    type: z.string(),
    organization_id: z.string(),
    connection_id: z.string(),
    configuration: z.record(z.string(), z.unknown()),
    fields: z.array(modelField),
    identifier: z.string().optional(),
    labels: z.array(z.object({ name: z.string() })),
    tracking_columns: z.array(z.string()),
    version: z.number().int().optional(),
    created_at: z.string().optional(),
    updated_at: z.string().optional(),
  })
  .openapi('ModelResponse');

export const modelSample = z
  .object({ records: z.array(z.record(z.string(), z.unknown())), warnings: z.array(z.string()) })
  .openapi('ModelSample');

export const sourceMeta = z
  .object({
    configuration: z.record(z.string(), z.object({ type: z.string() })),
    items: z.record(
      z.string(),
      z.object({
        has_items: z.boolean(),
        items: z.array(z.object({ value: z.string(), label: z.string() })),
      }),
    ),
    requires_one_of: z.array(z.string()),
  })
  .openapi('ModelSyncSourceMetaResponse');

/** `params` of the modelsync source routes: a JSON object of arrays of strings. */
export const sourceParams = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined) return {};
    try {
      const value: unknown = JSON.parse(text);
      if (value && typeof value === 'object' && !Array.isArray(value))
        return value as Record<string, unknown>;
    } catch {}
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
    return z.NEVER;
  });

// Model syncs.

export const modelSyncModes = [
  'create',
  'update',
  'updateOrCreate',
  'replace',
  'append',
  'remove',
  'snapshot',
] as const;

const fieldRef = z.object({ model_id: z.uuid({ message: 'must be a UUID' }), field: z.string().min(1) });

export const modelSyncField = z
  .object({
    source: fieldRef.optional(),
    override_value: z.string().optional(),
    target: z.string().min(1),
    new: z.boolean().optional(),
    encryption_enabled: z.boolean().optional(),
    sync_mode: z.string().optional(),
  })
  .openapi('ModelSyncField');

export const modelSyncIdentity = z
  .object({
    source: fieldRef,
    target: z.string().min(1),
    function: z.enum(['Equality', 'ISubstring', 'OneOf', 'DomainMatch', 'HostnameMatch']).default('Equality'),
    new_field: z.boolean().optional(),
    remote_field_type_id: z.string().optional(),
  })
  .openapi('Identity');

export const modelSyncFilter = z
  .object({
    field: fieldRef,
    function: z.string().min(1),
    value: z.unknown().optional(),
    label: z.string().optional(),
  })
  .openapi('Filter');

export const modelSyncOverride = z
  .object({
    field: fieldRef,
    function: z.string().min(1),
    value: z.unknown().optional(),
    override: z.unknown(),
  })
  .openapi('Override');

export const modelSyncTarget = z
  .object({
    connection_id: z.uuid({ message: 'must be a UUID' }),
    object: z.string().min(1),
    configuration: z.record(z.string(), z.unknown()).optional(),
    new_name: z.string().optional(),
  })
  .openapi('Target');

export const modelSyncInput = z
  .object({
    name: z.string().trim().min(1).max(200),
    mode: z.enum(modelSyncModes),
    target: modelSyncTarget,
    fields: z.array(modelSyncField),
    identity: modelSyncIdentity.optional(),
    filters: z.array(modelSyncFilter).optional(),
    filter_logic: z.string().optional(),
    overrides: z.array(modelSyncOverride).optional(),
    override_fields: z.array(modelSyncField).optional(),
    schedule: bulkSchedule,
    active: z.boolean().optional(),
    sync_all_records: z.boolean().optional(),
    organization_id: z.uuid().optional(),
  })
  .openapi('CreateModelSyncRequest');

export const modelSync = z
  .object({
    id: z.string(),
    name: z.string(),
    organization_id: z.string(),
    mode: z.enum(modelSyncModes),
    active: z.boolean(),
    target: z.record(z.string(), z.unknown()),
    fields: z.array(z.record(z.string(), z.unknown())),
    override_fields: z.array(z.record(z.string(), z.unknown())),
    identity: z.record(z.string(), z.unknown()).optional(),
    filters: z.array(z.record(z.string(), z.unknown())),
    filter_logic: z.string().optional(),
    overrides: z.array(z.record(z.string(), z.unknown())),
    schedule: z.record(z.string(), z.unknown()),
    model_ids: z.array(z.string()),
    sync_all_records: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('ModelSyncResponse');

export const executionCounts = z
  .object({
    delete: z.number().int(),
    error: z.number().int(),
    insert: z.number().int(),
    total: z.number().int(),
    update: z.number().int(),
    upserts: z.number().int(),
    warnings: z.number().int(),
  })
  .openapi('ExecutionCounts');

export const modelExecution = z
  .object({
    id: z.string(),
    status: z.string(),
    type: z.string(),
    created_at: z.string(),
    started_at: z.string().optional(),
    completed_at: z.string().optional(),
    counts: executionCounts,
    errors: z.array(z.string()),
  })
  .openapi('GetExecutionResponseSchema');

export const modelSyncStatus = z
  .object({
    current_execution: modelExecution.optional(),
    last_execution: modelExecution.optional(),
    next_execution_time: z.string().optional(),
  })
  .openapi('SyncStatusResponse');

export const targetField = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.string(),
    source_type: z.string(),
    required: z.boolean(),
    createable: z.boolean(),
    updateable: z.boolean(),
    filterable: z.boolean(),
    supports_identity: z.boolean(),
    identity_functions: z.array(z.object({ id: z.string(), label: z.string() })),
  })
  .openapi('TargetField');

export const targetResponse = z
  .object({
    id: z.string(),
    name: z.string(),
    fields: z.array(targetField),
    modes: z.array(z.object({ mode: z.string(), requires_identity: z.boolean() })),
  })
  .openapi('TargetResponse');

export const targetObject = z
  .object({
    id: z.string(),
    name: z.string(),
    modes: z.array(z.object({ mode: z.string(), requires_identity: z.boolean() })),
  })
  .openapi('TargetObject');
