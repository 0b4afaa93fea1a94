import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import type { SchemaInfo } from '../connectors/types.ts';
import type { ExecutionStatus, RecordLogType } from '../domain/executions.ts';
import type { LogicalType } from '../engine/bulk/contracts.ts';

// Mirrors src/store/migrations/*.sql; test/store/schema.test.ts checks the two agree.
const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
};

export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

export const organizations = pgTable('organizations', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  ssoDomain: text('sso_domain'),
  ssoOrgId: text('sso_org_id'),
  issuer: text('issuer'),
  ...timestamps,
});

export const users = pgTable('users', {
  id: uuid('id').primaryKey().defaultRandom(),
  organizationId: uuid('organization_id')
    .notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  email: text('email').notNull(),
  role: text('role').notNull().default('admin'),
  ...timestamps,
});

export const apiKeys = pgTable('api_keys', {
  id: uuid('id').primaryKey().defaultRandom(),
  organizationId: uuid('organization_id')
    .notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
  isAdmin: boolean('is_admin').notNull().default(false),
  hash: text('hash').notNull().unique(),
  prefix: text('prefix').notNull(),
  createdAt: timestamps.createdAt,
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

export const connections = pgTable('connections', {
  id: uuid('id').primaryKey().defaultRandom(),
  organizationId: uuid('organization_id')
    .notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  type: text('type').notNull(),
  configuration: jsonb('configuration').$type<Record<string, unknown>>().notNull().default({}),
  secrets: text('secrets'),
  status: text('status').notNull().default('healthy'),
  statusError: text('status_error'),
  createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
  ...timestamps,
});

export const connectionSchemaCaches = pgTable('connection_schema_caches', {
  connectionId: uuid('connection_id')
    .primaryKey()
    .references(() => connections.id, { onDelete: 'cascade' }),
  schemas: jsonb('schemas').$type<SchemaInfo[]>().notNull().default([]),
  status: text('status').$type<'refreshing' | 'fresh' | 'failed'>().notNull(),
  error: text('error'),
  jobId: text('job_id'),
  refreshStartedAt: timestamp('refresh_started_at', { withTimezone: true }),
  refreshFinishedAt: timestamp('refresh_finished_at', { withTimezone: true }),
});

export type OrganizationRow = typeof organizations.$inferSelect;
export type UserRow = typeof users.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type ConnectionRow = typeof connections.$inferSelect;
export type SchemaCacheRow = typeof connectionSchemaCaches.$inferSelect;

export interface BulkFieldConfig {
  id: string;
  enabled: boolean;
  output_name?: string | undefined;
  user_output_name?: string | undefined;
  obfuscated?: boolean | undefined;
}

export interface BulkFilterConfig {
  field_id: string;
  function: string;
  value?: unknown;
}

export const bulkSyncs = pgTable('bulk_syncs', {
  id: uuid('id').primaryKey().defaultRandom(),
  organizationId: uuid('organization_id')
    .notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  sourceConnectionId: uuid('source_connection_id')
    .notNull()
    .references(() => connections.id),
  destinationConnectionId: uuid('destination_connection_id')
    .notNull()
    .references(() => connections.id),
  mode: text('mode').$type<'snapshot' | 'replicate'>().notNull(),
  active: boolean('active').notNull().default(true),
  discover: boolean('discover').notNull().default(false),
  normalizeNames: text('normalize_names')
    .$type<'enabled' | 'disabled' | 'legacy'>()
    .notNull()
    .default('enabled'),
  concurrencyLimit: integer('concurrency_limit').notNull().default(4),
  sourceConfiguration: jsonb('source_configuration').$type<Record<string, unknown>>().notNull().default({}),
  destinationConfiguration: jsonb('destination_configuration')
    .$type<Record<string, unknown>>()
    .notNull()
    .default({}),
  schedule: jsonb('schedule').$type<Record<string, unknown>>().notNull(),
  createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
  ...timestamps,
});

export const bulkSyncSchemas = pgTable(
  'bulk_sync_schemas',
  {
    syncId: uuid('sync_id')
      .notNull()
      .references(() => bulkSyncs.id, { onDelete: 'cascade' }),
    schemaId: text('schema_id').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    outputName: text('output_name').notNull(),
    userOutputName: text('user_output_name'),
    partitionKey: text('partition_key'),
    trackingField: text('tracking_field'),
    filters: jsonb('filters').$type<BulkFilterConfig[]>().notNull().default([]),
    fields: jsonb('fields').$type<BulkFieldConfig[]>().notNull().default([]),
  },
  (t) => [primaryKey({ columns: [t.syncId, t.schemaId] })],
);

export const bulkSyncSchedules = pgTable('bulk_sync_schedules', {
  id: uuid('id').primaryKey().defaultRandom(),
  syncId: uuid('sync_id')
    .notNull()
    .references(() => bulkSyncs.id, { onDelete: 'cascade' }),
  schedule: jsonb('schedule').$type<Record<string, unknown>>().notNull(),
  ...timestamps,
});

export const executions = pgTable('executions', {
  id: uuid('id').primaryKey().defaultRandom(),
  organizationId: uuid('organization_id')
    .notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  syncKind: text('sync_kind').$type<'bulk' | 'model'>().notNull(),
  syncId: uuid('sync_id').notNull(),
  status: text('status').$type<ExecutionStatus>().notNull(),
  type: text('type').notNull().default('manual'),
  isResync: boolean('is_resync').notNull().default(false),
  isTest: boolean('is_test').notNull().default(false),
  fetchMode: text('fetch_mode'),
  resyncMode: text('resync_mode'),
  schemaIds: text('schema_ids').array(),
  statusMessage: text('status_message'),
  recordCount: bigint('record_count', { mode: 'number' }).notNull().default(0),
  errorCount: bigint('error_count', { mode: 'number' }).notNull().default(0),
  warningCount: bigint('warning_count', { mode: 'number' }).notNull().default(0),
  attempt: integer('attempt').notNull().default(0),
  jobId: text('job_id'),
  heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }),
  cancelRequestedAt: timestamp('cancel_requested_at', { withTimezone: true }),
  /** W3C trace id (32 hex digits) of the request that started the run, or generated. */
  traceId: text('trace_id').notNull().default(sql`replace(gen_random_uuid()::text, '-', '')`),
  /** `user:<email>`, `key:<id>` or `schedule`. */
  triggeredBy: text('triggered_by'),
  canceledBy: text('canceled_by'),
  createdAt: timestamps.createdAt,
  startedAt: timestamp('started_at', { withTimezone: true }),
  completedAt: timestamp('completed_at', { withTimezone: true }),
  updatedAt: timestamps.updatedAt,
});

