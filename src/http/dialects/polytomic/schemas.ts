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
