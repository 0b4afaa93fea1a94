import { z } from '@hono/zod-openapi';

// Wire shapes of the Polytomic API (field names as in the `polytomic` SDK's api/types).

export const apiError = z
  .object({
    status: z.number().int(),
    message: z.string(),
    key: z.string().optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi('ApiError');

export const restErrResponse = z
  .object({ status: z.string(), code: z.number().int(), error: z.string() })
  .openapi('RestErrResponse');

export const envelope = <T extends z.ZodType>(data: T) => z.object({ data });

export const uuidParam = (name: string) =>
  z.uuid({ message: 'must be a UUID' }).openapi({ param: { name, in: 'path' } });

const boolish = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
  .transform((v) => v === true || v === 'true' || v === '1');
export const queryBoolean = boolish.optional();

export const organization = z
  .object({
    id: z.uuid(),
    name: z.string(),
    sso_domain: z.string().optional(),
    sso_org_id: z.string().optional(),
    issuer: z.string().optional(),
  })
  .openapi('Organization');

export const organizationInput = z
  .object({
    name: z.string().trim().min(1).max(200),
    sso_domain: z.string().optional(),
    sso_org_id: z.string().optional(),
    issuer: z.url().optional(),
    client_id: z.string().optional(),
    client_secret: z.string().optional(),
  })
  .openapi('CreateOrganizationRequestSchema');

export const user = z
  .object({
    id: z.uuid(),
    email: z.string(),
    organization_id: z.uuid(),
    role: z.string(),
    role_ids: z.array(z.string()),
  })
  .openapi('User');

export const userInput = z
  .object({
    email: z.email(),
    role: z.enum(['admin', 'user']).optional(),
    role_ids: z.array(z.string()).optional(),
  })
  .openapi('CreateUserRequestSchema');

export const apiKeyResponse = z.object({ value: z.string() }).openapi('ApiKeyResponse');

export const identity = z
  .object({
    id: z.string().optional(),
    email: z.string().optional(),
    role: z.string().optional(),
    organization_id: z.uuid(),
    organization_name: z.string(),
    is_organization: z.boolean(),
    is_partner: z.boolean(),
    is_system: z.boolean(),
    is_user: z.boolean(),
  })
  .openapi('GetIdentityResponseSchema');

export const connectionTypeSchema = z
  .object({ id: z.string(), name: z.string(), operations: z.array(z.string()).optional() })
  .openapi('ConnectionTypeSchema');

export const connectionType = z
  .object({
    id: z.string(),
    name: z.string(),
    capabilities: z.object({
      source: z.boolean(),
      destination: z.boolean(),
      enrichment: z.boolean(),
      orchestration: z.boolean(),
    }),
    /** JSON Schema of the `configuration` object. */
    configurationSchema: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi('ConnectionType');

const actorRef = z.object({
  id: z.string().optional(),
  name: z.string().optional(),
  type: z.string().optional(),
});

export const connection = z
  .object({
    id: z.uuid(),
    name: z.string(),
    organization_id: z.uuid(),
    type: connectionTypeSchema,
    configuration: z.record(z.string(), z.unknown()),
    status: z.string(),
    status_error: z.string().optional(),
    saved: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
    created_by: actorRef.optional(),
  })
  .openapi('ConnectionResponseSchema');

export const connectionInput = z
  .object({
    name: z.string().trim().min(1).max(200),
    type: z.string().min(1),
    configuration: z.record(z.string(), z.unknown()),
    validate: z.boolean().optional(),
    organization_id: z.uuid().optional(),
    healthcheck_interval: z.string().optional(),
    policies: z.array(z.string()).optional(),
    redirect_url: z.string().optional(),
  })
  .openapi('CreateConnectionRequestSchema');

export const connectionUpdate = connectionInput
  .extend({ type: z.string().min(1).optional(), reconnect: z.boolean().optional() })
  .openapi('UpdateConnectionRequestSchema');

export const testConnectionInput = z
  .object({
    type: z.string().min(1),
    configuration: z.record(z.string(), z.unknown()),
    connection_id: z.uuid().optional(),
  })
  .openapi('TestConnectionRequest');

export const schemaField = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.enum(['unknown', 'string', 'number', 'boolean', 'datetime', 'array', 'object', 'binary']),
    remote_type: z.string(),
    is_primary_key: z.boolean(),
    nullable: z.boolean(),
  })
  .openapi('SchemaField');

export const schema = z
  .object({
    id: z.string(),
    name: z.string(),
    namespace: z.string().optional(),
    fields: z.array(schemaField),
  })
  .openapi('Schema');

export const schemaStatus = z
  .object({
    cache_status: z.enum(['never', 'refreshing', 'fresh', 'failed']),
    last_refresh_started: z.string().optional(),
    last_refresh_finished: z.string().optional(),
    error: z.string().optional(),
    job_id: z.string().optional(),
  })
  .openapi('BulkSyncSourceStatus');

export const jobResponse = z
  .object({
    job_id: z.string(),
    type: z.string(),
    status: z.enum(['created', 'running', 'done', 'failed']),
    result: z.unknown().optional(),
    error: z.string().optional(),
  })
  .openapi('JobResponse');

export const queryResult = z
  .object({
    id: z.string(),
    status: z.enum(['created', 'running', 'done', 'failed']),
    count: z.number().int().optional(),
    fields: z.array(z.string()).optional(),
    results: z.array(z.record(z.string(), z.unknown())).optional(),
    error: z.string().optional(),
  })
  .openapi('V4RunQueryResult');

// Bulk syncs.

const scheduleFrequency = z.enum([
  'manual',
  'continuous',
  'hourly',
  'daily',
  'weekly',
  'custom',
  'builder',
  'runafter',
  'multi',
  'dbtcloud',
]);

const clockSchedule = {
  frequency: scheduleFrequency,
  minute: z.string().optional(),
  hour: z.string().optional(),
  day_of_week: z.string().optional(),
  day_of_month: z.string().optional(),
  month: z.string().optional(),
  timezone: z.string().optional().describe('IANA time zone of the clock fields (UTC when absent)'),
  run_after: z
    .object({ sync_ids: z.array(z.uuid()).optional(), bulk_sync_ids: z.array(z.uuid()).optional() })
    .optional()
    .describe('runafter: start when one of these syncs completes'),
  run_after_success_only: z.boolean().optional(),
};

export const bulkSchedule = z
  .object({
    ...clockSchedule,
    multi: z
      .object({
        type: z.string().optional(),
        schedules: z.array(
          z.object({
            item: z.enum(['none', 'incrementalFields', 'nonincrementalFields']).default('none'),
            schedule: z.object(clockSchedule),
          }),
        ),
      })
      .optional(),
  })
  .openapi('BulkSchedule');

const bulkField = z.object({
  id: z.string().min(1),
  enabled: z.boolean().default(true),
  output_name: z.string().optional(),
  user_output_name: z.string().optional(),
  obfuscated: z.boolean().optional(),
});

const bulkFilter = z.object({
  field_id: z.string().min(1),
  function: z.string().min(1),
  value: z.unknown().optional(),
});

export const bulkSchemaInput = z
  .object({
    id: z.string().min(1),
    enabled: z.boolean().optional(),
    fields: z.array(bulkField).optional(),
    filters: z.array(bulkFilter).optional(),
    partition_key: z.string().optional(),
    tracking_field: z.string().optional(),
    user_output_name: z.string().optional(),
    output_name: z.string().optional(),
    data_cutoff_timestamp: z.string().optional(),
    disable_data_cutoff: z.boolean().optional(),
  })
  .openapi('BulkSchemaInput');

export const bulkSchema = z
  .object({
    id: z.string(),
    enabled: z.boolean(),
    output_name: z.string(),
    user_output_name: z.string().optional(),
    partition_key: z.string().optional(),
    tracking_field: z.string().optional(),
    fields: z.array(bulkField),
    filters: z.array(bulkFilter),
  })
  .openapi('BulkSchema');

export const bulkSyncInput = z
  .object({
    name: z.string().trim().min(1).max(200),
    source_connection_id: z.uuid(),
    destination_connection_id: z.uuid(),
    mode: z.enum(['snapshot', 'replicate']).optional(),
    active: z.boolean().optional(),
    discover: z.boolean().optional(),
    automatically_add_new_objects: z
      .enum(['all', 'onlyIncremental', 'onlyNonIncremental', 'none'])
      .optional(),
    automatically_add_new_fields: z.enum(['all', 'onlyIncremental', 'onlyNonIncremental', 'none']).optional(),
    normalize_names: z.enum(['enabled', 'disabled', 'legacy']).optional(),
    concurrency_limit: z.number().int().min(1).max(32).optional(),
    resync_concurrency_limit: z.number().int().min(1).max(32).optional(),
    source_configuration: z.record(z.string(), z.unknown()).optional(),
    destination_configuration: z.record(z.string(), z.unknown()).default({}),
    schedule: bulkSchedule,
    schemas: z.array(z.union([z.string().min(1), bulkSchemaInput])).optional(),
    organization_id: z.uuid().optional(),
    policies: z.array(z.string()).optional(),
    data_cutoff_timestamp: z.string().optional(),
    disable_record_timestamps: z.boolean().optional(),
  })
  .openapi('CreateBulkSyncRequest');

export const bulkSync = z
  .object({
    id: z.uuid(),
    name: z.string(),
    organization_id: z.uuid(),
    source_connection_id: z.uuid(),
    destination_connection_id: z.uuid(),
    mode: z.enum(['snapshot', 'replicate']),
    active: z.boolean(),
    discover: z.boolean(),
    automatically_add_new_objects: z.string(),
    automatically_add_new_fields: z.string(),
    normalize_names: z.string(),
    concurrency_limit: z.number().int(),
    source_configuration: z.record(z.string(), z.unknown()),
    destination_configuration: z.record(z.string(), z.unknown()),
    schedule: z.record(z.string(), z.unknown()),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('BulkSyncResponse');

const bulkExecutionStatus = z.enum([
  'created',
  'scheduled',
  'running',
  'exporting',
  'canceling',
  'canceled',
  'completed',
  'failed',
  'processing',
  'errors',
  'interrupted',
]);

/** Ferry's addition to a table's run: what progress percentages and ETAs measure against. */
const estimatedRecordCount = z.number().int().optional().openapi({
  description:
    "The source's estimate of the table's rows when its run started; absent when unknown, or when the run reads only the rows changed since its stored cursor. Approximate: record_count can pass it.",
});

export const bulkSchemaExecution = z
  .object({
    schema: z.string(),
    output_name: z.string(),
    status: z.string(),
    status_message: z.string().optional(),
    record_count: z.number().int(),
    estimated_record_count: estimatedRecordCount,
    error_count: z.number().int(),
    warning_count: z.number().int(),
    created_at: z.string(),
    started_at: z.string().optional(),
    completed_at: z.string().optional(),
    updated_at: z.string(),
  })
  .openapi('BulkSyncSchemaExecution');

export const bulkExecution = z
  .object({
    id: z.uuid(),
    status: bulkExecutionStatus,
    status_message: z.string().optional(),
    type: z.string(),
    is_resync: z.boolean(),
    is_test: z.boolean(),
    is_partial: z.boolean(),
    fetch_mode: z.string().optional(),
    record_count: z.number().int(),
    error_count: z.number().int(),
    warning_count: z.number().int(),
    attempts: z.number().int(),
    schemas: z.array(bulkSchemaExecution),
    created_at: z.string(),
    started_at: z.string().optional(),
    completed_at: z.string().optional(),
    updated_at: z.string(),
  })
  .openapi('BulkSyncExecution');

export const bulkSyncStatus = z
  .object({
    current_execution: bulkExecution.optional(),
    last_execution: bulkExecution.optional(),
    next_execution_time: z.string().optional(),
  })
  .openapi('BulkSyncStatusResponse');

export const bulkExecutionStatusItem = z
  .object({
    sync_id: z.uuid(),
    status: bulkExecutionStatus.optional(),
    nextExecutionTime: z.string().optional(),
    schemas: z.array(
      z.object({
        schema: z.string(),
        execution_id: z.string(),
        status: z.string(),
        status_message: z.string().optional(),
        record_count: z.number().int(),
        estimated_record_count: estimatedRecordCount,
        error_count: z.number().int(),
        warning_count: z.number().int(),
        started_at: z.string().optional(),
        completed_at: z.string().optional(),
      }),
    ),
  })
  .openapi('BulkSyncExecutionStatus');

export const bulkScheduleRecord = z
  .object({
    id: z.uuid(),
    syncId: z.uuid(),
    frequency: scheduleFrequency,
    minute: z.string().optional(),
    hour: z.string().optional(),
    dayOfWeek: z.string().optional(),
    dayOfMonth: z.string().optional(),
    month: z.string().optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('BulkBulkSyncSchedule');

export const pagination = z.object({ next_page_token: z.string().optional() });

export const consoleLog = z
  .object({
    entries: z.array(
      z.object({
        cursor: z.string(),
        timestamp: z.string(),
        level: z.string(),
        message: z.string(),
        schema: z.string().optional(),
      }),
    ),
    next_cursor: z.string().optional(),
  })
  .openapi('ConsoleLog');

export const executionLogs = z
  .object({
    Expires: z.string(),
    URLs: z.array(z.string()),
    files: z.array(
      z.object({
        type: z.string(),
        schema: z.string().optional(),
        filename: z.string(),
        url: z.string(),
        records: z.number().int(),
        bytes: z.number().int(),
      }),
    ),
  })
  .openapi('V4BulkSyncExecutionLogs');