export const schemaExecutions = pgTable(
  'schema_executions',
  {
    executionId: uuid('execution_id')
      .notNull()
      .references(() => executions.id, { onDelete: 'cascade' }),
    schemaId: text('schema_id').notNull(),
    outputName: text('output_name').notNull(),
    status: text('status').$type<ExecutionStatus>().notNull(),
    statusMessage: text('status_message'),
    recordCount: bigint('record_count', { mode: 'number' }).notNull().default(0),
    insertedCount: bigint('inserted_count', { mode: 'number' }).notNull().default(0),
    updatedCount: bigint('updated_count', { mode: 'number' }).notNull().default(0),
    errorCount: bigint('error_count', { mode: 'number' }).notNull().default(0),
    warningCount: bigint('warning_count', { mode: 'number' }).notNull().default(0),
    attempts: integer('attempts').notNull().default(0),
    createdAt: timestamps.createdAt,
    startedAt: timestamp('started_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    updatedAt: timestamps.updatedAt,
    /** The source's row estimate of a fully read table, taken when it started; null when unknown. */
    estimatedRecords: bigint('estimated_records', { mode: 'number' }),
  },
  (t) => [primaryKey({ columns: [t.executionId, t.schemaId] })],
);

export const consoleLogs = pgTable('console_logs', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  executionId: uuid('execution_id')
    .notNull()
    .references(() => executions.id, { onDelete: 'cascade' }),
  schemaId: text('schema_id'),
  level: text('level').$type<'info' | 'warn' | 'error'>().notNull(),
  message: text('message').notNull(),
  createdAt: timestamps.createdAt,
});

export const recordLogFiles = pgTable('record_log_files', {
  id: uuid('id').primaryKey().defaultRandom(),
  executionId: uuid('execution_id')
    .notNull()
    .references(() => executions.id, { onDelete: 'cascade' }),
  schemaId: text('schema_id'),
  type: text('type').$type<RecordLogType>().notNull(),
  filename: text('filename').notNull(),
  records: bigint('records', { mode: 'number' }).notNull().default(0),
  bytes: bigint('bytes', { mode: 'number' }).notNull().default(0),
  createdAt: timestamps.createdAt,
});

export type BulkSyncRow = typeof bulkSyncs.$inferSelect;
export type BulkSyncSchemaRow = typeof bulkSyncSchemas.$inferSelect;
export type ExecutionRow = typeof executions.$inferSelect;
export type SchemaExecutionRow = typeof schemaExecutions.$inferSelect;

/** A model field as the source describes the model's result. */
export interface ModelFieldInfo {
  name: string;
  remote_type: string;
  type: string;
  logical_type: LogicalType;
  nullable: boolean;
}

/**
 * The greatest values of a model's tracking columns (as the source prints them; null: none yet) when a
 * run of the sync started, for the model version and columns they were taken with.
 */
export interface TrackingMarks {
  modelVersion: number;
  columns: string[];
  marks: (string | null)[];
}

export const models = pgTable('models', {
  id: uuid('id').primaryKey().defaultRandom(),
  organizationId: uuid('organization_id')
    .notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  connectionId: uuid('connection_id')
    .notNull()
    .references(() => connections.id),
  name: text('name').notNull(),
  configuration: jsonb('configuration').$type<{ query?: string; table?: string }>().notNull(),
  fields: jsonb('fields').$type<ModelFieldInfo[]>().notNull().default([]),
  identifier: text('identifier'),
  labels: jsonb('labels').$type<string[]>().notNull().default([]),
  trackingColumns: jsonb('tracking_columns').$type<string[]>().notNull().default([]),
  version: integer('version').notNull().default(1),
  createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
  ...timestamps,
});

export type ModelSyncMode =
  | 'create'
  | 'update'
  | 'updateOrCreate'
  | 'replace'
  | 'append'
  | 'remove'
  | 'snapshot';

export interface ModelFieldRef {
  model_id: string;
  field: string;
}

export interface ModelSyncFieldConfig {
  source?: ModelFieldRef | undefined;
  override_value?: string | undefined;
  target: string;
}

export interface ModelSyncIdentityConfig {
  source: ModelFieldRef;
  target: string;
  function: string;
}

export interface ModelSyncFilterConfig {
  field: ModelFieldRef;
  function: string;
  value?: unknown;
  label?: string | undefined;
}

export interface ModelSyncOverrideConfig {
  field: ModelFieldRef;
  function: string;
  value?: unknown;
  override: unknown;
}

export const modelSyncs = pgTable('model_syncs', {
  id: uuid('id').primaryKey().defaultRandom(),
  organizationId: uuid('organization_id')
    .notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  modelId: uuid('model_id')
    .notNull()
    .references(() => models.id),
  targetConnectionId: uuid('target_connection_id')
    .notNull()
    .references(() => connections.id),
  targetObject: text('target_object').notNull(),
  targetConfiguration: jsonb('target_configuration').$type<Record<string, unknown>>().notNull().default({}),
  mode: text('mode').$type<ModelSyncMode>().notNull(),
  fields: jsonb('fields').$type<ModelSyncFieldConfig[]>().notNull().default([]),
  identity: jsonb('identity').$type<ModelSyncIdentityConfig | null>(),
  filters: jsonb('filters').$type<ModelSyncFilterConfig[]>().notNull().default([]),
  filterLogic: text('filter_logic'),
  overrides: jsonb('overrides').$type<ModelSyncOverrideConfig[]>().notNull().default([]),
  schedule: jsonb('schedule').$type<Record<string, unknown>>().notNull(),
  active: boolean('active').notNull().default(true),
  syncAllRecords: boolean('sync_all_records').notNull().default(false),
  trackingMarks: jsonb('tracking_marks').$type<TrackingMarks | null>(),
  /** `<connection id>/<object>` of the target the change detection state was last written for. */
  stateTarget: text('state_target'),
  createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
  ...timestamps,
});

export const modelExecutionDetails = pgTable('model_executions', {
  executionId: uuid('execution_id')
    .primaryKey()
    .references(() => executions.id, { onDelete: 'cascade' }),
  inserted: bigint('inserted', { mode: 'number' }).notNull().default(0),
  updated: bigint('updated', { mode: 'number' }).notNull().default(0),
  deleted: bigint('deleted', { mode: 'number' }).notNull().default(0),
  upserted: bigint('upserted', { mode: 'number' }).notNull().default(0),
  errors: jsonb('errors').$type<string[]>().notNull().default([]),
  identities: text('identities').array(),
  /** An append resync forgot the delivered hashes (once, at the run's first attempt that got there). */
  stateForgotten: boolean('state_forgotten').notNull().default(false),
});

export const modelSyncState = pgTable(
  'model_sync_state',
  {
    syncId: uuid('sync_id')
      .notNull()
      .references(() => modelSyncs.id, { onDelete: 'cascade' }),
    identity: text('identity').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [primaryKey({ columns: [t.syncId, t.identity] })],
);

export type ModelRow = typeof models.$inferSelect;
export type ModelSyncRow = typeof modelSyncs.$inferSelect;
export type ModelExecutionDetailsRow = typeof modelExecutionDetails.$inferSelect;
export const scheduleFires = pgTable(
  'schedule_fires',
  {
    syncKind: text('sync_kind').$type<'bulk' | 'model'>().notNull(),
    syncId: uuid('sync_id').notNull(),
    scheduleKey: text('schedule_key').notNull(),
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    executionId: uuid('execution_id'),
    started: boolean('started'),
    firedAt: timestamp('fired_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.syncId, t.scheduleKey, t.dueAt] })],
);

export const events = pgTable('events', {
  id: uuid('id').primaryKey().defaultRandom(),
  organizationId: uuid('organization_id')
    .notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  type: text('type').notNull(),
  syncKind: text('sync_kind').$type<'bulk' | 'model'>(),
  syncId: uuid('sync_id'),
  executionId: uuid('execution_id'),
  payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
  createdAt: timestamps.createdAt,
});

export const webhooks = pgTable('webhooks', {
  id: uuid('id').primaryKey().defaultRandom(),
  organizationId: uuid('organization_id')
    .notNull()
    .references(() => organizations.id, { onDelete: 'cascade' }),
  endpoint: text('endpoint').notNull(),
  secret: text('secret').notNull(),
  disabled: boolean('disabled').notNull().default(false),
  ...timestamps,
});

export const webhookDeliveries = pgTable('webhook_deliveries', {
  id: uuid('id').primaryKey().defaultRandom(),
  webhookId: uuid('webhook_id')
    .notNull()
    .references(() => webhooks.id, { onDelete: 'cascade' }),
  eventId: uuid('event_id')
    .notNull()
    .references(() => events.id, { onDelete: 'cascade' }),
  status: text('status').$type<'pending' | 'delivered' | 'failed'>().notNull(),
  attempts: integer('attempts').notNull().default(0),
  responseStatus: integer('response_status'),
  error: text('error'),
  ...timestamps,
  deliveredAt: timestamp('delivered_at', { withTimezone: true }),
});

export type EventRow = typeof events.$inferSelect;
export type WebhookRow = typeof webhooks.$inferSelect;
